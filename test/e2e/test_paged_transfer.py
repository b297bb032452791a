#!/usr/bin/python3
"""Paged and concurrent transfers (issue 16): each page its own push with its own key pair and
nonce, so no AES-GCM (key, IV) pair is used twice; pages retried and failed one by one; a restart
resumes at the first unpushed page; pushes of different requests overlap. The (key, IV) of every
entry is derived here from the HIU's key pair and each page's key material, with the simulator's
Python Fidelius (independent of src/core)."""
import base64
import json
import os
import sys
import time
import unittest

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
from harness import HIP, ROOT, Env, q, q1, reset_settings, restart_cluster, run, set_settings, wait_until  # noqa: E402
import fidelius_py  # noqa: E402

ENV = None
RECORDS = os.path.join(ROOT, "test", "data", "fhir", "records")
SETTINGS = ("abdm_hip.push_entries_per_page", "abdm_hip.push_page_max_size", "abdm_hip.transfer_concurrency")


def prescription(patient_ref, date, note=""):
    with open(os.path.join(RECORDS, "Prescription.json")) as f:
        rec = json.load(f)
    rec["patient"]["ref"] = patient_ref
    rec["document"]["date"] = date
    rec["document"].pop("id", None)
    if note:
        rec["document"]["title"] = note
    return rec


class PagedBase(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c
        reset_settings(self.db, SETTINGS)

    def tearDown(self):
        reset_settings(ENV.db, SETTINGS)

    def patient(self, ref, contexts, records_each=1, big_note=""):
        """A patient with `contexts` care contexts of one or more Prescription records each."""
        db = self.db
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date)
                 VALUES (%s, %s, 'Asha Paged', 'F', '1980-05-05')""", HIP, ref)
        for i in range(1, contexts + 1):
            q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
                     VALUES (%s, %s, %s, %s, '{Prescription}', %s)""",
              HIP, ref, f"{ref}-{i:02d}", f"Visit {i}", f"2024-03-{i:02d}")
            for k in range(records_each):
                date = f"2024-03-{i:02d}T1{k}:00:00Z"
                q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                         VALUES (%s, %s, 'Prescription', %s, abdm_hip.fhir_document('Prescription', %s::jsonb))""",
                  HIP, f"{ref}-{i:02d}", date, json.dumps(prescription(ref, date, big_note)))
        return [f"{ref}-{i:02d}" for i in range(1, contexts + 1)]

    def grant(self, ref, contexts):
        g = self.c.consent_notify(hipId=HIP, abhaAddress=f"{ref.lower()}@sbx", hiTypes=["Prescription"],
                                  careContexts=[{"patientReference": ref, "careContextReference": c} for c in contexts],
                                  dateRange={"from": "2024-01-01T00:00:00.000Z", "to": "2024-12-31T23:59:59.000Z"})
        self.assertEqual(g["delivery"]["status"], 202, g["delivery"])
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.consent WHERE consent_id = %s",
                              g["consentId"])["n"] == 1, what="consent stored")
        return g["consentId"]

    def request(self, consent_id):
        r = self.c.hi_request(consentId=consent_id,
                              dateRange={"from": "2024-03-01T00:00:00.000Z", "to": "2024-03-31T23:59:59.999Z"})
        self.assertEqual(r["delivery"]["status"], 202, r["delivery"])
        return r["transactionId"]

    def notification(self, txn, timeout=60):
        n = wait_until(lambda: [x for x in self.c.requests(route="hi-notify")
                                if x["body"]["notification"]["transactionId"] == txn], timeout=timeout,
                       what="hi-notify")[0]
        st = n["body"]["notification"]["statusNotification"]
        return st["sessionStatus"], {s["careContextReference"]: s["hiStatus"] for s in st["statusResponses"]}

    def key_iv_pairs(self, t):
        """(AES key, IV) of every entry the HIU received, derived from the HIU's private key and
        nonce and the page's own key material."""
        hiu = t["hiuKeys"]
        pairs = []
        for p in t["pushes"]:
            k = fidelius_py.derive(hiu["privateKey"], p["senderPublicKey"], p["senderNonce"], hiu["nonce"])
            pairs += [(k["aesKey"], k["iv"])] * p["entryCount"]
        return pairs

    def posts(self, txn=None):
        return [r for r in self.c.requests(server="hiu") if r["method"] == "POST"
                and (txn is None or r["body"]["transactionId"] == txn)]


