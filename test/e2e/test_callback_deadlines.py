#!/usr/bin/python3
"""Callback deadlines (sql/schema/52_callback_deadlines.sql): a call whose callback never comes is
sent again (generate-token only past the duplicate-request window; link/carecontext with the same
link token), at most abdm_hip.answer_max_resends times, then ends as no_answer in link_status(),
outbox_status and awaiting_answer. A late callback answers the whole chain once and causes no
further call. The simulator loses callbacks on purpose (fault rule {"callback": {"drop": true}}):
the real gateway does not promise to deliver a callback again that it could not hand over."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import HIP, Env, q, q1, reset_settings, run, set_settings, wait_until  # noqa: E402

ENV = None
SETTINGS = {  # short deadlines for the test; the defaults are minutes
    "abdm_hip.answer_deadline_generate_token": "1s",
    "abdm_hip.answer_deadline_link_carecontext": "1s",
    "abdm_hip.answer_deadline_context_notify": "1s",
    "abdm_hip.answer_deadline_sms_notify2": "1s",
    "abdm_hip.link_token_duplicate_window": "3s",
    "abdm_hip.answer_max_resends": "2",
}


def add_linkable(db, ref, abha):
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile, abha_address)
             VALUES (%s, %s, 'Asha Rao', 'F', 1988, '9800011122', %s)""", HIP, ref, abha)
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
             VALUES (%s, %s, %s, 'OPD visit', '{Prescription}')""", HIP, ref, ref + "-CC")


def link_state(db, ref):
    return q1(db, "SELECT link_status, error FROM abdm_hip.link_status(%s, %s)", HIP, ref)


def header(r, name):
    return next((v for k, v in r["headers"].items() if k.lower() == name.lower()), None)


class CallbackDeadlines(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c
        set_settings(self.db, SETTINGS)
        self.c.set_config(generate_token_dup_window_s=2)
        time.sleep(0.3)

    def tearDown(self):
        reset_settings(self.db, SETTINGS)
        self.c.set_config(generate_token_dup_window_s=370)

    def test_lost_token_callback_is_asked_again_after_the_duplicate_window(self):
        self.c.add_fault("/v3/token/generate-token", callback={"drop": True}, times=1)
        add_linkable(self.db, "DL-1", "dl.one@sbx")
        wait_until(lambda: link_state(self.db, "DL-1")["link_status"] == "linked", timeout=30, what="linked")
        calls = [r for r in self.c.requests(route="generate-token") if r["status"] == 202]
        self.assertEqual(len(calls), 2, "asked once more")
        self.assertNotEqual(header(calls[0], "REQUEST-ID"), header(calls[1], "REQUEST-ID"))
        gap = calls[1]["time"] - calls[0]["time"]
        self.assertGreaterEqual(gap, 2.9, "not inside the duplicate-request window")
        chain = q(self.db, "SELECT answer, resends FROM abdm_hip.outbox_status WHERE kind = 'generate_token' ORDER BY id")
        self.assertEqual([(r["answer"], r["resends"]) for r in chain], [("resent", 0), ("answered", 1)])
        self.assertEqual(q(self.db, "SELECT * FROM abdm_hip.awaiting_answer"), [])

    def test_lost_link_callback_is_sent_again_with_the_same_token(self):
        self.c.add_fault("/hip/v3/link/carecontext", callback={"drop": True}, times=1)
        add_linkable(self.db, "DL-2", "dl.two@sbx")
        wait_until(lambda: link_state(self.db, "DL-2")["link_status"] == "linked", timeout=30, what="linked")
        calls = [r for r in self.c.requests(route="link-carecontext") if r["status"] == 202]
        self.assertEqual(len(calls), 2)
        self.assertEqual(header(calls[0], "X-LINK-TOKEN"), header(calls[1], "X-LINK-TOKEN"))
        self.assertNotEqual(header(calls[0], "REQUEST-ID"), header(calls[1], "REQUEST-ID"))
        self.assertEqual(calls[0]["body"], calls[1]["body"])
        self.assertEqual(len([r for r in self.c.requests(route="generate-token") if r["status"] == 202]), 1)

    def test_late_callback_answers_the_chain_once_and_causes_no_call(self):
        self.c.add_fault("/hip/v3/link/carecontext", callback={"delay_ms": 4000}, times=1)
        add_linkable(self.db, "DL-3", "dl.three@sbx")
        wait_until(lambda: link_state(self.db, "DL-3")["link_status"] == "linked", timeout=30,
                   what="linked by the re-sent call's answer")
        first = [r for r in self.c.requests(route="link-carecontext") if r["status"] == 202][0]
        rid = header(first, "REQUEST-ID")
        late = wait_until(lambda: [d for d in self.c.deliveries(kind="on-carecontext")
                                   if d["body"]["response"]["requestId"] == rid and d["status"]],
                          timeout=15, what="the late callback delivered")
        self.assertEqual(late[0]["status"], 202, late[0].get("response"))
        time.sleep(2.5)  # past another deadline: nothing more is sent
        self.assertEqual(len([r for r in self.c.requests(route="link-carecontext") if r["status"] == 202]), 2)
        self.assertEqual(link_state(self.db, "DL-3")["link_status"], "linked")
        self.assertEqual(q(self.db, "SELECT * FROM abdm_hip.awaiting_answer"), [])
        answered = q1(self.db, """SELECT count(*) FILTER (WHERE answered_at IS NOT NULL) AS n FROM abdm_hip.outbox
                                  WHERE kind = 'link_carecontext'""")["n"]
        self.assertEqual(answered, 2, "both calls of the chain count as answered")

    def test_never_answered_ends_as_no_answer_everywhere(self):
        self.c.add_fault("/hip/v3/link/carecontext", callback={"drop": True})
        add_linkable(self.db, "DL-4", "dl.four@sbx")
        wait_until(lambda: link_state(self.db, "DL-4")["link_status"] == "no_answer", timeout=30, what="no_answer")
        self.assertEqual(len([r for r in self.c.requests(route="link-carecontext") if r["status"] == 202]), 3,
                         "the call and answer_max_resends (2) re-sends")
        self.assertIn("no answer to link/carecontext after 2 re-sends", link_state(self.db, "DL-4")["error"])
        rows = q(self.db, "SELECT kind, answer, resends, waiting_for FROM abdm_hip.awaiting_answer")
        self.assertEqual([(r["kind"], r["answer"], r["resends"]) for r in rows], [("link_carecontext", "no_answer", 2)])
        self.assertGreater(rows[0]["waiting_for"].total_seconds(), 1.5)
        statuses = q(self.db, "SELECT status, answer FROM abdm_hip.outbox_status WHERE kind = 'link_carecontext' ORDER BY id")
        self.assertEqual([(r["status"], r["answer"]) for r in statuses],
                         [("sent", "resent"), ("sent", "resent"), ("sent", "no_answer")])
        # A new visit of the patient is not held back by it.
        self.c.clear_faults()
        q(self.db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                      VALUES (%s, 'DL-4', 'DL-4-CC2', 'Lab visit', '{DiagnosticReport}')""", HIP)
        wait_until(lambda: q1(self.db, "SELECT link_status FROM abdm_hip.link_status(%s, 'DL-4') WHERE care_context_ref = 'DL-4-CC2'",
                              HIP)["link_status"] == "linked", timeout=30, what="the new visit linked")

    def test_sms_notify_without_answer_is_sent_again(self):
        self.c.add_fault("/hip/v3/link/patient/links/sms/notify2", callback={"drop": True}, times=1)
        q(self.db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
                      VALUES (%s, 'DL-5', 'Ravi Kumar', 'M', 1985, '9876543210')""", HIP)
        q(self.db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                      VALUES (%s, 'DL-5', 'DL-5-CC', 'OPD visit', '{Prescription}')""", HIP)
        wait_until(lambda: (q1(self.db, "SELECT status FROM abdm_hip.sms_notification WHERE patient_ref = 'DL-5'")
                            or {}).get("status") == "acknowledged", timeout=30, what="the SMS acknowledged")
        self.assertEqual(len([r for r in self.c.requests(route="sms-notify2") if r["status"] == 202]), 2)


if __name__ == "__main__":
    ENV = Env()
    try:
        sys.exit(run())
    finally:
        ENV.close()
