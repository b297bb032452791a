#!/usr/bin/python3
"""Secrets never reach the server log (issue 17), nor the database in clear. With every process
logging at debug5, the flows that handle secrets run end to end: the gateway session (client
secret, bearer token), HIP-initiated linking (link token), user-initiated linking (OTP, its hash,
the SMS hook) and a transfer (the HIU's key material). Then the log written meanwhile is searched
for each secret's value; it must hold none, while it does hold the flows' own log lines (proof
the log was captured at that level). A pg_dump of the database, what a backup carries, is
searched too: the client secret, the link token, the OTP and the bearer tokens must not be in it
(they are sealed, sql/schema/17_sealed_secrets.sql), and the sealed link token must open, with
the server's key file, to the one the gateway issued."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CLIENT_SECRET, HIP, Env, q, q1, reset_settings, run, server_log_since,  # noqa: E402
                     server_log_size, set_settings, wait_until)

ENV = None
HERE = os.path.dirname(os.path.abspath(__file__))


def pg_bindir():
    """As test/lib/cluster.sh abdm_pg_config finds it."""
    pg_config = os.environ.get("PG_CONFIG") or next(
        (p for p in ["/usr/lib/postgresql/15/bin/pg_config"] if os.access(p, os.X_OK)), "pg_config")
    return subprocess.run([pg_config, "--bindir"], check=True, capture_output=True, text=True).stdout.strip()


def open_sealed(text):
    """Opens sealed values with the server's key file (read as the server's OS user) and the
    second implementation of the form, test/lib/open_sealed.py."""
    setting = q1(ENV.db, "SELECT current_setting('abdm_hip.secret_key_file') AS s")["s"]
    path = setting if setting.startswith("/") else os.path.join(os.environ["PGDATA"], setting)
    key = subprocess.run(["cat", path], check=True, capture_output=True).stdout
    keyfile = os.path.join(os.environ["PGDATA"], "..", "open-sealed.key")
    with open(os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(key)
    try:
        return subprocess.run([sys.executable, os.path.join(HERE, "..", "lib", "open_sealed.py"), keyfile],
                              input=text, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(keyfile)
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
        # The link token as the gateway issued it, from the call the HIP made with it.
        links = [r for r in c.requests(route="link-carecontext") if r["body"].get("abhaAddress") == "lata@sbx"]
        link_token = next(v for k, v in links[0]["headers"].items() if k.lower() == "x-link-token")
        sealed_token = q1(db, "SELECT token FROM abdm_hip.link_token WHERE abha_address = 'lata@sbx'")["token"]
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

        # What a backup holds: the whole database, data and all.
        dump = subprocess.run([os.path.join(pg_bindir(), "pg_dump"), "--no-owner"], check=True,
                              capture_output=True, text=True).stdout
        self.assertIn("abdm-sealed:1:client_secret:", dump)
        self.assertIn("abdm-sealed:1:link_token:", dump)
        for what, value in secrets.items():
            if what != "OTP hash":  # the hash is what the database is meant to keep
                self.assertNotIn(value, dump, f"the {what} is in clear in pg_dump")
        self.assertNotIn(link_token.split(".")[-1], dump)
        self.assertEqual(open_sealed(sealed_token), link_token, "the sealed token opens to the one issued")
        print(f"    searched {len(dump):,} bytes of pg_dump for {len(secrets) - 1} secrets: none in clear")


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
