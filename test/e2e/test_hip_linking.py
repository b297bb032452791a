#!/usr/bin/python3
"""HIP-initiated linking, new-record notifications and the SMS deep link, end to end: the HMIS
inserts rows; triggers queue outbox rows; the sender worker delivers them to the simulated
gateway (libcurl, real HTTP); the gateway's callbacks come back through abdm_hip.receive()."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CLIENT_ID, HIP, Env, bridge_port, drop_extension, q, q1, restart_cluster, run,  # noqa: E402
                     server_log_since, server_log_size, wait_until)

ENV = None


def add_patient(db, ref, abha=None, mobile="9800083232", abha_number=None, name="Hina Patel"):
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile,
                                          abha_number, abha_address)
             VALUES (%s, %s, %s, 'F', '1990-04-12', %s, %s, %s)""", HIP, ref, name, mobile, abha_number, abha)


def add_care_contexts(db, patient_ref, *contexts):
    """contexts: (reference, hi_types list) — inserted in ONE statement."""
    values = ",".join(q(db, "SELECT format('(%%L,%%L,%%L,%%L,%%L::text[])', %s::text, %s::text, %s::text, %s::text, %s::text[]) AS v",
                        HIP, patient_ref, ref, f"Visit {ref}", types)[0]["v"] for ref, types in contexts)
    q(db, f"INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types) VALUES {values}")


def link_states(db, patient_ref):
    return {r["care_context_ref"]: r["link_status"]
            for r in q(db, "SELECT * FROM abdm_hip.link_status(%s, %s)", HIP, patient_ref)}


