#!/usr/bin/python3
"""Consent → health-information request → encrypted push → transfer notification, end to end.
The HIU side of the simulator decrypts with its own Python Fidelius (not linked to src/core)."""
import copy
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import HIP, ROOT, Env, anon_rss_kb, q, q1, RECORDS, record_input, restart_cluster, run, wait_until  # noqa: E402
import base64
import threading

ENV = None


def add_record(db, cc_ref, hi_type, patient_ref, recorded_at):
    rec = record_input(hi_type, patient_ref, recorded_at)
    q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
             VALUES (%s, %s, %s, %s, abdm_hip.fhir_document(%s, %s::jsonb))""",
      HIP, cc_ref, hi_type, recorded_at, hi_type, json.dumps(rec))


def stored_bundles(db, refs_and_types):
    """bundle::text of the records expected to leave, keyed by (care context, recorded_at)."""
    return sorted(r["b"] for r in q(db, """
        SELECT bundle::text AS b FROM abdm_hip.health_record
        WHERE (care_context_ref, hi_type, recorded_at) IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::timestamptz[]))""",
        [x[0] for x in refs_and_types], [x[1] for x in refs_and_types], [x[2] for x in refs_and_types]))


class TransferBase(unittest.TestCase):
    ABHA = "meera.r@sbx"

    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c
        db = self.db
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile)
                 VALUES (%s, 'T-1', 'Meera Rao', 'F', '1984-02-01', '9811111111')""", HIP)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at) VALUES
                 (%s, 'T-1', 'OPD-A', 'OPD visit 10 Mar 2024', '{Prescription,OPConsultation}', '2024-03-10'),
                 (%s, 'T-1', 'LAB-B', 'Lab tests 31 Mar 2024', '{DiagnosticReport}', '2024-03-31'),
                 (%s, 'T-1', 'OPD-C', 'OPD visit 12 Mar 2024', '{Prescription}', '2024-03-12'),
                 (%s, 'T-1', 'OPD-D', 'OPD visit 15 Mar 2024', '{Prescription}', '2024-03-15')""", HIP, HIP, HIP, HIP)
        add_record(db, "OPD-A", "Prescription", "T-1", "2024-03-10T10:00:00Z")        # sent
        add_record(db, "OPD-A", "OPConsultation", "T-1", "2024-03-10T10:00:00Z")      # type not consented
        add_record(db, "LAB-B", "DiagnosticReport", "T-1", "2024-03-31T23:59:59Z")    # just inside the range
        add_record(db, "LAB-B", "DiagnosticReport", "T-1", "2024-04-01T00:00:01Z")    # just outside
        add_record(db, "OPD-C", "Prescription", "T-1", "2024-03-12T09:00:00Z")        # care context not consented
        # OPD-D is consented but has no record: it must be reported, not skipped.

    def grant(self, **extra):
        params = dict(hipId=HIP, abhaAddress=self.ABHA,
                      careContexts=[{"patientReference": "T-1", "careContextReference": r} for r in ("OPD-A", "LAB-B", "OPD-D")],
                      hiTypes=["Prescription", "DiagnosticReport"],
                      dateRange={"from": "2024-01-01T00:00:00.000Z", "to": "2024-12-31T23:59:59.000Z"})
        params.update(extra)
        g = self.c.consent_notify(**params)
        self.assertEqual(g["delivery"]["status"], 202, g["delivery"])
        ENV.wait_sent("consent_on_notify")
        return g["consentId"]

    def request(self, consent_id, **extra):
        params = dict(consentId=consent_id,
                      dateRange={"from": "2024-03-01T00:00:00.000Z", "to": "2024-03-31T23:59:59.999Z"})
        params.update(extra)
        r = self.c.hi_request(**params)
        self.assertEqual(r["delivery"]["status"], 202, r["delivery"])
        return r["transactionId"]

    def push_under_way(self, hang_ms):
        """A granted request whose first push the HIU holds for hang_ms; returns its transaction
        once the worker is pushing."""
        cid = self.grant()
        self.c.add_fault("/hiu/data-push", delay_ms=hang_ms, times=1)
        txn = self.request(cid)
        wait_until(lambda: q1(self.db, "SELECT status FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)["status"]
                   == "transferring", what="transfer under way")
        time.sleep(0.5)
        return txn

    def notification(self, txn):
        n = wait_until(lambda: [x for x in self.c.requests(route="hi-notify")
                                if x["body"]["notification"]["transactionId"] == txn], what="hi-notify")[0]
        st = n["body"]["notification"]["statusNotification"]
        return st["sessionStatus"], {s["careContextReference"]: s["hiStatus"] for s in st["statusResponses"]}



class Transfer(TransferBase):
    def test_round_trip_sends_exactly_the_consented_records_byte_for_byte(self):
        txn = self.request(self.grant())
        t = self.c.wait_for_transfer(txn, pushes=2)
        # One record per page (abdm_hip.push_entries_per_page = 1), each page its own key pair and nonce.
        self.assertEqual(t["summary"]["pushes"], 2)
        self.assertTrue(all(e["ok"] and e["checksumOk"] for e in t["entries"]), t["entries"])
        got = sorted(e["plaintext"] for e in self.c.hiu_transfer(txn, plaintext=True)["entries"])
        want = stored_bundles(self.db, [("OPD-A", "Prescription", "2024-03-10T10:00:00Z"),
                                        ("LAB-B", "DiagnosticReport", "2024-03-31T23:59:59Z")])
        self.assertEqual(len(got), 2)
        self.assertEqual(got, want, "decrypted bundles equal the stored ones")
        self.assertEqual(sorted((p["pageNumber"], p["pageCount"], p["entryCount"]) for p in t["pushes"]),
                         [(1, 2, 1), (2, 2, 1)])
        self.assertEqual(len({p["senderPublicKey"] for p in t["pushes"]}), 2, "a key pair per page")
        self.assertEqual(len({p["senderNonce"] for p in t["pushes"]}), 2, "a nonce per page")
        self.assertTrue(all(p["keyEncoding"] == "x509" for p in t["pushes"]), "the HIP's key goes out X.509-encoded")
        # The HIU's own page checks (test/sim/hiu_pages.py).
        self.assertEqual((t["pageCount"], t["pagesReceived"], t["missingPages"]), (2, [1, 2], []))
        self.assertTrue(t["complete"] and t["allOk"], t["pageProblems"])
        self.assertEqual(t["keyIvReuse"], [], "no AES-GCM (key, IV) pair encrypted two entries")
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "TRANSFERRED")
        self.assertEqual(per_cc, {"OPD-A": "DELIVERED", "LAB-B": "DELIVERED", "OPD-D": "ERRORED"})
        ack = self.c.requests(route="hi-on-request")[0]["body"]
        self.assertEqual(ack["hiRequest"]["sessionStatus"], "ACKNOWLEDGED")
        rows = q(self.db, "SELECT care_context_ref, care_context_status, entries FROM abdm_hip.transfer_status "
                          "WHERE transaction_id = %s ORDER BY 1", txn)
        self.assertEqual([(r["care_context_ref"], r["care_context_status"], r["entries"]) for r in rows],
                         [("LAB-B", "delivered", 1), ("OPD-A", "delivered", 1), ("OPD-D", "errored", 0)])

    def test_raw_and_x509_hiu_keys_both_work(self):
        cid = self.grant()
        txn = self.request(cid, keyEncoding="x509")
        t = self.c.wait_for_transfer(txn)
        self.assertTrue(all(e["ok"] for e in t["entries"]))
        self.assertEqual(len(t["entries"]), 2)

    def test_revoked_consent_is_refused_and_nothing_is_pushed(self):
        cid = self.grant()
        r = self.c.consent_notify(status="REVOKED", consentId=cid, hipId=HIP)
        self.assertEqual(r["delivery"]["status"], 202)
        self.assertIsNone(q1(self.db, "SELECT artefact FROM abdm_hip.consent WHERE consent_id = %s", cid)["artefact"],
                          "the artefact is deleted on revocation")
        txn = self.request(cid)
        ack = wait_until(lambda: self.c.requests(route="hi-on-request"), what="on-request")[0]["body"]
        self.assertEqual(ack["error"]["code"], "ABDM-1062")
        self.assertEqual(ack["hiRequest"]["sessionStatus"], "ERRORED")
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "FAILED")
        time.sleep(0.5)
        self.assertEqual(self.c.hiu_transfer(txn)["summary"]["pushes"], 0)

    def test_unknown_consent_and_expired_key_are_refused(self):
        cid = self.grant()
        self.request("0d6c4c5e-4b7e-4f1e-9a11-000000000000")
        self.request(cid, keyExpiresIn=-60)
        self.request(cid, dateRange={"from": "2023-06-01T00:00:00.000Z", "to": "2024-03-31T00:00:00.000Z"})
        acks = wait_until(lambda: (lambda a: a if len(a) == 3 else None)(self.c.requests(route="hi-on-request")),
                          what="three answers")
        codes = sorted(a["body"]["error"]["code"] for a in acks)
        self.assertEqual(codes, ["ABDM-1001", "ABDM-1063", "ABDM-9999"])

    def test_hiu_down_then_up_is_retried(self):
        cid = self.grant()
        self.c.hiu_down()
        txn = self.request(cid)
        wait_until(lambda: q1(self.db, "SELECT attempts FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)["attempts"] >= 1
                   and q1(self.db, "SELECT error FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)["error"],
                   what="a failed push attempt")
        self.c.hiu_up()
        t = self.c.wait_for_transfer(txn, pushes=2, timeout=90)
        self.assertEqual(t["summary"]["pushes"], 2)
        self.assertTrue(t["allOk"], t["pageProblems"])
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")

    def test_hiu_4xx_fails_the_transfer(self):
        cid = self.grant()
        self.c.add_fault("/hiu/data-push", status=400)
        txn = self.request(cid)
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "FAILED")
        self.assertEqual(set(per_cc.values()), {"ERRORED"})
        row = q1(self.db, "SELECT status, error FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)
        self.assertEqual(row["status"], "failed")
        self.assertIn("400", row["error"])

    def test_same_transaction_asked_twice_is_answered_not_repeated(self):
        cid = self.grant()
        txn = self.request(cid)
        self.c.wait_for_transfer(txn)
        self.request(cid, transactionId=txn)
        wait_until(lambda: len(self.c.requests(route="hi-on-request")) == 2, what="second answer")
        time.sleep(0.5)
        # (The simulator starts a new HIU record for a re-sent transaction, so count the POSTs.)
        self.assertEqual(len([r for r in self.c.requests(server="hiu") if r["method"] == "POST"]), 2,
                         "each of the two pages pushed once")
        self.assertEqual(len(self.c.requests(route="hi-notify")), 1, "notified once")


class TransferResilience(TransferBase):
    """Restarts and large transfers (separate class: these take longer)."""

    def test_restart_after_confirmed_delivery_does_not_push_again(self):
        cid = self.grant()
        # The notification is refused twice, so it is still queued when the server restarts.
        self.c.add_fault("/data-flow/v3/health-information/notify", status=503, times=2)
        txn = self.request(cid)
        wait_until(lambda: q1(self.db, "SELECT status FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)["status"]
                   == "transferred", what="delivery recorded")
        restart_cluster()
        ENV.reconnect()
        self.db = ENV.db
        session, _ = self.notification(txn)
        wait_until(lambda: [r for r in self.c.requests(route="hi-notify") if r["status"] == 202], timeout=60,
                   what="notify accepted")
        time.sleep(1.0)
        self.assertEqual(session, "TRANSFERRED")
        pushes = [r for r in self.c.requests(server="hiu") if r["method"] == "POST"]
        self.assertEqual(len(pushes), 2, "no page pushed again after a confirmed delivery")
        self.assertEqual(len([r for r in self.c.requests(route="hi-notify") if r["status"] == 202]), 1)

    def test_restart_during_push_completes_once(self):
        txn = self.push_under_way(hang_ms=3000)
        restart_cluster()
        ENV.reconnect()
        self.db = ENV.db
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "TRANSFERRED")
        time.sleep(1.0)
        self.assertEqual(len([r for r in self.c.requests(route="hi-notify")]), 1, "notified once")
        row = q1(self.db, "SELECT status, attempts FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)
        self.assertEqual(row["status"], "transferred")
        self.assertGreaterEqual(row["attempts"], 2, "the interrupted attempt was repeated")

    def test_a_killed_worker_mid_push_is_replaced_and_the_transfer_completes(self):
        # SIGKILL: no clean-up at all (the postmaster resets every backend). The request stays
        # leased for ten minutes unless the next worker releases it at start, which it does.
        txn = self.push_under_way(hang_ms=20000)
        pid = q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip transfer'")["pid"]
        os.kill(pid, 9)
        time.sleep(1.0)
        ENV.reconnect()
        self.db = ENV.db
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "TRANSFERRED")
        row = q1(self.db, "SELECT status, attempts, lease_until FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)
        self.assertEqual((row["status"], row["lease_until"]), ("transferred", None))
        self.assertGreaterEqual(row["attempts"], 2, "the killed attempt was repeated")

    def test_a_terminated_worker_comes_back_and_clears_orphaned_spools(self):
        # A worker that died mid-push leaves its spool file (ciphertext) behind; the next start
        # removes it. pg_terminate_backend() restarts the worker rather than ending it for good.
        datadir = q1(self.db, "SELECT current_setting('data_directory') AS d")["d"]
        orphan = os.path.join(datadir, "pg_abdm_push_00000000-0000-4000-8000-000000000000.json")
        with open(orphan, "w") as f:
            f.write('{"entries": "ciphertext of a push that never finished"}')
        def worker_pid():
            row = q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip transfer'")
            return row["pid"] if row else None
        old = worker_pid()
        q(self.db, "SELECT pg_terminate_backend(%s)", old)
        wait_until(lambda: worker_pid() not in (None, old), timeout=30, what="a new transfer worker")
        wait_until(lambda: not os.path.exists(orphan), timeout=10, what="the orphaned spool removed")
        # And it transfers as before.
        session, _ = self.notification(self.request(self.grant()))
        self.assertEqual(session, "TRANSFERRED")

    def test_50_mb_transfer_with_bounded_worker_memory(self):
        rec = json.load(open(os.path.join(RECORDS, "HealthDocumentRecord.json")))
        rec["patient"]["ref"] = "T-1"
        rec["attachments"] = rec["attachments"][:1]
        rec["attachments"][0]["data"] = base64.b64encode(b"%PDF-1.4\n" + os.urandom(1_500_000)).decode()  # 2 MB base64
        q(self.db, "UPDATE abdm_hip.care_context SET hi_types = hi_types || '{HealthDocumentRecord}' WHERE reference = 'OPD-D'")
        for i in range(25):
            rec["document"]["date"] = f"2024-03-15T10:{i:02d}:00Z"
            q(self.db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                          VALUES (%s, 'OPD-D', 'HealthDocumentRecord', %s, abdm_hip.fhir_document('HealthDocumentRecord', %s::jsonb))""",
              HIP, rec["document"]["date"], json.dumps(rec))
        cid = self.grant(hiTypes=["HealthDocumentRecord"])
        pid = q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip transfer'")["pid"]
        base = anon_rss_kb(pid)
        peak = [base]
        longest_xact = [0.0]  # the longest-lived transaction of the worker seen while it worked
        done = threading.Event()
        watcher = ENV.connect_another()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], anon_rss_kb(pid))
                age = q1(watcher, "SELECT extract(epoch FROM clock_timestamp() - xact_start) AS s "
                                  "FROM pg_stat_activity WHERE pid = %s", pid)
                if age and age["s"] is not None:
                    longest_xact[0] = max(longest_xact[0], float(age["s"]))
                time.sleep(0.01)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        txn = self.request(cid)
        t = self.c.wait_for_transfer(txn, timeout=180)
        done.set()
        sampler.join()
        watcher.close()
        self.assertEqual(t["summary"]["entries"], 25)
        self.assertEqual(t["summary"]["failed"], 0)
        self.assertEqual((t["pageCount"], t["allOk"], t["keyIvReuse"]), (25, True, []))
        self.assertGreater(t["summary"]["plaintextBytes"], 50_000_000)
        grew_mb = (peak[0] - base) / 1024
        print(f"    50 MB transfer: worker private memory {base / 1024:.0f} MB → peak {peak[0] / 1024:.0f} MB "
              f"(+{grew_mb:.0f} MB), {t['summary']['requestToNotifyMs']:.0f} ms to notify")
        # Holding the transfer would take ~120 MB (50 MB of bundles + their ciphertext); one bundle at
        # a time is a handful of copies of one 2 MB bundle (row, text rendering, ciphertext).
        self.assertLess(grew_mb, 40, "one bundle at a time, never the whole transfer")
        # Each bundle is read in a short transaction of its own; encryption and the push happen
        # outside any (the whole transfer takes seconds; one transaction around it would show here).
        print(f"    longest transaction of the worker seen: {longest_xact[0] * 1000:.0f} ms")
        self.assertGreater(t["summary"]["requestToNotifyMs"], 1000, "long enough for the check to mean something")
        self.assertLess(longest_xact[0], 0.5, "no transaction stays open while the worker encrypts")


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
