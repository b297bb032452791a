#!/usr/bin/python3
"""Crash safety with everything in flight: health-information requests being packaged and pushed
and patients being linked while each worker is killed with SIGKILL in turn (sender, transfer,
listener; each time PostgreSQL restarts every process), then PostgreSQL itself is stopped with an
immediate shutdown and started again; meanwhile the gateway and the HIU reset 5 % of the
connections before answering and cut off 5 % of their answers halfway (the call was taken, the
HIP cannot know it). Afterwards every link and every transfer is complete, and nothing was pushed or
notified again after its delivery had been confirmed (recorded by the HIP): the simulator's log
of what it accepted is compared with the HIP's record of when it learnt each call had gone.

Size: ABDM_CRASH_REQUESTS health-information requests (default 40) and ABDM_CRASH_LINKS patients
to link (default 200); the issue's full size is ABDM_CRASH_REQUESTS=1000 ABDM_CRASH_LINKS=5000
ABDM_CRASH_DEADLINE=60s, run by hand on a cluster from test/lib/cluster.sh."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import HIP, ROOT, Env, _try_connect, postmaster_child, q, q1, reset_settings, run, set_settings, wait_until  # noqa: E402

REQUESTS = int(os.environ.get("ABDM_CRASH_REQUESTS", "40"))
LINKS = int(os.environ.get("ABDM_CRASH_LINKS", "200"))
RECORD = os.path.join(ROOT, "test", "data", "fhir", "records", "Prescription.json")
# Callback deadlines short enough for the test to be quick, long enough for the simulator to call
# back under this load (ABDM_CRASH_DEADLINE; the full size needs about a minute).
DEADLINE = os.environ.get("ABDM_CRASH_DEADLINE", "3s")
SETTINGS = {"abdm_hip.answer_deadline_generate_token": DEADLINE, "abdm_hip.answer_deadline_link_carecontext": DEADLINE,
            "abdm_hip.link_token_duplicate_window": "3s", "abdm_hip.answer_max_resends": "10"}
RANGE = {"from": "2024-01-01T00:00:00.000Z", "to": "2024-12-31T23:59:59.000Z"}


def pg(*args):
    subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/cluster.sh && abdm_as_pg \"$(abdm_pgbin)/pg_ctl\" "
                    f"-D \"$PGDATA\" -l \"$PGDATA/server.log\" -w -t 60 {' '.join(args)} >/dev/null"], check=True)


class CrashRecovery(unittest.TestCase):
    def test_kill_each_worker_then_an_immediate_shutdown(self):
        env = Env(callback_delay_ms=100, generate_token_dup_window_s=2, generate_token_daily_limit=100000)
        try:
            env.fresh()
            db, c = env.db, env.c
            set_settings(db, SETTINGS)
            with open(RECORD) as f:
                record = json.load(f)
            # The patients whose records are asked for (no ABHA address: they are not linked here).
            q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
                     SELECT %s, 'HR-' || g, 'Patient ' || g, 'M', 1975, (9500000000 + g)::text FROM generate_series(1, %s) g""",
              HIP, REQUESTS)
            q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
                     SELECT %s, 'HR-' || g, 'HR-CC-' || g, 'OPD visit', '{Prescription}', '2024-05-20', false
                     FROM generate_series(1, %s) g""", HIP, REQUESTS)
            for i in range(1, REQUESTS + 1):
                rec = dict(record, patient=dict(record["patient"], ref=f"HR-{i}"))
                q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                         VALUES (%s, %s, 'Prescription', '2024-05-20T10:00:00Z', abdm_hip.fhir_document('Prescription', %s::jsonb))""",
                  HIP, f"HR-CC-{i}", json.dumps(rec))
            consents = [c.consent_notify(hipId=HIP, abhaAddress=f"hr.p{i}@sbx", hiTypes=["Prescription"], dateRange=RANGE,
                                         careContexts=[{"patientReference": f"HR-{i}", "careContextReference": f"HR-CC-{i}"}]
                                         )["consentId"] for i in range(1, REQUESTS + 1)]
            wait_until(lambda: q1(db, "SELECT count(*) AS n FROM abdm_hip.consent")["n"] == REQUESTS, what="consents stored")

            c.add_fault("*", drop=True, probability=0.05, seed=11, note="connections reset")
            c.add_fault("*", cut_response=True, probability=0.05, seed=12, note="answers cut off halfway")
            # Everything at once: the patients to link, then the requests.
            q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile, abha_address)
                     SELECT %s, 'LR-' || g, 'Patient ' || g, 'F', 1980, (9400000000 + g)::text, 'recover.p' || g || '@sbx'
                     FROM generate_series(1, %s) g""", HIP, LINKS)
            q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                     SELECT %s, 'LR-' || g, 'LR-CC-' || g, 'Visit', '{Prescription}' FROM generate_series(1, %s) g""", HIP, LINKS)
            for cid in consents:
                c.hi_request(consentId=cid, dateRange=RANGE)
            db.close()

            crashes = []
            for worker in ("abdm_hip sender", "abdm_hip transfer", "abdm_hip bridge"):
                time.sleep(0.8)
                pid = postmaster_child(worker)
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    crashes.append(worker)
                time.sleep(0.2)
                wait_until(lambda: (lambda d: d and (d.close() or True))(_try_connect()), timeout=60,
                           what="the server after the crash")
            time.sleep(0.8)
            pg("stop", "-m", "immediate")
            pg("start")
            db = wait_until(_try_connect, timeout=60, what="the server after the immediate shutdown")
            env.db = db

            def state():
                return q1(db, """SELECT
                    (SELECT count(*) FROM abdm_hip.care_context_link WHERE status = 'linked' AND care_context_ref LIKE 'LR-%%') AS linked,
                    (SELECT count(*) FROM abdm_hip.hi_request WHERE status = 'transferred') AS transferred,
                    (SELECT count(*) FROM abdm_hip.outbox WHERE status = 'pending') AS pending""")
            wait_until(lambda: (lambda s: s["linked"] == LINKS and s["transferred"] == REQUESTS and s["pending"] == 0)(state()),
                       timeout=max(300, LINKS // 3), interval=1, what="every link and transfer complete")
            c.clear_faults()

            # Nothing accepted again after the HIP recorded it as delivered: gateway calls by REQUEST-ID
            # against outbox.sent_at, pushes by transaction against the transfer's finished_at.
            sent_at = {str(r["request_id"]): r["sent_at"].timestamp()
                       for r in q(db, "SELECT request_id, sent_at FROM abdm_hip.outbox WHERE status = 'sent'")}
            late_calls = 0
            for r in c.requests():
                rid = next((v for k, v in (r.get("headers") or {}).items() if k.lower() == "request-id"), None)
                if rid in sent_at and r.get("status") and 200 <= r["status"] < 300 and r["time"] > sent_at[rid] + 0.001:
                    late_calls += 1
            finished = {str(r["transaction_id"]): r["t"].timestamp() for r in q(db, """
                SELECT transaction_id, max(finished_at) AS t FROM abdm_hip.transfer WHERE status = 'delivered' GROUP BY 1""")}
            late_pushes = 0
            pushes = 0
            for txn, t in finished.items():
                for p in c.hiu_transfer(txn, plaintext=False)["pushes"]:
                    pushes += 1
                    late_pushes += p["receivedAt"] > t + 0.001
            failed = q(db, "SELECT kind, last_error FROM abdm_hip.outbox WHERE status = 'failed'")
            resends = q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE resends > 0")["n"]
            print(f"crash recovery: {LINKS} links, {REQUESTS} transfers, crashes {crashes} + an immediate shutdown, "
                  f"5 % of connections reset, 5 % of answers cut off; {pushes} pushes for {len(finished)} transfers, {resends} re-sent calls, "
                  f"accepted again after a confirmed delivery: {late_calls} calls, {late_pushes} pushes; failed {len(failed)}",
                  file=sys.stderr)
            self.assertEqual(len(crashes), 3)
            self.assertEqual((late_calls, late_pushes), (0, 0))
            self.assertEqual(failed, [])
            reset_settings(db, SETTINGS)
        finally:
            env.close()


if __name__ == "__main__":
    sys.exit(run())