class HipInitiatedLinking(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c

    def test_insert_links_through_token_then_carecontext(self):
        add_patient(self.db, "P-1", abha="hinapatel@sbx", abha_number="91-1783-8610-1731")
        add_care_contexts(self.db, "P-1", ("OPD-1", ["OPConsultation", "Prescription"]), ("OPD-2", ["Prescription"]))
        wait_until(lambda: set(link_states(self.db, "P-1").values()) == {"linked"}, what="both linked")
        token_calls = self.c.requests(route="generate-token")
        self.assertEqual(len([r for r in token_calls if r["status"] == 202]), 1)
        body = token_calls[0]["body"]
        self.assertEqual(body["abhaNumber"], 91178386101731)  # a JSON number, dashes stripped
        self.assertEqual((body["name"], body["gender"], body["yearOfBirth"]), ("Hina Patel", "F", 1990))
        links = [r for r in self.c.requests(route="link-carecontext") if r["status"] == 202]
        self.assertEqual(len(links), 1, "both care contexts go in one call")
        entries = {e["hiType"]: e for e in links[0]["body"]["patient"]}
        self.assertEqual(set(entries), {"OPConsultation", "Prescription"})
        self.assertEqual(entries["Prescription"]["count"], 2)
        self.assertEqual(len(entries["Prescription"]["careContexts"]), 2)
        self.assertEqual(entries["OPConsultation"]["count"], 1)
        self.assertEqual(links[0]["body"]["abhaNumber"], "91178386101731")  # string here, as sent to generate-token
        hdr = {k.lower(): v for k, v in links[0]["headers"].items()}
        self.assertTrue(hdr["x-link-token"].count(".") == 2 and not hdr["x-link-token"].startswith("Bearer"))
        self.assertEqual(hdr["x-hip-id"], HIP)
        # The gateway's record agrees.
        linked = {l["careContextReference"] for l in self.c.links(hipId=HIP, abhaAddress="hinapatel@sbx")}
        self.assertEqual(linked, {"OPD-1", "OPD-2"})

    def test_token_is_reused_for_later_care_contexts(self):
        add_patient(self.db, "P-2", abha="ravi.k@sbx")
        add_care_contexts(self.db, "P-2", ("OPD-10", ["Prescription"]))
        wait_until(lambda: link_states(self.db, "P-2") == {"OPD-10": "linked"}, what="first linked")
        add_care_contexts(self.db, "P-2", ("LAB-11", ["DiagnosticReport"]))
        wait_until(lambda: link_states(self.db, "P-2").get("LAB-11") == "linked", what="second linked")
        self.assertEqual(len(self.c.requests(route="generate-token")), 1, "never a second token request")
        self.assertEqual(len([r for r in self.c.requests(route="link-carecontext") if r["status"] == 202]), 2)

    def test_new_hi_type_on_linked_care_context_notifies(self):
        add_patient(self.db, "P-3", abha="asha.n@sbx")
        add_care_contexts(self.db, "P-3", ("IPD-20", ["DischargeSummary"]))
        wait_until(lambda: link_states(self.db, "P-3") == {"IPD-20": "linked"}, what="linked")
        q(self.db, "UPDATE abdm_hip.care_context SET hi_types = hi_types || '{DiagnosticReport,Invoice}' "
                   "WHERE hip_id = %s AND reference = 'IPD-20'", HIP)
        calls = self.c.wait_for_requests("context-notify")
        n = calls[0]["body"]["notification"]
        self.assertEqual(sorted(n["hiTypes"]), ["DiagnosticReport", "Invoice"], "only the new types")
        self.assertEqual(n["careContext"], {"patientReference": "P-3", "careContextReference": "IPD-20"})
        self.assertEqual(n["patient"]["id"], "asha.n@sbx")
        self.c.wait_for_deliveries(kind="context-on-notify")
        # The same types again: nothing new to tell.
        q(self.db, "UPDATE abdm_hip.care_context SET display = 'IPD stay' WHERE reference = 'IPD-20'")
        time.sleep(0.5)
        self.assertEqual(len(self.c.requests(route="context-notify")), 1)

    def test_patient_without_abha_gets_one_sms_per_interval(self):
        add_patient(self.db, "P-4", abha=None, mobile="+91 98765 43210")
        add_care_contexts(self.db, "P-4", ("OPD-30", ["Prescription"]))
        sms = self.c.wait_for_requests("sms-notify2")
        self.assertEqual(sms[0]["body"]["notification"]["phoneNo"], "9876543210")
        self.assertEqual(sms[0]["body"]["notification"]["hip"]["id"], HIP)
        wait_until(lambda: q1(self.db, "SELECT status FROM abdm_hip.sms_notification WHERE patient_ref = 'P-4'")
                   ["status"] == "acknowledged", what="sms acknowledged")
        add_care_contexts(self.db, "P-4", ("OPD-31", ["Prescription"]))
        time.sleep(0.8)
        self.assertEqual(len(self.c.requests(route="sms-notify2")), 1, "once per interval")
        self.assertEqual(link_states(self.db, "P-4"), {"OPD-30": "no_abha_address", "OPD-31": "no_abha_address"})


    def test_the_sender_leaves_the_hmis_columns_alone(self):
        # Acting on a new care context clears link_pending only: updated_at stays the HMIS's.
        add_patient(self.db, "P-5", abha="meena.r@sbx")
        add_care_contexts(self.db, "P-5", ("OPD-40", ["Prescription"]))
        self.assertEqual(link_states(self.db, "P-5"), {"OPD-40": "requested"}, "requested from the insert on")
        wait_until(lambda: link_states(self.db, "P-5") == {"OPD-40": "linked"}, what="linked")
        row = q1(self.db, "SELECT link_pending, updated_at = created_at AS untouched FROM abdm_hip.care_context "
                          "WHERE reference = 'OPD-40'")
        self.assertEqual((row["link_pending"], row["untouched"]), (False, True))

    def test_history_inserted_with_link_pending_false_is_not_announced(self):
        add_patient(self.db, "P-6", abha="old.visits@sbx")
        add_patient(self.db, "P-7", abha=None, mobile="9811122233")
        q(self.db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, link_pending)
                      VALUES (%s, 'P-6', 'OLD-1', 'OPD visit 2019', '{Prescription}', false),
                             (%s, 'P-7', 'OLD-2', 'OPD visit 2019', '{Prescription}', false)""", HIP, HIP)
        # A new visit afterwards is announced as usual (and shows that the sender has run).
        add_patient(self.db, "P-8", abha="new.visit@sbx")
        add_care_contexts(self.db, "P-8", ("NEW-1", ["Prescription"]))
        wait_until(lambda: link_states(self.db, "P-8") == {"NEW-1": "linked"}, what="new visit linked")
        self.assertEqual(link_states(self.db, "P-6"), {"OLD-1": "not_requested"})
        self.assertEqual(self.c.requests(route="sms-notify2"), [])
        self.assertEqual([r["body"]["abhaAddress"] for r in self.c.requests(route="generate-token")], ["new.visit@sbx"])


class SenderBehaviour(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c

    def test_5xx_is_retried_with_the_same_request_id(self):
        self.c.add_fault("/v3/token/generate-token", status=503, times=2)
        add_patient(self.db, "P-5", abha="retry.me@sbx")
        add_care_contexts(self.db, "P-5", ("OPD-40", ["Prescription"]))
        wait_until(lambda: link_states(self.db, "P-5") == {"OPD-40": "linked"}, timeout=60, what="linked after retries")
        calls = self.c.requests(route="generate-token")
        self.assertEqual([r["status"] for r in calls], [503, 503, 202])
        ids = {v for r in calls for k, v in r["headers"].items() if k.lower() == "request-id"}
        self.assertEqual(len(ids), 1, "REQUEST-ID stable across retries")
        row = ENV.outbox("generate_token")[0]
        self.assertEqual((row["status"], row["attempts"]), ("sent", 3))

    def test_expired_session_is_renewed_once(self):
        add_patient(self.db, "P-6", abha="first.one@sbx")
        add_care_contexts(self.db, "P-6", ("OPD-50", ["Prescription"]))
        ENV.wait_sent("link_carecontext")
        sessions_before = self.c.sessions()["issued"]
        self.c.expire_sessions()
        add_patient(self.db, "P-7", abha="second.one@sbx")
        add_care_contexts(self.db, "P-7", ("OPD-51", ["Prescription"]))
        wait_until(lambda: link_states(self.db, "P-7") == {"OPD-51": "linked"}, what="linked with a new session")
        self.assertEqual(self.c.sessions()["issued"], sessions_before + 1)
        statuses = [r["status"] for r in self.c.requests(route="generate-token") if r["body"]["abhaAddress"] == "second.one@sbx"]
        self.assertEqual(statuses, [401, 202])

    def test_4xx_fails_at_once_with_the_reason(self):
        self.c.add_fault("/v3/token/generate-token", status=400)
        add_patient(self.db, "P-8", abha="refused@sbx")
        add_care_contexts(self.db, "P-8", ("OPD-60", ["Prescription"]))
        row = wait_until(lambda: (lambda r: r if r and r[0]["status"] == "failed" else None)(ENV.outbox("generate_token")),
                         what="failed row")[0]
        self.assertEqual(row["attempts"], 1)
        self.assertEqual(row["last_http_status"], 400)
        self.assertIn("ABDM-9999", row["last_error"])
        st = q1(self.db, "SELECT * FROM abdm_hip.link_status(%s, 'P-8')", HIP)
        self.assertEqual(st["link_status"], "failed")
        self.assertEqual(st["token_status"], "failed")

    def test_200_with_error_envelope_is_a_failure(self):
        self.c.add_fault("/v3/token/generate-token", error_envelope=True)
        add_patient(self.db, "P-9", abha="envelope@sbx")
        add_care_contexts(self.db, "P-9", ("OPD-70", ["Prescription"]))
        row = wait_until(lambda: (lambda r: r if r and r[0]["status"] == "failed" else None)(ENV.outbox("generate_token")),
                         what="failed row")[0]
        self.assertEqual(row["last_http_status"], 200)

    def test_duplicate_token_request_is_not_repeated(self):
        self.c.add_fault("/v3/token/generate-token", callback={"error": {"code": "ABDM-1092: ", "message": "duplicate"}})
        add_patient(self.db, "P-10", abha="dupe@sbx")
        add_care_contexts(self.db, "P-10", ("OPD-80", ["Prescription"]))
        wait_until(lambda: (q1(self.db, "SELECT status FROM abdm_hip.link_token WHERE abha_address='dupe@sbx'") or {})
                   .get("status") == "failed", what="token failed")
        add_care_contexts(self.db, "P-10", ("OPD-81", ["Prescription"]))
        time.sleep(0.8)
        self.assertEqual(len(self.c.requests(route="generate-token")), 1, "no loop on generate-token")
        tok = q1(self.db, "SELECT retry_after > now() + interval '5 minutes' AS waits, last_error FROM abdm_hip.link_token WHERE abha_address='dupe@sbx'")
        self.assertTrue(tok["waits"])
        self.assertIn("ABDM-1092", tok["last_error"])

    def test_without_a_client_id_gateway_rows_wait_unclaimed(self):
        # Nothing to authenticate with: gateway calls stay queued, untouched (no attempt used, no
        # lease), while calls to absolute URLs (the SMS hook) still go; once the client id is set,
        # the queued calls go too.
        q(self.db, "ALTER SYSTEM SET abdm_hip.client_id = ''")
        q(self.db, "SELECT pg_reload_conf()")
        try:
            time.sleep(0.3)
            sms_patients(self.db, "NOID-", 3, 9300000000)
            q(self.db, "INSERT INTO abdm_hip.outbox (hip_id, kind, target, body) VALUES (%s, 'otp_sms', %s, "
                       "jsonb_build_object('mobile', '9300000009', 'message', abdm_hip_internal.seal_secret('otp', 'hello')))",
              HIP, self.c.urls["hooks"] + "/sms")
            wait_until(lambda: q1(self.db, "SELECT status FROM abdm_hip.outbox WHERE kind = 'otp_sms'")["status"] == "sent",
                       what="the hook call sent")
            time.sleep(1.5)
            rows = q(self.db, "SELECT status, attempts, lease_until, last_error, next_attempt_at <= now() AS due "
                              "FROM abdm_hip.outbox WHERE kind = 'sms_notify2'")
            self.assertEqual(len(rows), 3)
            self.assertEqual({(r["status"], r["attempts"], r["lease_until"], r["last_error"], r["due"]) for r in rows},
                             {("pending", 0, None, None, True)})
            self.assertEqual(self.c.requests(route="sms-notify2"), [])
        finally:
            q(self.db, "ALTER SYSTEM SET abdm_hip.client_id = %s", CLIENT_ID)
            q(self.db, "SELECT pg_reload_conf()")
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE kind = 'sms_notify2' AND status = 'sent'")["n"] == 3,
                   what="the queued calls sent once configured")

    def test_sender_runs_as_a_named_worker(self):
        rows = q(self.db, "SELECT backend_type FROM pg_stat_activity WHERE backend_type LIKE 'abdm_hip%%' ORDER BY 1")
        # One listener worker per abdm_hip.bridge_workers when a listen port is set.
        bridges = 0
        if bridge_port(self.db):
            bridges = int(q1(self.db, "SHOW abdm_hip.bridge_workers")["abdm_hip.bridge_workers"])
        self.assertEqual([r["backend_type"] for r in rows],
                         ["abdm_hip bridge"] * bridges + ["abdm_hip sender", "abdm_hip transfer"])


def sms_patients(db, prefix, n, mobile_base):
    """n patients known only by mobile, each with one care context: n sms/notify2 rows."""
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
             SELECT %s, %s || g, 'Patient ' || g, 'M', 1980, (%s + g)::text FROM generate_series(1, %s) g""",
      HIP, prefix, mobile_base, n)
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
             SELECT %s, %s || g, %s || 'CC-' || g, 'Visit', '{Prescription}' FROM generate_series(1, %s) g""",
      HIP, prefix, prefix, n)


def accepted_once_each(c, route, db, kind):
    """{REQUEST-ID: number of non-duplicate 202s} for a gateway route, for this test's own outbox
    rows of `kind`: the simulator may still record a call of an earlier test's extension (dropped
    with its calls in flight) after the test cleared it."""
    ours = {str(r["request_id"]) for r in q(db, "SELECT request_id FROM abdm_hip.outbox WHERE kind = %s", kind)}
    counts = {rid: 0 for rid in ours}
    for r in c.requests(route=route):
        rid = next(v for k, v in r["headers"].items() if k.lower() == "request-id")
        if rid in counts and r["status"] == 202 and not r.get("duplicate"):
            counts[rid] += 1
    return counts


class SenderResilience(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c

    def tearDown(self):
        q(ENV.db, "ALTER SYSTEM RESET abdm_hip.max_attempts")
        q(ENV.db, "SELECT pg_reload_conf()")

    def sent_count(self, kind):
        return q1(ENV.db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE kind = %s AND status = 'sent'", kind)["n"]

    def test_gateway_down_then_back_delivers_everything_once(self):
        self.c.gateway_down()
        sms_patients(self.db, "GD-", 20, 9100000000)
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE attempts >= 1 AND last_error IS NOT NULL")["n"] >= 20,
                   what="failed first attempts")
        self.c.gateway_up()
        wait_until(lambda: self.sent_count("sms_notify2") == 20, timeout=90, what="all 20 sent")
        counts = accepted_once_each(self.c, "sms-notify2", self.db, "sms_notify2")
        self.assertEqual(len(counts), 20)
        self.assertEqual(set(counts.values()), {1}, "each accepted exactly once")

    def test_a_poisoned_row_fails_alone(self):
        q(self.db, "ALTER SYSTEM SET abdm_hip.max_attempts = 3")
        q(self.db, "SELECT pg_reload_conf()")
        time.sleep(0.3)
        self.c.add_fault("/hip/v3/link/patient/links/sms/notify2", body_contains="9200000003", status=500)
        sms_patients(self.db, "PZ-", 6, 9200000000)
        wait_until(lambda: self.sent_count("sms_notify2") == 5, timeout=30, what="the five good rows")
        bad = wait_until(lambda: q1(self.db, "SELECT * FROM abdm_hip.outbox_status WHERE status = 'failed'"),
                         timeout=90, what="the poisoned row failed")
        self.assertEqual(bad["attempts"], 3)
        self.assertEqual(bad["last_http_status"], 500)
        self.assertIn("gave up after 3 attempts", bad["last_error"])

    def test_restart_mid_queue_loses_nothing(self):
        self.c.add_fault("/hip/v3/link/patient/links/sms/notify2", delay_ms=200)  # keep the queue busy
        sms_patients(self.db, "RS-", 150, 9300000000)
        wait_until(lambda: self.sent_count("sms_notify2") >= 10, what="some sent")
        restart_cluster()
        ENV.reconnect()
        self.db = ENV.db
        wait_until(lambda: self.sent_count("sms_notify2") == 150, timeout=120, what="all 150 sent")
        counts = accepted_once_each(self.c, "sms-notify2", self.db, "sms_notify2")
        self.assertEqual(len(counts), 150)
        self.assertTrue(all(n >= 1 for n in counts.values()), "every row reached the gateway")
        recorded = q(self.db, "SELECT status, count(*) AS n FROM abdm_hip.outbox GROUP BY status")
        self.assertEqual([(r["status"], r["n"]) for r in recorded], [("sent", 150)])

    def test_calls_in_flight_at_a_restart_go_again_at_once(self):
        # A call the gateway holds when the server stops leaves its row leased with no outcome;
        # the next sender releases the lease at start instead of waiting for it to end (a
        # minute or more), and the call goes again with the same REQUEST-ID.
        self.c.add_fault("/hip/v3/link/patient/links/sms/notify2", delay_ms=20000, times=1)
        sms_patients(self.db, "HELD-", 1, 9200000000)
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.outbox_status WHERE in_flight")["n"] == 1,
                   what="the call in flight")
        # Claimed is not yet received: restart only once the gateway holds the call.
        wait_until(lambda: self.c.faults()[0]["fired"] == 1, what="the gateway holding the call")
        restart_cluster()
        ENV.reconnect()
        self.db = ENV.db
        started = time.monotonic()
        wait_until(lambda: self.sent_count("sms_notify2") == 1, timeout=30, what="sent after the restart")
        self.assertLess(time.monotonic() - started, 30)
        row = q1(self.db, "SELECT attempts, lease_until FROM abdm_hip.outbox WHERE kind = 'sms_notify2'")
        self.assertEqual((row["attempts"], row["lease_until"]), (2, None))
        accepted = [r for r in self.c.requests(route="sms-notify2") if r["status"] == 202]
        self.assertEqual(len(accepted), 1)
        self.assertEqual({k.lower(): v for k, v in accepted[0]["headers"].items()}["request-id"],
                         str(q1(self.db, "SELECT request_id FROM abdm_hip.outbox WHERE kind = 'sms_notify2'")["request_id"]),
                         "the row's own REQUEST-ID, as on the first try")

    def test_a_sql_error_in_the_worker_is_logged_not_fatal(self):
        pid = q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip sender'")["pid"]
        # Break the worker's own query for a while: every turn now fails inside SPI.
        q(self.db, "ALTER FUNCTION abdm_hip_internal.dispatch_links(int) RENAME TO dispatch_links_broken")
        try:
            add_patient(self.db, "P-ERR", abha="error.path@sbx")
            add_care_contexts(self.db, "P-ERR", ("OPD-90", ["Prescription"]))
            time.sleep(2.5)
            same = q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip sender'")
            self.assertIsNotNone(same, "the sender is still running")
            self.assertEqual(same["pid"], pid, "not restarted: the error was handled, not a crash")
        finally:
            q(self.db, "ALTER FUNCTION abdm_hip_internal.dispatch_links_broken(int) RENAME TO dispatch_links")
        wait_until(lambda: link_states(self.db, "P-ERR") == {"OPD-90": "linked"}, what="linked once repaired")

    def test_a_terminated_sender_comes_back(self):
        old = q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip sender'")["pid"]
        q(self.db, "SELECT pg_terminate_backend(%s)", old)
        wait_until(lambda: (q1(self.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip sender'")
                            or {}).get("pid") not in (None, old), timeout=30, what="a new sender")
        sms_patients(self.db, "BACK-", 2, 9500000000)
        wait_until(lambda: self.sent_count("sms_notify2") == 2, what="sent by the new sender")

    def test_dropped_extension_makes_the_workers_wait_quietly(self):
        # DROP EXTENSION while the sender is busy, with no retry (harness.drop_extension), ten
        # times; then nothing is logged while the extension is gone, and once it is back the
        # workers take up work again within seconds.
        for i in range(10):
            sms_patients(self.db, f"DROP{i}-", 20, 9300000000 + i * 100)
            time.sleep(0.02 * i)
            drop_extension(self.db)
            q(self.db, "CREATE EXTENSION abdm_hip")
            q(self.db, "SELECT abdm_hip.set_client_secret(%s)", "e2e-client-secret")
            q(self.db, "INSERT INTO abdm_hip.facility (hip_id, name) VALUES (%s, 'City General Hospital')", HIP)
        drop_extension(self.db)
        offset = server_log_size()
        time.sleep(3)
        quiet = server_log_since(offset)
        self.assertNotIn("abdm_hip sender", quiet)
        self.assertNotIn("abdm_hip transfer", quiet)
        self.assertNotIn("ERROR", quiet)
        ENV.fresh()
        sms_patients(self.db, "BACKAGAIN-", 3, 9200000000)
        wait_until(lambda: self.sent_count("sms_notify2") == 3, timeout=30, what="sent after CREATE EXTENSION")

    def test_drop_database_is_not_blocked_by_the_workers(self):
        # DROP DATABASE waits until every backend has absorbed its barrier; the workers do so while
        # they work and while they wait for a dropped extension.
        for with_extension in (True, False):
            if not with_extension:
                drop_extension(self.db)
                time.sleep(1.5)
            q(self.db, "DROP DATABASE IF EXISTS e2e_scratch")
            q(self.db, "CREATE DATABASE e2e_scratch")
            started = time.monotonic()
            q(self.db, "SET statement_timeout = '20s'")
            try:
                q(self.db, "DROP DATABASE e2e_scratch")
            finally:
                q(self.db, "RESET statement_timeout")
            self.assertLess(time.monotonic() - started, 10, f"DROP DATABASE took too long (extension {with_extension})")

    def test_worker_statistics_reach_autovacuum(self):
        # The sender reports its table statistics as it works (pgstat_report_stat), so the
        # outbox's updates are visible to autovacuum without waiting for the worker to exit.
        sms_patients(self.db, "STAT-", 10, 9100000000)
        wait_until(lambda: self.sent_count("sms_notify2") == 10, what="ten sent")
        stats = wait_until(lambda: (lambda r: r if r["upd"] >= 20 else None)(q1(self.db,
                           "SELECT n_tup_upd AS upd FROM pg_stat_user_tables WHERE relid = 'abdm_hip.outbox'::regclass")),
                           timeout=15, what="the sender's updates in pg_stat_user_tables")
        self.assertGreaterEqual(stats["upd"], 20, "a claim and an outcome per row")

    def test_in_flight_is_capped(self):
        q(self.db, "ALTER SYSTEM SET abdm_hip.max_in_flight = 4")
        q(self.db, "SELECT pg_reload_conf()")
        try:
            time.sleep(0.3)
            self.c.add_fault("/hip/v3/link/patient/links/sms/notify2", delay_ms=300)
            sms_patients(self.db, "CAP-", 16, 9400000000)
            peak = 0
            deadline = time.monotonic() + 60
            while self.sent_count("sms_notify2") < 16 and time.monotonic() < deadline:
                n = q1(self.db, "SELECT count(*) AS n FROM abdm_hip.outbox_status WHERE in_flight")["n"]
                peak = max(peak, n)
                time.sleep(0.02)
            self.assertEqual(self.sent_count("sms_notify2"), 16)
            self.assertLessEqual(peak, 4)
            self.assertGreaterEqual(peak, 2, "several in flight at once")
        finally:
            q(self.db, "ALTER SYSTEM RESET abdm_hip.max_in_flight")
            q(self.db, "SELECT pg_reload_conf()")


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
