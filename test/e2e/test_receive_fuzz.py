#!/usr/bin/python3
"""receive() under mutated real messages (issue 17): every inbound V3 path's message, as ABDM sends
it, mutated at random (a field removed, its value replaced by another JSON type, an empty or
enormous string, a deep nest, a stray key, a header dropped or garbled; never a NUL, which jsonb
cannot hold and the listener refuses before receive()) and handed to
abdm_hip.receive() as the gateway role, each in a transaction of its own. No call may crash the
backend; every answer is a 2xx, or a 4xx with the ABDM error object {code, message}; a call that is
refused changes no table but the inbox. ABDM_RECEIVE_FUZZ sets the number of calls (default
2,000 in the test command; the long run in the README uses 20,000) and ABDM_RECEIVE_FUZZ_SEED
repeats a run."""
import copy
import datetime as dt
import json
import os
import random
import sys
import unittest
import uuid

import psycopg2

sys.path.insert(0, os.path.dirname(__file__))
from harness import HIP, Env, q, run, server_log_since, server_log_size  # noqa: E402

ENV = None
KEY = "BEGqkwANHLGjs8R12bsAb0ynfnl5+S6JS5tCOc6CRVqxNzlr8sJRZAmtDyIHQmpsRvqMrWNanwgf1T7iyE2mNys="
NONCE = "3s2ZEfpKVq7x4mAv7Xn0M0ZvT0WvWZ2Y6sJxVtYQe6I="
CONSENT = "e5500000-0000-4000-8000-000000000003"
SEEDS = [
    ("/api/v3/hip/patient/care-context/discover",
     {"transactionId": "e5500000-0000-4000-8000-000000000001",
      "patient": {"id": "fuzz@sbx", "verifiedIdentifiers": [{"type": "MOBILE", "value": "9800011122"}],
                  "unverifiedIdentifiers": [{"type": "MR", "value": "FZ-1"}], "name": "Fuzz Patient",
                  "gender": "F", "yearOfBirth": 1990}}),
    ("/api/v3/hip/link/care-context/init",
     {"transactionId": "e5500000-0000-4000-8000-000000000001", "abhaAddress": "fuzz@sbx",
      "patient": [{"referenceNumber": "FZ-1", "careContexts": [{"referenceNumber": "FZ-1-OPD"}],
                   "hiType": "Prescription", "count": 1}]}),
    ("/api/v3/hip/link/care-context/confirm",
     {"confirmation": {"linkRefNumber": "e5500000-0000-4000-8000-000000000002", "token": "123456"}}),
    ("/api/v3/consent/request/hip/notify",
     {"notification": {"status": "GRANTED", "consentId": CONSENT, "consentDetail": {
         "schemaVersion": "v3", "consentId": CONSENT, "createdAt": "2024-01-01T00:00:00.000Z",
         "patient": {"id": "fuzz@sbx"},
         "careContexts": [{"patientReference": "FZ-1", "careContextReference": "FZ-1-OPD"}],
         "purpose": {"text": "Care Management", "code": "CAREMGT"},
         "hip": {"id": HIP}, "hiu": {"id": "HIU-1"}, "hiTypes": ["Prescription"],
         "permission": {"accessMode": "VIEW",
                        "dateRange": {"from": "2023-01-01T00:00:00.000Z", "to": "2024-01-01T00:00:00.000Z"},
                        "dataEraseAt": "2099-01-01T00:00:00.000Z",
                        "frequency": {"unit": "HOUR", "value": 1, "repeats": 0}}},
         "signature": "c2lnbmF0dXJl"}}),
    ("/api/v3/consent/request/hip/notify", {"notification": {"status": "REVOKED", "consentId": CONSENT}}),
    ("/api/v3/hip/health-information/request",
     {"transactionId": "e5500000-0000-4000-8000-000000000004", "hiRequest": {
         "consent": {"id": CONSENT},
         "dateRange": {"from": "2023-01-01T00:00:00.000Z", "to": "2023-06-01T00:00:00.000Z"},
         "dataPushUrl": "https://hiu.example.test/data/push",
         "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
                         "dhPublicKey": {"expiry": "2099-01-01T00:00:00.000Z",
                                         "parameters": "Curve25519/32byte random key", "keyValue": KEY},
                         "nonce": NONCE}}}),
    ("/api/v3/hip/token/on-generate-token",
     {"abhaAddress": "fuzz@sbx", "linkToken": "x.y.z", "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}),
    ("/api/v3/link/on_carecontext",
     {"abhaAddress": "fuzz@sbx", "status": "Successfully Linked care context",
      "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}),
    ("/api/v3/links/context/on-notify",
     {"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}),
    ("/api/v3/patients/sms/on-notify",
     {"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}),
    ("/api/v3/patients/status/notify",
     {"notification": {"status": "DEACTIVATED", "patient": {"id": "fuzz@sbx"}}}),
]
STATE_TABLES = ("outbox", "discovery", "link_request", "care_context_link", "consent", "consent_care_context",
                "hi_request", "link_token", "patient", "care_context", "health_record", "share_ledger")


def headers(rng):
    h = {"REQUEST-ID": str(uuid.uuid4()), "X-HIP-ID": HIP,
         "TIMESTAMP": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
    r = rng.random()
    if r < 0.04:
        del h[rng.choice(sorted(h))]
    elif r < 0.08:
        h[rng.choice(sorted(h))] = rng.choice(["", "x", "2024-13-45T99:00:00Z", "e5500000", " " * 3, "0" * 500])
    return h


def random_value(rng, depth=0):
    r = rng.random()
    if r < 0.15:
        return None
    if r < 0.3:
        return rng.choice([0, -1, 1, 2 ** 31, 2 ** 63, -2 ** 70, 1e308, -0.0, 123456])
    if r < 0.45:
        return rng.choice([True, False])
    if r < 0.7:
        return rng.choice(["", " ", "x", "\u0001", "\\", "\"", "😀" * 50, "A" * rng.choice([10, 5000, 300000]),
                           "2024-02-30T00:00:00Z", "e5500000-0000-4000-8000-00000000000z", "null", "{}", "'; DROP TABLE x; --",
                           "ABDM-1022", "\u202e", "a@b@c", "9" * 30])
    if r < 0.85 and depth < 3:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if depth < 3:
        return {rng.choice(["a", "id", "status", "transactionId", ""]): random_value(rng, depth + 1)}
    nest = "x"
    for _ in range(rng.choice([10, 100, 500])):
        nest = [nest]
    return nest


def paths(doc, prefix=()):
    # Not below depth 20: a deep nest random_value made is a leaf to later mutations, which could
    # otherwise put one nest inside another (1,000 levels: a RecursionError here, seed-
    # dependent, before any call was made).
    out = [prefix]
    if len(prefix) >= 20:
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, prefix + (i,))
    return out


def mutate(rng, body):
    doc = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        ps = [p for p in paths(doc) if p]
        if not ps:
            return random_value(rng)
        p = rng.choice(ps)
        parent = doc
        for k in p[:-1]:
            parent = parent[k]
        op = rng.random()
        if op < 0.3 and isinstance(parent, dict):
            del parent[p[-1]]
        elif op < 0.4 and isinstance(parent, dict):
            parent[rng.choice(["extra", "Status", "__proto__", "transactionID"])] = random_value(rng)
        else:
            parent[p[-1]] = random_value(rng)
    return doc


class ReceiveFuzz(unittest.TestCase):
    def test_mutated_real_messages(self):
        ENV.fresh()
        db = ENV.db
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile)
                 VALUES (%s, 'FZ-1', 'Fuzz Patient', 'F', '1990-01-01', '9800011122')""", HIP)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, link_pending)
                 VALUES (%s, 'FZ-1', 'FZ-1-OPD', 'OPD', '{Prescription}', false)""", HIP)
        n = int(os.environ.get("ABDM_RECEIVE_FUZZ", "2000"))
        seed = int(os.environ.get("ABDM_RECEIVE_FUZZ_SEED", str(random.SystemRandom().randrange(1 << 30))))
        print(f"    seed {seed}, {n} calls")
        rng = random.Random(seed)
        offset = server_log_size()
        state_sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM abdm_hip.{t})" for t in STATE_TABLES)
        conn = psycopg2.connect("")
        conn.autocommit = True
        statuses = {}
        with conn.cursor() as cur:
            for i in range(n):
                path, seed_body = rng.choice(SEEDS)
                body = mutate(rng, seed_body) if rng.random() < 0.95 else seed_body
                h = headers(rng)
                where = f"call {i} (seed {seed}): {path} {json.dumps(h)} {json.dumps(body)[:400]}"
                cur.execute(state_sql)
                before = cur.fetchone()
                cur.execute("SET ROLE abdm_hip_gateway")
                try:
                    cur.execute("SELECT status, body FROM abdm_hip.receive(%s, %s::jsonb, %s::jsonb)",
                                (path, json.dumps(h), json.dumps(body)))
                    status, answer = cur.fetchone()
                except psycopg2.OperationalError as e:
                    self.fail(f"the backend went away: {e} at {where}")
                except psycopg2.Error as e:
                    self.fail(f"receive() raised instead of answering: {e.pgcode} {e} at {where}")
                finally:
                    if not conn.closed:
                        cur.execute("RESET ROLE")
                statuses[status] = statuses.get(status, 0) + 1
                self.assertTrue(200 <= status < 300 or 400 <= status < 500, f"status {status}: {answer} at {where}")
                if status >= 400:
                    err = (answer or {}).get("error") or {}
                    self.assertTrue(isinstance(err.get("code"), str) and err["code"], f"no error code: {answer} at {where}")
                    self.assertTrue(isinstance(err.get("message"), str) and err["message"], f"no message: {answer} at {where}")
                    cur.execute(state_sql)
                    self.assertEqual(cur.fetchone(), before, f"a refused call changed a table: {answer} at {where}")
        conn.close()
        log = server_log_since(offset)
        for bad in ("terminated by signal", "PANIC", "server process (PID"):
            self.assertNotIn(bad, log)
        print("    answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())) + "; no backend crash")
        self.assertGreater(sum(v for k, v in statuses.items() if k < 300), 0)
        self.assertGreater(sum(v for k, v in statuses.items() if k >= 400), n // 4)


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