class Paging(PagedBase):
    def test_one_record_per_page_by_default_and_no_key_iv_pair_used_twice(self):
        refs = self.patient("PG-1", 6, records_each=2)
        txn = self.request(self.grant("PG-1", refs))
        t = self.c.wait_for_transfer(txn, pushes=12)
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        self.assertEqual(t["summary"]["entries"], 12)
        self.assertEqual(t["summary"]["ok"], 12, "every entry decrypts and matches its checksum")
        self.assertEqual(sorted(p["pageNumber"] for p in t["pushes"]), list(range(1, 13)))
        self.assertEqual({p["pageCount"] for p in t["pushes"]}, {12})
        self.assertEqual({p["entryCount"] for p in t["pushes"]}, {1})
        pairs = self.key_iv_pairs(t)
        self.assertEqual(len(pairs), 12)
        self.assertEqual(len(set(pairs)), 12, "no two entries share an AES-GCM key and IV")
        self.assertEqual(len({iv for _, iv in pairs}), 12)
        # The same from the HIU's own page checks (test/sim/hiu_pages.py).
        self.assertEqual((t["pageCount"], t["pagesReceived"], t["missingPages"]), (12, list(range(1, 13)), []))
        self.assertTrue(t["complete"] and t["allOk"], t["pageProblems"])
        self.assertEqual((t["keyIvPairs"], t["keyIvReuse"]), (12, []))
        self.assertNotIn(txn, [x["transactionId"] for x in self.c.hiu_key_iv_reuse()["transfers"]])
        view = q(self.db, "SELECT page_number, page_count, status, records, entries, entries_share_key "
                          "FROM abdm_hip.transfer_pages WHERE transaction_id = %s ORDER BY page_number", txn)
        self.assertEqual([(r["page_number"], r["page_count"], r["status"], r["records"], r["entries"],
                           r["entries_share_key"]) for r in view],
                         [(n, 12, "pushed", 1, 1, False) for n in range(1, 13)])
        st = q1(self.db, "SELECT DISTINCT pages, pages_pushed, entries_per_page, warning FROM abdm_hip.transfer_status "
                         "WHERE transaction_id = %s", txn)
        self.assertEqual((st["pages"], st["pages_pushed"], st["entries_per_page"], st["warning"]), (12, 12, 1, None))

    def test_more_entries_per_page_share_a_key_and_the_operator_is_told(self):
        set_settings(self.db, {"abdm_hip.push_entries_per_page": "4"})
        refs = self.patient("PG-2", 10)
        txn = self.request(self.grant("PG-2", refs))
        t = self.c.wait_for_transfer(txn, pushes=3)
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        self.assertEqual(sorted((p["pageNumber"], p["entryCount"]) for p in t["pushes"]), [(1, 4), (2, 4), (3, 2)])
        self.assertEqual(t["summary"]["ok"], 10)
        pairs = self.key_iv_pairs(t)
        self.assertEqual(len(set(pairs)), 3, "one (key, IV) per page: shared by the entries of a page")
        # The documented trade-off, seen by the HIU: each page's pair served every entry on it.
        self.assertTrue(t["complete"] and t["allOk"], t["pageProblems"])
        self.assertEqual(sorted((g["pages"], g["distinctEntries"]) for g in t["keyIvReuse"]),
                         [([1], 4), ([2], 4), ([3], 2)])
        self.assertIn(txn, [x["transactionId"] for x in self.c.hiu_key_iv_reuse()["transfers"]])
        st = q1(self.db, "SELECT DISTINCT entries_per_page, warning FROM abdm_hip.transfer_status WHERE transaction_id = %s", txn)
        self.assertEqual(st["entries_per_page"], 4)
        self.assertIn("share an AES-GCM key and IV", st["warning"])
        shared = q(self.db, "SELECT entries_share_key FROM abdm_hip.transfer_pages WHERE transaction_id = %s "
                            "ORDER BY page_number", txn)
        self.assertEqual([r["entries_share_key"] for r in shared], [True, True, True])

    def test_a_record_over_the_page_size_goes_alone(self):
        set_settings(self.db, {"abdm_hip.push_entries_per_page": "10", "abdm_hip.push_page_max_size": "64kB"})
        refs = self.patient("PG-3", 3)
        # One large record in the middle care context: a title of random text, ~130 kB stored even
        # after PostgreSQL's compression (the limit is on the stored size).
        date = "2024-03-02T18:00:00Z"
        q(self.db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                      VALUES (%s, 'PG-3-02', 'Prescription', %s, abdm_hip.fhir_document('Prescription', %s::jsonb))""",
          HIP, date, json.dumps(prescription("PG-3", date, base64.b64encode(os.urandom(100_000)).decode())))
        log_from = os.path.getsize(os.path.join(os.environ["PGDATA"], "server.log"))
        txn = self.request(self.grant("PG-3", refs))
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        pages = q(self.db, "SELECT page_number, records, oversized FROM abdm_hip.transfer_pages "
                           "WHERE transaction_id = %s ORDER BY page_number", txn)
        self.assertEqual([(r["records"], r["oversized"]) for r in pages], [(2, False), (1, True), (1, False)])
        t = self.c.hiu_transfer(txn, plaintext=False)
        self.assertEqual(t["summary"]["ok"], 4)
        self.assertTrue(t["allOk"], t["pageProblems"])
        self.assertEqual([g["pages"] for g in t["keyIvReuse"]], [[1]], "only page 1 carries two records")
        with open(os.path.join(os.environ["PGDATA"], "server.log"), errors="replace") as f:
            f.seek(log_from)
            self.assertIn("is larger than abdm_hip.push_page_max_size: sent alone", f.read())

    def test_a_page_is_retried_on_its_own(self):
        refs = self.patient("PG-4", 4)
        self.c.add_fault("/hiu/data-push", body_contains='"pageNumber":2,', status=503, times=2)
        txn = self.request(self.grant("PG-4", refs))
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        numbers = sorted(r["body"]["pageNumber"] for r in self.posts(txn))
        self.assertEqual(numbers, [1, 2, 2, 2, 3, 4], "page 2 twice refused then taken; the others once")
        row = q1(self.db, "SELECT attempts FROM abdm_hip.transfer_page WHERE transaction_id = %s AND page_number = 2", txn)
        self.assertEqual(row["attempts"], 3)

    def test_a_failed_page_errors_only_its_care_contexts(self):
        refs = self.patient("PG-5", 4)
        self.c.add_fault("/hiu/data-push", body_contains='"pageNumber":3,', status=400)
        txn = self.request(self.grant("PG-5", refs))
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "FAILED")
        self.assertEqual(per_cc, {"PG-5-01": "DELIVERED", "PG-5-02": "DELIVERED", "PG-5-03": "ERRORED",
                                  "PG-5-04": "DELIVERED"})
        row = q1(self.db, "SELECT status, error FROM abdm_hip.hi_request WHERE transaction_id = %s", txn)
        self.assertEqual(row["status"], "failed")
        self.assertIn("page 3 of 4", row["error"])
        self.assertIn("400", row["error"])


class Resumption(PagedBase):
    def test_a_restart_resumes_at_the_first_unpushed_page(self):
        refs = self.patient("PG-6", 5)
        set_settings(self.db, {"abdm_hip.transfer_concurrency": "1"})
        # Page 3 hangs at the HIU while the server restarts: pages 1 and 2 are recorded pushed.
        self.c.add_fault("/hiu/data-push", body_contains='"pageNumber":3,', delay_ms=4000, times=1)
        txn = self.request(self.grant("PG-6", refs))
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.transfer_page WHERE transaction_id = %s "
                                       "AND status = 'pushed'", txn)["n"] == 2, what="two pages pushed")
        time.sleep(0.5)
        restart_cluster()
        ENV.reconnect()
        self.db = ENV.db
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        numbers = sorted(r["body"]["pageNumber"] for r in self.posts(txn))
        self.assertEqual(numbers.count(1), 1, numbers)
        self.assertEqual(numbers.count(2), 1, numbers)
        self.assertEqual([n for n in numbers if n > 3], [4, 5])
        self.assertEqual(len(self.c.requests(route="hi-notify")), 1, "notified once")

    def test_a_revocation_during_the_transfer_stops_the_pages_not_yet_pushed(self):
        refs = self.patient("PG-7", 4)
        set_settings(self.db, {"abdm_hip.transfer_concurrency": "1"})
        self.c.add_fault("/hiu/data-push", body_contains='"pageNumber":2,', delay_ms=3000, times=1)
        cid = self.grant("PG-7", refs)
        txn = self.request(cid)
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.transfer_page WHERE transaction_id = %s "
                                       "AND status = 'pushed'", txn)["n"] == 1, what="page 1 pushed")
        r = self.c.consent_notify(status="REVOKED", consentId=cid, hipId=HIP)
        self.assertEqual(r["delivery"]["status"], 202)
        session, per_cc = self.notification(txn)
        self.assertEqual(session, "FAILED")
        # Every planned care context is reported, though the revocation deleted the consent's list.
        self.assertEqual(set(per_cc), set(refs))
        self.assertEqual(per_cc["PG-7-01"], "DELIVERED")
        self.assertEqual((per_cc["PG-7-03"], per_cc["PG-7-04"]), ("ERRORED", "ERRORED"))
        time.sleep(0.5)
        self.assertEqual(sorted(r["body"]["pageNumber"] for r in self.posts(txn)), [1, 2],
                         "nothing after the page under way when the consent was revoked")


class ShareLedger(PagedBase):
    def test_every_page_pushed_is_in_the_ledger_and_outlives_the_consent(self):
        refs = self.patient("SL-1", 3)
        cid = self.grant("SL-1", refs)
        txn = self.request(cid)
        t = self.c.wait_for_transfer(txn, pushes=3)
        self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        rows = q(self.db, "SELECT * FROM abdm_hip.shares WHERE patient_ref = 'SL-1' ORDER BY page_number")
        self.assertEqual(len(rows), 3, "one ledger row per page pushed")
        received = {e["careContextReference"]: e["checksum"] for e in t["entries"]}
        for n, r in enumerate(rows, 1):
            self.assertEqual((r["consent_id"], r["hiu_id"], r["abha_address"], str(r["transaction_id"])),
                             (cid, "HIU_SIM", "sl-1@sbx", txn))
            self.assertEqual((r["page_number"], r["page_count"], r["outcome"], r["entries"]), (n, 3, "pushed", 1))
            self.assertEqual(r["care_context_refs"], [refs[n - 1]])
            self.assertEqual(r["entry_checksums"], [received[refs[n - 1]]], "the checksum the HIU received")
            self.assertGreater(r["bytes"], 0)

        # The consent is revoked: its care-context list goes, the ledger stays.
        self.assertEqual(self.c.consent_notify(status="REVOKED", consentId=cid, hipId=HIP)["delivery"]["status"], 202)
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.consent_care_context WHERE consent_id = %s",
                              cid)["n"] == 0, what="consent care contexts deleted")
        self.assertEqual(q1(self.db, "SELECT count(*) AS n FROM abdm_hip.share_ledger WHERE consent_id = %s",
                            cid)["n"], 3)

        # Append-only, even for a superuser; nothing is old enough to purge.
        for sql in ("UPDATE abdm_hip.share_ledger SET hiu_id = 'X' WHERE consent_id = %s",
                    "DELETE FROM abdm_hip.share_ledger WHERE consent_id = %s",
                    "TRUNCATE abdm_hip.share_ledger"):
            with self.assertRaises(psycopg2.Error) as e:
                q(self.db, sql, *([cid] if "%s" in sql else []))
            self.assertEqual(e.exception.pgcode, "42501", sql)
            self.assertIn("append-only", e.exception.pgerror)
        self.assertEqual(q1(self.db, "SELECT abdm_hip.purge_share_ledger() AS n")["n"], 0)
        self.assertEqual(q1(self.db, "SELECT count(*) AS n FROM abdm_hip.share_ledger WHERE consent_id = %s",
                            cid)["n"], 3)
        # The retention decides: of two old rows (as if written years ago), the one past
        # share_ledger_retention_days (1095) is purged, the one inside it stays and cannot be deleted.
        old = q1(self.db, """WITH o AS (
                INSERT INTO abdm_hip.share_ledger (hip_id, consent_id, patient_refs, transaction_id, page_number,
                    page_count, care_context_refs, entry_checksums, bytes, outcome, shared_at)
                SELECT %s, gen_random_uuid(), '{SL-OLD}', gen_random_uuid(), 1, 1, '{OLD-1}', '{x}', 1, 'pushed',
                       now() - make_interval(days => d) FROM unnest('{1100,1000}'::int[]) AS d RETURNING id, shared_at)
              SELECT array_agg(id ORDER BY shared_at) AS ids FROM o""", HIP)["ids"]
        self.assertEqual(q1(self.db, "SELECT abdm_hip.purge_share_ledger() AS n")["n"], 1)
        self.assertEqual([r["id"] for r in q(self.db, "SELECT id FROM abdm_hip.share_ledger WHERE id = ANY(%s)", old)],
                         [old[1]], "the row past the retention went, the younger one stayed")
        with self.assertRaises(psycopg2.Error) as e:
            q(self.db, "DELETE FROM abdm_hip.share_ledger WHERE id = %s", old[1])
        self.assertEqual(e.exception.pgcode, "42501")
        self.assertEqual(q1(self.db, "SELECT count(*) AS n FROM abdm_hip.share_ledger WHERE consent_id = %s",
                            cid)["n"], 3)
        # The HMIS reads the view; it cannot write the ledger or read it bypassing the view.
        with self.db.cursor() as cur:
            cur.execute("SET ROLE abdm_hip_app")
            try:
                cur.execute("SELECT count(*) FROM abdm_hip.shares WHERE patient_ref = 'SL-1'")
                self.assertEqual(cur.fetchone()[0], 3)
                for sql in ("INSERT INTO abdm_hip.share_ledger (hip_id, consent_id, patient_refs, transaction_id, "
                            "page_number, page_count, care_context_refs, entry_checksums, bytes, outcome) "
                            "VALUES ('x', gen_random_uuid(), '{}', gen_random_uuid(), 1, 1, '{}', '{}', 0, 'pushed')",
                            "SELECT count(*) FROM abdm_hip.share_ledger"):
                    with self.assertRaises(psycopg2.Error) as e:
                        cur.execute(sql)
                    self.assertEqual(e.exception.pgcode, "42501", sql)
            finally:
                cur.execute("RESET ROLE")

class PlanningSnapshot(PagedBase):
    def test_a_request_committed_while_the_worker_turn_is_open_is_planned_with_its_records(self):
        # A request whose receive() began before the worker's turn did and committed after the
        # turn took its first snapshot: the turn claims it (on a fresh snapshot, and its
        # next_attempt_at is before the turn's now()), and must plan it on that snapshot too.
        # Planned on the turn's first snapshot, where it did not exist, it once got no records:
        # one empty page, notified TRANSFERRED with nothing sent (2 of 100 requests in the burst
        # benchmark, bench/transfer_scale_bench.py).
        a_refs, b_refs = self.patient("PS-A", 1), self.patient("PS-B", 3)
        a_cid, b_cid = self.grant("PS-A", a_refs), self.grant("PS-B", b_refs)
        self.c.add_fault("/hiu/data-push", delay_ms=3000, times=1)      # A's one push hangs at the HIU
        a_txn = self.request(a_cid)
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.transfer_page WHERE transaction_id = %s "
                                       "AND lease_until IS NOT NULL", a_txn)["n"] == 1, what="A's page claimed")
        # B as the gateway sends it, received over SQL in a transaction this test keeps open.
        self.c.set_config(delivery="none")
        try:
            msg = self.c.hi_request(consentId=b_cid, dateRange={"from": "2024-03-01T00:00:00.000Z",
                                                                "to": "2024-03-31T23:59:59.999Z"})
        finally:
            self.c.set_config(delivery=ENV.delivery)
        b_txn = msg["transactionId"]
        receiver, holder = ENV.connect_another(), ENV.connect_another()
        receiver.autocommit = holder.autocommit = False
        try:
            with receiver.cursor() as cur:
                cur.execute("SELECT status FROM abdm_hip.receive(%s, %s::jsonb, %s::jsonb)",
                            (msg["path"], json.dumps(msg["headers"]), json.dumps(msg["body"])))
                self.assertEqual(cur.fetchone()[0], 202)
            with holder.cursor() as cur:     # A's outcome waits for this lock inside the worker's turn
                cur.execute("SELECT 1 FROM abdm_hip.transfer_page WHERE transaction_id = %s FOR UPDATE", (a_txn,))
            wait_until(lambda: q1(self.db, "SELECT wait_event_type FROM pg_stat_activity "
                                           "WHERE backend_type = 'abdm_hip transfer'")["wait_event_type"] == "Lock",
                       timeout=20, what="the transfer worker waiting inside its turn's transaction")
            receiver.commit()                # B exists now, but not in that turn's first snapshot
            time.sleep(0.2)
        finally:
            holder.rollback()
            receiver.rollback()
            holder.close()
            receiver.close()
        self.assertEqual(self.notification(a_txn)[0], "TRANSFERRED")
        session, per_cc = self.notification(b_txn)
        self.assertEqual(per_cc, {r: "DELIVERED" for r in b_refs})
        self.assertEqual(session, "TRANSFERRED")
        t = self.c.wait_for_transfer(b_txn, pushes=3)
        self.assertEqual((t["summary"]["entries"], t["pageCount"], t["allOk"]), (3, 3, True),
                         "B planned with its three records, not as one empty page")


class Concurrency(PagedBase):
    def test_pushes_of_different_requests_overlap(self):
        # Eight requests of one page each; the HIU takes 1.5 s for every push. One at a time they
        # would take 12 s; eight at once, about one push's time.
        txns = []
        for i in range(8):
            ref = f"PC-{i}"
            txns.append((ref, self.patient(ref, 1)))
        self.c.add_fault("/hiu/data-push", delay_ms=1500)
        consents = [self.grant(ref, refs) for ref, refs in txns]
        t0 = time.time()
        ids = [self.request(c) for c in consents]
        for txn in ids:
            self.assertEqual(self.notification(txn)[0], "TRANSFERRED")
        took = time.time() - t0
        print(f"    8 requests, HIU taking 1.5 s a push, transfer_concurrency 8: all notified in {took:.1f} s")
        self.assertLess(took, 7.0, "the pushes overlapped")
        # The simulator saw them under way together (each push: arrival to answer).
        spans = [(r["time"], r["time"] + r["elapsedMs"] / 1000) for r in self.c.requests(server="hiu")
                 if r["method"] == "POST"]
        self.assertEqual(len(spans), 8)
        most = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
        print(f"    most pushes under way at once: {most}")
        self.assertGreaterEqual(most, 5, "pushes of different requests overlap")


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
