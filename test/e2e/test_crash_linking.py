#!/usr/bin/python3
"""Nothing lost when callbacks are lost: the scenario of issue 15. 200 patients with an ABHA
address and a care context each are inserted, and while they are being linked a worker is killed
with SIGKILL four times (each time PostgreSQL restarts every process). Callbacks the simulator
sends during a restart meet the gate's 503 or a closed port, and the simulator does not deliver
them again (the real gateway does not promise to). Every care context must end linked, by the
callback deadlines' re-sends, and no call may be sent again once its answer was recorded.

Figures printed: kills, callbacks not accepted, re-sends, lost (must be 0)."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import HIP, Env, _try_connect, postmaster_child, q, q1, reset_settings, run, set_settings, wait_until  # noqa: E402

PATIENTS = int(os.environ.get("ABDM_CRASH_PATIENTS", "200"))
KILLS = 4
SETTINGS = {
    "abdm_hip.answer_deadline_generate_token": "3s",
    "abdm_hip.answer_deadline_link_carecontext": "3s",
    "abdm_hip.link_token_duplicate_window": "3s",
    "abdm_hip.answer_max_resends": "10",
}


class CrashWhileLinking(unittest.TestCase):
    def test_every_care_context_linked_after_four_crashes(self):
        env = Env(callback_delay_ms=150)
        try:
            env.fresh()
            db, c = env.db, env.c
            set_settings(db, SETTINGS)
            c.set_config(generate_token_dup_window_s=2, generate_token_daily_limit=1000)
            time.sleep(0.3)
            q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile, abha_address)
                     SELECT %s, 'CR-' || g, 'Patient ' || g, 'F', 1980, (9700000000 + g)::text, 'crash.p' || g || '@sbx'
                     FROM generate_series(1, %s) g""", HIP, PATIENTS)
            q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                     SELECT %s, 'CR-' || g, 'CR-CC-' || g, 'Visit', '{Prescription}' FROM generate_series(1, %s) g""",
              HIP, PATIENTS)
            db.close()
            for i in range(KILLS):
                time.sleep(0.7)
                pid = postmaster_child("abdm_hip sender") or postmaster_child("abdm_hip bridge")
                self.assertIsNotNone(pid, "a worker to kill")
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
                db = wait_until(_try_connect, timeout=60, what="the server after the crash")
                if i < KILLS - 1:
                    db.close()
            env.db = db

            def linked():
                return q1(db, """SELECT count(*) AS n FROM abdm_hip.care_context_link
                                 WHERE care_context_ref LIKE 'CR-CC-%%' AND status = 'linked'""")["n"]
            wait_until(lambda: linked() == PATIENTS, timeout=240, interval=0.5, what=f"all {PATIENTS} linked")

            deliveries = c.deliveries()
            refused = [d for d in deliveries if d.get("status") is None or not 200 <= d["status"] < 300]
            causes = {}
            for d in refused:
                cause = (d.get("error") or f"HTTP {d.get('status')}").split(":")[0]
                causes[cause] = causes.get(cause, 0) + 1
            resends = q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE resends > 0")["n"]
            # No call was sent again after the answer to its chain had been recorded.
            late = q1(db, """SELECT count(*) AS n FROM abdm_hip.outbox n
                             JOIN abdm_hip.outbox p ON p.request_id = n.resent_from
                             WHERE p.answered_at IS NOT NULL AND p.answered_at < n.created_at""")["n"]
            states = q(db, "SELECT link_status, count(*) AS n FROM abdm_hip.link_activity GROUP BY 1")
            print(f"crash while linking: {PATIENTS} care contexts, {KILLS} kills, {len(refused)} callbacks "
                  f"not accepted ({causes}), {resends} re-sends, lost {PATIENTS - linked()}, "
                  f"sent again after an answer {late}; {states}", file=sys.stderr)
            self.assertEqual(late, 0)
            self.assertEqual(q(db, "SELECT * FROM abdm_hip.awaiting_answer WHERE answer = 'no_answer'"), [])
            reset_settings(db, SETTINGS)
        finally:
            env.close()


if __name__ == "__main__":
    sys.exit(run())
