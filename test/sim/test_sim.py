#!/usr/bin/python3
"""Self-test of the simulator over HTTP: sessions, authentication, V3 header checks, every gateway
route's validation and callbacks, fault injection, the HIE-CM actions with the HIP's answers, the
HIU's decryption, and both delivery modes (http to a bridge run by this test; sql through a
throwaway PostgreSQL with a stub receive() when initdb is available).

Run: /usr/bin/python3 test/sim/test_sim.py   (or: cd test/sim && /usr/bin/python3 -m unittest test_sim)
"""

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fidelius_py as F  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from sim_state import now_iso  # noqa: E402
from simclient import SimError, SimProcess  # noqa: E402
from testutil import run_main  # noqa: E402

HIP = "HIP_A"
CLIENT, SECRET = "SBX_TEST", "s3cret"


class Bridge:
    """A stand-in for the HIP's bridge: records every gateway -> HIP call, answers `status`."""

    def __init__(self):
        self.calls, self.status, self.lock = [], 202, threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.calls.append({"path": self.path, "headers": dict(self.headers.items()),
                                        "body": json.loads(body) if body else None})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def wait(self, path, n=1, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hits = [c for c in self.calls if c["path"] == path]
            if len(hits) >= n:
                return hits
            time.sleep(0.02)
        raise AssertionError(f"no {n} call(s) to {path} on the bridge; got {[c['path'] for c in self.calls]}")

    def wait_for(self, pred, timeout=10):
        """The single call matching pred (fails on none or several)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hits = [c for c in self.calls if pred(c)]
            if hits:
                time.sleep(0.1)   # a second (wrong) delivery would arrive about now
                with self.lock:
                    hits = [c for c in self.calls if pred(c)]
                assert len(hits) == 1, f"{len(hits)} matching calls"
                return hits[0]
            time.sleep(0.02)
        raise AssertionError("no matching call on the bridge")

    def count(self, path):
        with self.lock:
            return sum(1 for c in self.calls if c["path"] == path)


SIM = BRIDGE = C = None


def setUpModule():
    global SIM, BRIDGE, C
    BRIDGE = Bridge()
    SIM = SimProcess(settings={"hip_ids": [HIP, "HIP_B"], "callback_delay_ms": 10,
                               "generate_token_dup_window_s": 2},
                     client_id=CLIENT, client_secret=SECRET, delivery="http", bridge_url=BRIDGE.url)
    C = SIM.client


def tearDownModule():
    SIM.stop()
    BRIDGE.srv.shutdown()
    BRIDGE.srv.server_close()


def gw_headers(token=None, **extra):
    h = {"REQUEST-ID": str(uuid.uuid4()), "TIMESTAMP": now_iso(), "X-CM-ID": "sbx",
         "Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    for k, v in extra.items():
        k = k.replace("_", "-")
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    return h


def call(path, body=None, headers=None, method="POST", raw=None, url=None):
    """(status, parsed body, response headers)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request((url or C.gateway_url) + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, payload, rh = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        status, payload, rh = exc.code, exc.read(), dict(exc.headers)
    return status, (json.loads(payload) if payload else None), rh


def session(client=CLIENT, secret=SECRET):
    st, body, _ = call("/gateway/v3/sessions", {"clientId": client, "clientSecret": secret,
                                                "grantType": "client_credentials"}, gw_headers())
    assert st == 200, (st, body)
    return body["accessToken"]


def code_of(body):
    return (body or {}).get("error", {}).get("code")


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def gen_token(token, address, hip=HIP, name="Hina Patel", gender="F", yob=1990, number=None, rid=None):
    body = {"abhaAddress": address, "name": name, "gender": gender, "yearOfBirth": yob}
    if number:
        body["abhaNumber"] = number
    h = gw_headers(token, X_HIP_ID=hip)
    if rid:
        h["REQUEST-ID"] = rid
    return call("/v3/token/generate-token", body, h), h["REQUEST-ID"]


def uniq(prefix="pt"):
    return f"{prefix}{uuid.uuid4().hex[:10]}@sbx"


class Sessions(unittest.TestCase):
    def test_session_shape_and_bad_credentials(self):
        st, body, _ = call("/gateway/v3/sessions", {"clientId": CLIENT, "clientSecret": SECRET}, gw_headers())
        self.assertEqual(st, 200)
        self.assertEqual(set(body), {"accessToken", "expiresIn", "refreshExpiresIn", "refreshToken", "tokenType"})
        self.assertEqual(body["expiresIn"], 1200)
        self.assertEqual(body["tokenType"], "bearer")
        st, body, _ = call("/gateway/v3/sessions", {"clientId": CLIENT, "clientSecret": "wrong"}, gw_headers())
        self.assertEqual(st, 401)
        st, _, _ = call("/gateway/v3/sessions", {"clientId": "SBX_OTHER", "clientSecret": SECRET}, gw_headers())
        self.assertEqual(st, 401)
        # The secret never lands in the request log.
        logged = C.requests(route="sessions")[-1]["body"]
        self.assertEqual(logged["clientSecret"], "***")

    def test_refresh_token(self):
        st, body, _ = call("/gateway/v3/sessions", {"clientId": CLIENT, "clientSecret": SECRET}, gw_headers())
        st, body2, _ = call("/gateway/v3/sessions", {"grantType": "refresh_token",
                                                     "refreshToken": body["refreshToken"]}, gw_headers())
        self.assertEqual(st, 200)
        self.assertNotEqual(body2["accessToken"], body["accessToken"])
        st, _, _ = call("/gateway/v3/sessions", {"grantType": "refresh_token",
                                                 "refreshToken": body["refreshToken"]}, gw_headers())
        self.assertEqual(st, 401, "a refresh token is single-use")

    def test_session_needs_v3_headers(self):
        st, _, _ = call("/gateway/v3/sessions", {"clientId": CLIENT, "clientSecret": SECRET},
                        gw_headers(REQUEST_ID=None))
        self.assertEqual(st, 403)

    def test_expiry_and_expire_all(self):
        C.set_config(expires_in=1)
        try:
            t = session()
        finally:
            C.set_config(expires_in=1200)
        st, _, _ = gen_token(t, uniq())[0]
        self.assertEqual(st, 202)
        time.sleep(1.2)
        st, body, _ = gen_token(t, uniq())[0]
        self.assertEqual((st, code_of(body)), (401, "900901"))
        t2 = session()
        C.expire_sessions()
        st, _, _ = gen_token(t2, uniq())[0]
        self.assertEqual(st, 401)


class Headers(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def post(self, **hdr):
        body = {"abhaAddress": uniq(), "name": "A B", "gender": "M", "yearOfBirth": 1980}
        return call("/v3/token/generate-token", body, gw_headers(self.t, **{"X_HIP_ID": HIP, **hdr}))

    def test_auth(self):
        st, body, _ = self.post(Authorization=None)
        self.assertEqual((st, code_of(body)), (401, "900902"))
        st, body, _ = self.post(Authorization="Bearer not-a-token")
        self.assertEqual((st, code_of(body)), (401, "900901"))
        st, body, _ = self.post(Authorization="Basic " + self.t)
        self.assertEqual(st, 401)

    def test_missing_headers_403(self):
        for h in ("REQUEST_ID", "TIMESTAMP", "X_CM_ID"):
            st, _, _ = self.post(**{h: None})
            self.assertEqual(st, 403, h)
        st, _, _ = self.post(REQUEST_ID="  ")
        self.assertEqual(st, 403)

    def test_malformed_headers_400(self):
        st, body, _ = self.post(REQUEST_ID="1234")
        self.assertEqual((st, code_of(body)), (400, "ABDM-1030"))
        for ts in ("2026-01-01 10:00:00", "2026-01-01T10:00:00.000+05:30", "yesterday",
                   now_iso(time.time() - 3600), now_iso(time.time() + 3600)):
            st, body, _ = self.post(TIMESTAMP=ts)
            self.assertEqual((st, code_of(body)), (400, "ABDM-1016"), ts)
        st, body, _ = self.post(X_CM_ID="abdm")
        self.assertEqual((st, code_of(body)), (400, "ABDM-9999"))
        st, body, _ = self.post(X_HIP_ID="HIP_UNKNOWN")
        self.assertEqual((st, code_of(body)), (400, "ABDM-1035"))
        st, body, _ = self.post(X_HIP_ID=None)
        self.assertEqual((st, code_of(body)), (400, "ABDM-1035"))
        st, body, _ = self.post(Content_Type="text/plain")
        self.assertEqual(st, 415)

    def test_unknown_path_404(self):
        st, _, _ = call("/v3/nope", {}, gw_headers(self.t))
        self.assertEqual(st, 404)


class LinkToken(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def test_generate_token_callback(self):
        addr = uniq()
        (st, body, _), rid = gen_token(self.t, addr, number="91178386101731")
        self.assertEqual((st, body), (202, None))
        cb = BRIDGE.wait_for(lambda c: c["path"] == "/api/v3/hip/token/on-generate-token"
                             and c["body"]["response"]["requestId"] == rid)
        self.assertEqual(cb["headers"]["X-HIP-ID"], HIP)
        self.assertTrue(uuid.UUID(cb["headers"]["REQUEST-ID"]))
        self.assertRegex(cb["headers"]["TIMESTAMP"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(cb["body"]["abhaAddress"], addr)
        _, claims_part, _ = cb["body"]["linkToken"].split(".")
        claims = b64url_json(claims_part)
        self.assertEqual((claims["hipId"], claims["sub"], claims["abhaAddress"], claims["abhaNumber"]),
                         (HIP, addr, addr, 91178386101731))
        self.assertEqual(claims["exp"] - claims["iat"], 15_768_000)
        self.verify_gateway_jwt(cb["headers"]["Authorization"])

    def verify_gateway_jwt(self, auth):
        """The callback bearer is an RS256 JWT that verifies against the sim's JWKS."""
        self.assertTrue(auth.startswith("Bearer "))
        h, c, s = auth[7:].split(".")
        st, jwks, _ = call("/gateway/v3/certs", method="GET")
        self.assertEqual(st, 200)
        key = next(k for k in jwks["keys"] if k["kid"] == b64url_json(h)["kid"])
        n = int.from_bytes(base64.urlsafe_b64decode(key["n"] + "=="), "big")
        e = int.from_bytes(base64.urlsafe_b64decode(key["e"] + "=="), "big")
        pub = rsa.RSAPublicNumbers(e, n).public_key()
        pub.verify(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), f"{h}.{c}".encode(),
                   padding.PKCS1v15(), hashes.SHA256())   # raises if it does not verify
        claims = b64url_json(c)
        self.assertEqual((claims["aud"], claims["azp"]), ("account", "gateway"))
        self.assertGreater(claims["exp"], time.time())

    def test_duplicate_window_and_replay(self):
        addr = uniq()
        (st, _, _), rid = gen_token(self.t, addr)
        self.assertEqual(st, 202)
        (st, body, _), _ = gen_token(self.t, addr)
        self.assertEqual((st, code_of(body)), (400, "ABDM-1092"))
        # Same REQUEST-ID again (a sender retry): same answer, no second callback.
        (st, _, _), _ = gen_token(self.t, addr, rid=rid)
        self.assertEqual(st, 202)
        time.sleep(0.3)
        recs = C.requests(route="generate-token", requestId=rid)
        self.assertEqual([r.get("duplicate", False) for r in recs], [False, True])
        self.assertEqual(len(C.deliveries(kind="on-generate-token", inReplyTo=rid)), 1)
        time.sleep(2.0)   # window is 2 s in this test
        (st, _, _), _ = gen_token(self.t, addr)
        self.assertEqual(st, 202)

    def test_daily_limit_blocks_via_callback(self):
        C.set_config(generate_token_dup_window_s=0, generate_token_daily_limit=2)
        try:
            addr = uniq()
            rids = [gen_token(self.t, addr)[1] for _ in range(3)]
        finally:
            C.set_config(generate_token_dup_window_s=2, generate_token_daily_limit=3)
        d = C.wait_for_deliveries(kind="on-generate-token", inReplyTo=rids[2])[0]
        self.assertTrue(d["body"]["error"]["code"].startswith("ABDM-1027"))
        self.assertNotIn("linkToken", d["body"])

    def test_body_validation(self):
        h = lambda: gw_headers(self.t, X_HIP_ID=HIP)  # noqa: E731
        cases = [
            ({"name": "A", "gender": "M", "yearOfBirth": 1990}, "ABDM-1125"),
            ({"abhaAddress": uniq(), "name": "A", "gender": "X", "yearOfBirth": 1990}, "ABDM-9999"),
            ({"abhaAddress": uniq(), "gender": "M", "yearOfBirth": 1990}, "ABDM-9999"),
            ({"abhaAddress": uniq(), "name": "A", "gender": "M", "yearOfBirth": "1990"}, "ABDM-9999"),
            ({"abhaNumber": "9117-8386-1017-31", "name": "A", "gender": "M", "yearOfBirth": 1990}, "ABDM-9999"),
            ({"abhaAddress": "x@abdm", "name": "A", "gender": "M", "yearOfBirth": 1990}, "ABDM-9999"),
        ]
        for body, want in cases:
            st, resp, _ = call("/v3/token/generate-token", body, h())
            self.assertEqual((st, code_of(resp)), (400, want), body)
        st, resp, _ = call("/v3/token/generate-token", raw=b"", headers=h())
        self.assertEqual((st, code_of(resp)), (400, "ABDM-1064"))
        st, resp, _ = call("/v3/token/generate-token", raw=b"{not json", headers=h())
        self.assertEqual((st, code_of(resp)), (400, "ABDM-1064"))

    def test_demographic_mismatch(self):
        addr = uniq()
        C.register_abha({"abhaAddress": addr, "abhaNumber": "12345678901234", "name": "Hina Patel",
                         "gender": "F", "yearOfBirth": 1990})
        (st, _, _), rid_ok = gen_token(self.t, addr, name="hina  PATEL", yob=1992)
        self.assertEqual(st, 202)
        ok = C.wait_for_deliveries(kind="on-generate-token", inReplyTo=rid_ok)[0]
        self.assertIn("linkToken", ok["body"])
        self.assertEqual(b64url_json(ok["body"]["linkToken"].split(".")[1])["abhaNumber"], 12345678901234)
        addr2 = uniq()
        C.register_abha({"abhaAddress": addr2, "name": "Hina Patel", "gender": "F", "yearOfBirth": 1990})
        (st, _, _), rid_bad = gen_token(self.t, addr2, yob=1993)
        d = C.wait_for_deliveries(kind="on-generate-token", inReplyTo=rid_bad)[0]
        self.assertTrue(d["body"]["error"]["code"].startswith("ABDM-1207"))


def cc_entry(pref, hi_type, refs, count=None):
    return {"referenceNumber": pref, "display": "Patient", "hiType": hi_type,
            "careContexts": [{"referenceNumber": r, "display": f"Visit {r}"} for r in refs],
            "count": len(refs) if count is None else count}


class LinkCareContext(unittest.TestCase):
    def setUp(self):
        self.t = session()
        self.addr = uniq()
        self.link_token = C.mint_link_token(self.addr, hip_id=HIP)["linkToken"]

    def link(self, patient, token=None, hip=HIP, addr=None, extra=None):
        body = {"abhaAddress": addr or self.addr, "patient": patient, **(extra or {})}
        h = gw_headers(self.t, X_HIP_ID=hip, X_LINK_TOKEN=token or self.link_token)
        st, resp, _ = call("/hip/v3/link/carecontext", body, h)
        return st, resp, h["REQUEST-ID"]

    def test_link_then_already_linked(self):
        st, _, rid = self.link([cc_entry("P1", "Prescription", ["OPD-1", "OPD-2"]),
                                cc_entry("P1", "DiagnosticReport", ["LAB-1"])])
        self.assertEqual(st, 202)
        d = C.wait_for_deliveries(kind="on-carecontext", inReplyTo=rid)[0]
        self.assertEqual(d["path"], "/api/v3/link/on_carecontext")
        self.assertEqual(d["body"], {"abhaAddress": self.addr, "status": "Successfully Linked care context",
                                     "response": {"requestId": rid}})
        self.assertEqual(len(C.links(abhaAddress=self.addr)), 3)
        st, _, rid2 = self.link([cc_entry("P1", "Prescription", ["OPD-1"])])
        d = C.wait_for_deliveries(kind="on-carecontext", inReplyTo=rid2)[0]
        self.assertEqual(d["body"]["error"]["code"], "ABDM-1056")

    def test_count_mismatch_via_callback(self):
        st, _, rid = self.link([cc_entry("P1", "Prescription", ["A", "B"], count=3)])
        self.assertEqual(st, 202)
        d = C.wait_for_deliveries(kind="on-carecontext", inReplyTo=rid)[0]
        self.assertEqual(d["body"]["error"]["code"], "ABDM-1037")

    def test_sync_validation(self):
        refs21 = [f"C{i}" for i in range(21)]
        bad_array = cc_entry("P1", "Prescription", ["A"])
        bad_array["hiType"] = ["Prescription"]
        cases = [
            ([cc_entry("P1", "Prescription", refs21)], "ABDM-9999"),
            ([cc_entry("P1", "Prescription", [])], "ABDM-9999"),
            ([bad_array], "ABDM-9999"),
            ([cc_entry("P1", "XRay", ["A"])], "ABDM-9999"),
            ([cc_entry("P1", "Prescription", ["A"]), cc_entry("P1", "Prescription", ["B"])], "ABDM-9999"),
            ([], "ABDM-1115"),
        ]
        for patient, want in cases:
            st, resp, _ = self.link(patient)
            self.assertEqual((st, code_of(resp)), (400, want), json.dumps(patient)[:120])
        ok = [cc_entry("P1", "prescription", [f"C{i}" for i in range(20)])]
        self.assertEqual(self.link(ok)[0], 202, "20 care contexts and a lower-case hiType are accepted")

    def test_token_checks(self):
        p = [cc_entry("P1", "Prescription", ["A"])]
        self.assertEqual(code_of(self.link(p, hip="HIP_B")[1]), "ABDM-1063")
        other = uniq()
        self.assertEqual(code_of(self.link(p, addr=other)[1]), "ABDM-1038")
        self.assertEqual(code_of(self.link(p, token="abc.def.ghi")[1]), "ABDM-1066")
        h = gw_headers(self.t, X_HIP_ID=HIP)
        st, resp, _ = call("/hip/v3/link/carecontext", {"abhaAddress": self.addr, "patient": p}, h)
        self.assertEqual((st, code_of(resp)), (400, "ABDM-1066"))
        tok_n = C.mint_link_token(self.addr, hip_id=HIP, abha_number="11112222333344")["linkToken"]
        self.assertEqual(code_of(self.link(p, token=tok_n, extra={"abhaNumber": "99998888777766"})[1]), "ABDM-1062")
        C.revoke_link_token(self.link_token)
        self.assertEqual(code_of(self.link(p)[1]), "ABDM-1026")
        expired = C.mint_link_token(self.addr, hip_id=HIP, ttl=-1)["linkToken"]
        self.assertEqual(code_of(self.link(p, token=expired)[1]), "ABDM-1026")


class Notifications(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def test_context_notify(self):
        body = {"notification": {"patient": {"id": "a@sbx"},
                                 "careContext": {"patientReference": "P1", "careContextReference": "OPD-1"},
                                 "hiTypes": ["DiagnosticReport"], "date": now_iso(), "hip": {"id": HIP}}}
        h = gw_headers(self.t, X_HIP_ID=HIP)
        st, _, _ = call("/hip/v3/link/context/notify", body, h)
        self.assertEqual(st, 202)
        d = C.wait_for_deliveries(kind="context-on-notify", inReplyTo=h["REQUEST-ID"])[0]
        self.assertEqual(d["path"], "/api/v3/links/context/on-notify")
        self.assertEqual(d["body"]["acknowledgement"], {"status": "SUCCESS"})
        self.assertEqual(d["body"]["response"], {"requestId": h["REQUEST-ID"]})
        self.assertEqual(d["body"]["requestId"], d["requestId"])
        body["notification"]["hip"]["id"] = "HIP_B"
        st, resp, _ = call("/hip/v3/link/context/notify", body, gw_headers(self.t, X_HIP_ID=HIP))
        self.assertEqual((st, code_of(resp)), (400, "ABDM-1035"))
        body["notification"]["hip"]["id"] = HIP
        body["notification"]["hiTypes"] = []
        st, resp, _ = call("/hip/v3/link/context/notify", body, gw_headers(self.t, X_HIP_ID=HIP))
        self.assertEqual(st, 400)

    def test_sms_notify(self):
        for phone in ("9876543210", "919876543210", "+91-9876543210"):
            h = gw_headers(self.t)
            st, _, _ = call("/hip/v3/link/patient/links/sms/notify2",
                            {"notification": {"phoneNo": phone, "hip": {"name": "Sim Hospital", "id": HIP}}}, h)
            self.assertEqual(st, 202, phone)
        d = C.wait_for_deliveries(kind="sms-on-notify", inReplyTo=h["REQUEST-ID"])[0]
        self.assertEqual(d["path"], "/api/v3/patients/sms/on-notify")
        self.assertEqual(d["body"]["status"], "SUCCESS")
        self.assertEqual(d["body"]["resp"], {"requestId": h["REQUEST-ID"]})
        self.assertNotIn("response", d["body"])
        for phone in ("12345", "+1-9876543210"):
            st, resp, _ = call("/hip/v3/link/patient/links/sms/notify2",
                               {"notification": {"phoneNo": phone, "hip": {"id": HIP}}}, gw_headers(self.t))
            self.assertEqual(st, 400, phone)


class Faults(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def tearDown(self):
        C.clear_faults()

    def sms(self, phone="9876543210", token=None):
        return call("/hip/v3/link/patient/links/sms/notify2",
                    {"notification": {"phoneNo": phone, "hip": {"id": HIP}}}, gw_headers(token or self.t))

    def test_n_times_500_then_ok(self):
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", status=500, times=2)
        self.assertEqual([self.sms()[0] for _ in range(3)], [500, 500, 202])
        self.assertEqual(C.faults()[0]["fired"], 2)

    def test_429_with_header_and_skip(self):
        C.add_fault("/api/hiecm/hip/v3/link/patient/links/sms/notify2", status=429, skip=1, times=1,
                    headers={"Retry-After": "1"})
        self.assertEqual(self.sms()[0], 202)
        st, body, rh = self.sms()
        self.assertEqual((st, rh.get("Retry-After")), (429, "1"))
        self.assertEqual(self.sms()[0], 202)

    def test_401_and_expire_sessions(self):
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", status=401, times=1)
        st, body, _ = self.sms()
        self.assertEqual((st, code_of(body)), (401, "900901"))
        self.assertEqual(self.sms()[0], 202, "a plain 401 fault leaves the session valid")
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", expire_sessions=True, times=1)
        self.assertEqual(self.sms()[0], 401)
        self.assertEqual(self.sms(token=session())[0], 202)

    def test_delay_and_drop(self):
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", delay_ms=400, times=1)
        t0 = time.time()
        self.assertEqual(self.sms()[0], 202)
        self.assertGreaterEqual(time.time() - t0, 0.4)
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", drop=True, times=1)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
            self.sms()
        self.assertEqual(self.sms()[0], 202)

    def test_error_envelope_and_empty_body(self):
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", error_envelope=True, times=1)
        st, body, _ = self.sms()
        self.assertEqual(st, 200)
        self.assertEqual(code_of(body), "ABDM-9999")
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", status=400, empty_body=True, times=1)
        self.assertEqual(self.sms()[:2], (400, None))

    def test_body_contains_poisons_one_call(self):
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", body_contains="9000000001", status=500)
        self.assertEqual(self.sms("9000000001")[0], 500)
        self.assertEqual(self.sms("9000000002")[0], 202)
        self.assertEqual(self.sms("9000000001")[0], 500)

    def test_callback_faults(self):
        C.add_fault("/v3/token/generate-token", callback={"drop": True}, times=1)
        (st, _, _), rid = gen_token(self.t, uniq())
        self.assertEqual(st, 202)
        time.sleep(0.3)
        self.assertEqual(C.deliveries(inReplyTo=rid)[0]["state"], "dropped")
        C.add_fault("/v3/token/generate-token", callback={"error": {"code": "ABDM-1024", "message": "down"}}, times=1)
        (st, _, _), rid = gen_token(self.t, uniq())
        d = C.wait_for_deliveries(kind="on-generate-token", inReplyTo=rid)[0]
        self.assertEqual(d["body"]["error"]["code"], "ABDM-1024")
        C.add_fault("/v3/token/generate-token", callback={"delay_ms": 500}, times=1)
        (st, _, _), rid = gen_token(self.t, uniq())
        d = C.wait_for_deliveries(kind="on-generate-token", inReplyTo=rid)[0]
        self.assertGreaterEqual(d["deliveredAt"] - d["createdAt"], 0.5)

    def test_bad_rules_refused(self):
        for rule in ({"status": 500}, {"path": "/x"}, {"path": "/x", "status": -1}, {"path": "/x", "bogus": 1}):
            with self.assertRaises(SimError):
                C.post("/_sim/faults", rule)


class HieCmFlows(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def answer(self, path, body, rid=None):
        h = gw_headers(self.t)
        if rid:
            h["REQUEST-ID"] = rid
        return call(path, body, h)

    def test_discover_link_confirm(self):
        addr = uniq()
        r = C.discover(hipId=HIP, abhaAddress=addr, name="Hina Patel", gender="F", yearOfBirth=1990,
                       mobile="9800083232", mr="MR-1")
        self.assertEqual(r["delivery"]["status"], 202)
        call_ = BRIDGE.wait_for(lambda c: c["path"] == "/api/v3/hip/patient/care-context/discover"
                                and (c["body"] or {}).get("transactionId") == r["transactionId"])
        self.assertEqual(call_["body"]["patient"]["verifiedIdentifiers"][0], {"type": "MOBILE", "value": "9800083232"})
        self.verify_headers(call_)
        txn, rid = r["transactionId"], r["requestId"]
        good = {"transactionId": txn, "patient": [cc_entry("P1", "OPConsultation", ["OPD-1", "OPD-2"])],
                "matchedBy": ["MOBILE"], "response": {"requestId": rid}}
        st, body, _ = self.answer("/user-initiated-linking/v3/patient/care-context/on-discover",
                                  dict(good, response={"requestId": str(uuid.uuid4())}))
        self.assertEqual((st, code_of(body)), (400, "ABDM-1015"))
        bad = json.loads(json.dumps(good))
        bad["patient"][0]["count"] = 5
        st, body, _ = self.answer("/user-initiated-linking/v3/patient/care-context/on-discover", bad)
        self.assertEqual((st, code_of(body)), (400, "ABDM-1059"))
        st, _, _ = self.answer("/user-initiated-linking/v3/patient/care-context/on-discover", good)
        self.assertEqual(st, 202)
        st, body, _ = self.answer("/user-initiated-linking/v3/patient/care-context/on-discover", good)
        self.assertEqual((st, code_of(body)), (400, "ABDM-1106"))
        self.assertEqual(C.wait_for_answer(rid)["route"], "on-discover")

        init = C.link_init(transactionId=txn, careContexts=["OPD-2"])
        self.assertEqual(init["body"]["patient"], [{"referenceNumber": "P1", "careContexts": [{"referenceNumber": "OPD-2"}],
                                                    "hiType": "OPConsultation", "count": 1}])
        self.assertEqual(init["body"]["abhaAddress"], addr)
        on_init = {"transactionId": txn, "link": {"referenceNumber": "LINK-REF-1", "authenticationType": "DIRECT",
                                                  "meta": {"communicationMedium": "MOBILE", "communicationHint": "OTP",
                                                           "communicationExpiry": now_iso(time.time() + 600)}},
                   "response": {"requestId": init["requestId"]}}
        expired = json.loads(json.dumps(on_init))
        expired["link"]["meta"]["communicationExpiry"] = now_iso(time.time() - 1)
        self.assertEqual(self.answer("/user-initiated-linking/v3/link/care-context/on-init", expired)[0], 400)
        self.assertEqual(self.answer("/user-initiated-linking/v3/link/care-context/on-init", on_init)[0], 202)

        conf = C.link_confirm(transactionId=txn, token="123456")
        self.assertEqual(conf["body"], {"confirmation": {"linkRefNumber": "LINK-REF-1", "token": "123456"}})
        on_conf = {"patient": [cc_entry("P1", "OPConsultation", ["OPD-2"])], "response": {"requestId": conf["requestId"]}}
        self.assertEqual(self.answer("/user-initiated-linking/v3/link/care-context/on-confirm", on_conf)[0], 202)
        links = C.links(abhaAddress=addr)
        self.assertEqual([(x["careContextReference"], x["via"]) for x in links], [("OPD-2", "user-initiated")])
        # An error answer is also a valid on-confirm.
        conf2 = C.link_confirm(transactionId=txn, token="000000")
        st, _, _ = self.answer("/user-initiated-linking/v3/link/care-context/on-confirm",
                               {"error": {"code": "ABDM-1035", "message": "Incorrect OTP"},
                                "response": {"requestId": conf2["requestId"]}})
        self.assertEqual(st, 202)

    def verify_headers(self, call_):
        h = call_["headers"]
        self.assertEqual(h["X-HIP-ID"], HIP)
        self.assertTrue(h["Authorization"].startswith("Bearer "))
        uuid.UUID(h["REQUEST-ID"])

    def test_consent_notify_and_ack(self):
        addr = uniq()
        ccs = [{"patientReference": "P1", "careContextReference": "OPD-1"}]
        r = C.consent_notify(hipId=HIP, abhaAddress=addr, careContexts=ccs, hiTypes=["OPConsultation"])
        n = r["body"]["notification"]
        self.assertEqual(n["status"], "GRANTED")
        d = n["consentDetail"]
        for key in ("schemaVersion", "consentId", "createdAt", "patient", "careContexts", "purpose", "hip", "hiu",
                    "requester", "consentManager", "hiTypes", "permission"):
            self.assertIn(key, d)
        self.assertEqual(d["careContexts"], ccs)
        self.assertEqual(set(d["permission"]), {"accessMode", "dateRange", "dataEraseAt", "frequency"})
        ack = {"acknowledgement": {"status": "OK", "consentId": r["consentId"]}, "response": {"requestId": r["requestId"]}}
        wrong = {"acknowledgement": {"status": "OK", "consentId": str(uuid.uuid4())}, "response": {"requestId": r["requestId"]}}
        self.assertEqual(self.answer("/consent/v3/request/hip/on-notify", wrong)[0], 400)
        self.assertEqual(self.answer("/consent/v3/request/hip/on-notify", ack)[0], 202)
        rv = C.consent_notify(status="REVOKED", consentId=r["consentId"])
        self.assertEqual(rv["body"]["notification"]["status"], "REVOKED")
        self.assertEqual(rv["body"]["notification"]["consentDetail"]["careContexts"], ccs)
        self.assertEqual(rv["hipId"], HIP)
        no_detail = C.consent_notify(status="EXPIRED", consentId=r["consentId"], includeDetail=False)
        self.assertNotIn("consentDetail", no_detail["body"]["notification"])
        with self.assertRaises(SimError):
            C.consent_notify(status="REVOKED")

    def test_overrides_headers_and_raw_send(self):
        r = C.discover(hipId=HIP, abhaAddress=uniq(), name="X", gender="M", yearOfBirth=1970,
                       overrides={"patient": {"gender": None}}, headers={"X-HIP-ID": None, "TIMESTAMP": "junk"})
        self.assertNotIn("gender", r["body"]["patient"])
        self.assertNotIn("X-HIP-ID", r["headers"])
        self.assertEqual(r["headers"]["TIMESTAMP"], "junk")
        r = C.send("/api/v3/hip/patient/care-context/discover", {"any": "thing"}, hipId=HIP)
        self.assertEqual(r["delivery"]["status"], 202)
        BRIDGE.wait_for(lambda c: c["headers"].get("REQUEST-ID") == r["requestId"] and c["body"] == {"any": "thing"})
        BRIDGE.status = 500
        try:
            r = C.send("/api/v3/x", {}, hipId=HIP)
        finally:
            BRIDGE.status = 202
        self.assertEqual(r["delivery"]["status"], 500)


class HiuSide(unittest.TestCase):
    """The test plays the HIP: encrypts with its own key pair and pushes to the sim's HIU."""

    def setUp(self):
        self.t = session()
        self.consent = C.consent_notify(hipId=HIP, abhaAddress=uniq(), hiTypes=["OPConsultation"],
                                        careContexts=[{"patientReference": "P1", "careContextReference": "OPD-1"},
                                                      {"patientReference": "P1", "careContextReference": "OPD-2"}])

    def request(self, **kw):
        r = C.hi_request(consentId=self.consent["consentId"], **kw)
        self.assertEqual(r["hipId"], HIP)
        return r

    def push(self, r, bundles, x509=True, tamper=None, page=(1, 1), checksum_fix=None, url=None):
        km = r["body"]["hiRequest"]["keyMaterial"]
        hip = F.KeyMaterial()
        entries = []
        for ref, text in bundles:
            ct = F.encrypt(text, hip.private_key, hip.nonce_b64, km["dhPublicKey"]["keyValue"], km["nonce"])
            if tamper == ref:
                raw = bytearray(base64.b64decode(ct))
                raw[0] ^= 1
                ct = base64.b64encode(bytes(raw)).decode()
            entries.append({"content": ct, "media": "application/fhir+json",
                            "checksum": (checksum_fix or {}).get(ref, F.md5_base64(text)), "careContextReference": ref})
        body = {"pageNumber": page[0], "pageCount": page[1], "transactionId": r["transactionId"], "entries": entries,
                "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
                                "dhPublicKey": {"expiry": now_iso(time.time() + 3600),
                                                "parameters": "Curve25519/32byte random key",
                                                "keyValue": hip.x509_public_key if x509 else hip.public_key},
                                "nonce": hip.nonce_b64}}
        return call("", body, {"Content-Type": "application/json"}, url=url or r["body"]["hiRequest"]["dataPushUrl"])

    def test_request_shape(self):
        r = self.request()
        hr = r["body"]["hiRequest"]
        self.assertEqual(hr["consent"], {"id": self.consent["consentId"]})
        self.assertEqual(hr["dataPushUrl"], C.hiu_push_url)
        km = hr["keyMaterial"]
        self.assertEqual((km["cryptoAlg"], km["curve"]), ("ECDH", "Curve25519"))
        self.assertEqual(len(base64.b64decode(km["dhPublicKey"]["keyValue"])), 65)
        self.assertEqual(len(base64.b64decode(km["nonce"])), 32)
        self.assertEqual(hr["dateRange"], self.consent["body"]["notification"]["consentDetail"]["permission"]["dateRange"])
        expired = self.request(keyExpiresIn=-60)
        self.assertLess(expired["body"]["hiRequest"]["keyMaterial"]["dhPublicKey"]["expiry"], now_iso())
        self.assertEqual(len(base64.b64decode(self.request(keyEncoding="x509")["body"]["hiRequest"]["keyMaterial"]
                                              ["dhPublicKey"]["keyValue"])), 309)

    def test_push_decrypt_and_notify(self):
        r = self.request()
        b1 = json.dumps({"resourceType": "Bundle", "id": "b1", "note": "नमस्ते"}, ensure_ascii=False)
        b2 = json.dumps({"resourceType": "Bundle", "id": "b2"})
        st, _, _ = self.push(r, [("OPD-1", b1), ("OPD-2", b2)])
        self.assertEqual(st, 202)
        t = C.hiu_transfer(r["transactionId"])
        self.assertEqual([(e["careContextReference"], e["ok"], e["plaintext"]) for e in t["entries"]],
                         [("OPD-1", True, b1), ("OPD-2", True, b2)])
        self.assertEqual(t["pushes"][0]["keyEncoding"], "x509")
        self.assertTrue(t["summary"]["complete"])
        # HI acknowledgement and transfer notify as the HIP sends them.
        st, _, _ = call("/data-flow/v3/health-information/hip/on-request",
                        {"hiRequest": {"transactionId": r["transactionId"], "sessionStatus": "ACKNOWLEDGED"},
                         "response": {"requestId": r["requestId"]}}, gw_headers(self.t))
        self.assertEqual(st, 202)
        notify = {"notification": {"consentId": self.consent["consentId"], "transactionId": r["transactionId"],
                                   "doneAt": now_iso(), "notifier": {"type": "HIP", "id": HIP},
                                   "statusNotification": {"sessionStatus": "TRANSFERRED", "hipId": HIP,
                                                          "statusResponses": [
                                                              {"careContextReference": "OPD-1", "hiStatus": "DELIVERED",
                                                               "description": "Delivered"}]}}}
        st, body, _ = call("/data-flow/v3/health-information/notify", notify, gw_headers(self.t))
        self.assertEqual((st, body), (202, {"status": "Notification is Accepted"}))
        t = C.wait_for_transfer(r["transactionId"])
        self.assertEqual(t["summary"]["notified"], ["TRANSFERRED"])
        self.assertGreaterEqual(t["summary"]["requestToNotifyMs"], t["summary"]["requestToFirstPushMs"])
        self.assertEqual(t["acknowledgement"]["sessionStatus"], "ACKNOWLEDGED")
        notify["notification"]["transactionId"] = str(uuid.uuid4())
        self.assertEqual(call("/data-flow/v3/health-information/notify", notify, gw_headers(self.t))[0], 400)

    def test_bad_entries_recorded(self):
        r = self.request()
        st, _, _ = self.push(r, [("OPD-1", "one"), ("OPD-2", "two")], x509=False, tamper="OPD-1",
                             checksum_fix={"OPD-2": "AAAAAAAAAAAAAAAAAAAAAA=="})
        self.assertEqual(st, 202)
        e1, e2 = C.hiu_transfer(r["transactionId"])["entries"]
        self.assertEqual((e1["ok"], e1["errorClass"]), (False, "authentication-failed"))
        self.assertEqual((e2["ok"], e2["checksumOk"], e2["plaintext"]), (False, False, "two"))
        # A second push of the same page is flagged.
        self.push(r, [("OPD-1", "one")])
        self.assertEqual(C.hiu_transfer(r["transactionId"])["summary"]["duplicatePages"], 1)

    def test_push_validation(self):
        r = self.request()
        url = r["body"]["hiRequest"]["dataPushUrl"]
        st, body, _ = call("", {"pageNumber": 1, "pageCount": 1, "transactionId": str(uuid.uuid4()), "entries": [],
                                "keyMaterial": {}}, {"Content-Type": "application/json"}, url=url)
        self.assertEqual(st, 400)
        self.assertEqual(self.push(r, [("OPD-1", "x")], page=(3, 2))[0], 400)
        C.set_config(hiu_max_page_count=1)
        try:
            self.assertEqual(self.push(r, [("OPD-1", "x")], page=(1, 2))[0], 400)
        finally:
            C.set_config(hiu_max_page_count=None)
        good = {"pageNumber": 1, "pageCount": 1, "transactionId": r["transactionId"],
                "entries": [{"content": "x", "link": "y", "media": "m", "checksum": "c", "careContextReference": "r"}],
                "keyMaterial": {}}
        st, body, _ = call("", good, {"Content-Type": "application/json"}, url=url)
        self.assertEqual(st, 400)

    def test_hiu_down_up_and_faults(self):
        r = self.request()
        C.hiu_down()
        with self.assertRaises(urllib.error.URLError) as cm:
            self.push(r, [("OPD-1", "x")])
        self.assertIsInstance(cm.exception.reason, ConnectionRefusedError)
        C.hiu_up()
        self.assertEqual(self.push(r, [("OPD-1", "x")])[0], 202)
        C.add_fault("/hiu/data-push", status=503, times=1)
        try:
            self.assertEqual(self.push(r, [("OPD-1", "x")])[0], 503)
            C.add_fault("/hiu/data-push", status=413, times=1)
            self.assertEqual(self.push(r, [("OPD-1", "x")])[0], 413)
            self.assertEqual(self.push(r, [("OPD-1", "x")])[0], 202)
        finally:
            C.clear_faults()
        recs = C.requests(route="hiu-data-push")
        self.assertTrue(all("<" in e["content"] for x in recs for e in x["body"].get("entries", [])
                            if isinstance(e, dict) and "content" in e), "ciphertexts are summarised in the log")


class Control(unittest.TestCase):
    def test_clear_and_config(self):
        with self.assertRaises(SimError):
            C.set_config(no_such_setting=1)
        with self.assertRaises(SimError):
            C.set_config(delivery="carrier-pigeon")
        session()
        self.assertTrue(C.requests(route="sessions"))
        C.add_fault("/x", status=500)
        C.clear()
        self.assertEqual((C.requests(), C.faults()), ([], []))
        self.assertGreaterEqual(C.sessions()["active"], 1, "sessions survive a clear by default")

    def test_gateway_down_and_up(self):
        t = session()
        C.gateway_down()
        try:
            with self.assertRaises(urllib.error.URLError) as cm:
                session()
            self.assertIsInstance(cm.exception.reason, ConnectionRefusedError)
            self.assertFalse(C.health()["up"]["gateway"], "the control port still answers")
        finally:
            C.gateway_up()
        st, _, _ = call("/hip/v3/link/patient/links/sms/notify2",
                        {"notification": {"phoneNo": "9876543210", "hip": {"id": HIP}}}, gw_headers(t))
        self.assertEqual(st, 202, "same port, same sessions after the gateway is back")

    def test_hook_records(self):
        st, _, _ = call("/hooks/sms", {"mobile": "9800000000", "message": "OTP 123456"},
                        {"Content-Type": "application/json"}, url=C.urls["root"])
        self.assertEqual(st, 202)
        self.assertEqual(C.requests(route="hook")[-1]["body"]["message"], "OTP 123456")

    def test_openid_and_bridge_registration(self):
        st, body, _ = call("/gateway/v3/.well-known/openid-configuration", method="GET")
        self.assertEqual((st, body["jwks_uri"]), (200, C.gateway_url + "/gateway/v3/certs"))
        t = session()
        st, _, _ = call("/gateway/v3/bridge/url", {"url": "https://hip.example/abdm"}, gw_headers(t), method="PATCH")
        self.assertEqual(st, 202)
        st, body, _ = call("/gateway/v3/bridge-services", None, gw_headers(t), method="GET")
        self.assertEqual(body["bridge"]["url"], "https://hip.example/abdm")
        self.assertEqual([s["id"] for s in body["services"]], [HIP, "HIP_B"])


class DeliveryOptions(unittest.TestCase):
    def test_lower_case_headers(self):
        C.set_config(header_case="lower")
        try:
            r = C.send("/api/v3/lower", {}, hipId=HIP)
        finally:
            C.set_config(header_case="documented")
        self.assertEqual(set(r["headers"]), {"request-id", "timestamp", "x-hip-id", "authorization", "content-type"})
        got = BRIDGE.wait_for(lambda c: c["path"] == "/api/v3/lower")
        self.assertEqual(got["headers"]["x-hip-id"], HIP)

    def test_redelivery_of_refused_callback(self):
        C.set_config(redeliver_after_ms=200, redeliver_max=2)
        BRIDGE.status = 503
        try:
            (st, _, _), rid = gen_token(session(), uniq())
            self.assertEqual(st, 202)
            C.wait_for(lambda: C.deliveries(inReplyTo=rid)[0]["attempts"] >= 3, timeout=10, what="3 attempts")
            # The third attempt is counted before its answer arrives: keep refusing until the bridge
            # has seen all three calls and the delivery has recorded the last answer.
            C.wait_for(lambda: len([x for x in list(BRIDGE.calls)
                                    if (x["body"] or {}).get("response", {}).get("requestId") == rid]) >= 3,
                       timeout=10, what="3 calls on the bridge")
            C.wait_for(lambda: C.deliveries(inReplyTo=rid)[0]["state"] not in ("queued", "redeliver-pending"),
                       timeout=10, what="last answer recorded")
        finally:
            BRIDGE.status = 202
            C.set_config(redeliver_after_ms=0, redeliver_max=0)
        d = C.deliveries(inReplyTo=rid)[0]
        self.assertEqual((d["attempts"], d["status"]), (3, 503))
        calls = [c for c in BRIDGE.calls if (c["body"] or {}).get("response", {}).get("requestId") == rid]
        self.assertEqual(len(calls), 3)
        self.assertEqual(len({c["headers"]["REQUEST-ID"] for c in calls}), 1, "a re-delivery keeps its REQUEST-ID")


class ClientCli(unittest.TestCase):
    def test_cli(self):
        cli = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "simclient.py"),
               "--url", SIM.info["control"]]
        out = subprocess.run(cli + ["health"], capture_output=True, text=True, check=True).stdout
        self.assertTrue(json.loads(out)["ok"])
        out = subprocess.run(cli + ["fault", '{"path": "/cli-test", "status": 500}'], capture_output=True,
                             text=True, check=True).stdout
        self.assertEqual(json.loads(out)[0]["path"], "/cli-test")
        bad = subprocess.run(cli + ["cm", "consent-notify", '{"status": "NOPE"}'], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("GRANTED", bad.stderr)
        C.clear_faults()


class Sink(unittest.TestCase):
    def test_sink_counts(self):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "port")
            proc = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "sink.py"),
                                     "--port-file", pf, "--delay-ms", "50"], stdout=subprocess.DEVNULL)
            try:
                deadline = time.time() + 10
                while not os.path.exists(pf) and time.time() < deadline:
                    time.sleep(0.05)
                url = f"http://127.0.0.1:{open(pf).read().strip()}"
                st, body, _ = call("/api/hiecm/gateway/v3/sessions", {}, gw_headers(), url=url)
                self.assertEqual((st, body["accessToken"]), (200, "sink-token"))
                conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]))
                t0 = time.time()
                for rid in ("a", "b", "a"):
                    conn.request("POST", "/api/hiecm/v3/x", b"{}", {"REQUEST-ID": rid})
                    r = conn.getresponse()
                    r.read()
                    self.assertEqual(r.status, 202)
                self.assertGreaterEqual(time.time() - t0, 0.15, "each answer waits --delay-ms")
                conn.close()
                st, stats, _ = call("/_sink/stats", method="GET", url=url)
                self.assertEqual((stats["total"], stats["distinctRequestIds"], stats["duplicateRequestIds"]), (4, 3, 1))
                self.assertEqual(stats["byPath"]["/api/hiecm/v3/x"], 3)
            finally:
                proc.terminate()
                proc.wait(10)


# -- sql delivery ----------------------------------------------------------------------------------

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SqlDelivery(unittest.TestCase):
    """Delivery through SELECT * FROM <fn>(path, headers, body) against a throwaway cluster
    (or $ABDM_SIM_TEST_DSN), with a stub receive() that records what it got."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = None
        cls.dsn = os.environ.get("ABDM_SIM_TEST_DSN")
        if cls.dsn:
            return
        if not os.path.exists(f"{PG_BIN}/initdb") or shutil.which("runuser") is None or os.geteuid() != 0:
            raise unittest.SkipTest("no initdb/runuser as root and no $ABDM_SIM_TEST_DSN")
        cls.tmp = tempfile.mkdtemp(prefix="abdm_sim_pg_")
        shutil.chown(cls.tmp, "postgres")
        port = free_port()
        run = lambda *a: subprocess.run(["runuser", "-u", "postgres", "--", *a], check=True,  # noqa: E731
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(f"{PG_BIN}/initdb", "-D", f"{cls.tmp}/data", "-A", "trust", "-U", "postgres")
        run(f"{PG_BIN}/pg_ctl", "-D", f"{cls.tmp}/data", "-w", "-l", f"{cls.tmp}/log", "-o",
            f"-k {cls.tmp} -p {port} -c listen_addresses=''", "start")
        cls.dsn = f"host={cls.tmp} port={port} dbname=postgres user=postgres"

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", f"{cls.tmp}/data",
                            "-m", "immediate", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_callbacks_and_cm_messages_through_sql(self):
        import psycopg2
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("""
                DROP SCHEMA IF EXISTS sim_stub CASCADE; CREATE SCHEMA sim_stub;
                CREATE TABLE sim_stub.got(id serial, path text, headers jsonb, body jsonb);
                CREATE FUNCTION sim_stub.receive(p_path text, p_headers jsonb, p_body jsonb,
                                                 OUT status int, OUT body jsonb)
                LANGUAGE plpgsql AS $$ BEGIN
                  INSERT INTO sim_stub.got(path, headers, body) VALUES (p_path, p_headers, p_body);
                  IF p_path LIKE '%/discover' THEN status := 400; body := '{"error":{"code":"ABDM-1010"}}';
                  ELSE status := 202; body := NULL; END IF;
                END $$;""")
        C.set_config(delivery="sql", dsn=self.dsn, receive_function="sim_stub.receive")
        try:
            (st, _, _), rid = gen_token(session(), uniq())
            self.assertEqual(st, 202)
            d = C.wait_for_deliveries(kind="on-generate-token", inReplyTo=rid)[0]
            self.assertEqual((d["mode"], d["status"], d["error"]), ("sql", 202, None))
            r = C.discover(hipId=HIP, abhaAddress=uniq(), name="A", gender="M", yearOfBirth=1980)
            self.assertEqual(r["delivery"]["status"], 400)
            self.assertEqual(r["delivery"]["response"], {"error": {"code": "ABDM-1010"}})
            with conn.cursor() as cur:
                cur.execute("SELECT path, headers, body FROM sim_stub.got ORDER BY id")
                rows = cur.fetchall()
            self.assertEqual([x[0] for x in rows], ["/api/v3/hip/token/on-generate-token",
                                                    "/api/v3/hip/patient/care-context/discover"])
            self.assertEqual(rows[0][2]["response"], {"requestId": rid})
            self.assertEqual(rows[0][1]["X-HIP-ID"], HIP)
            C.set_config(receive_function="sim_stub.nope")
            r = C.discover(hipId=HIP, abhaAddress=uniq(), name="A", gender="M", yearOfBirth=1980)
            self.assertEqual(r["delivery"]["state"], "error")
            self.assertIn("does not exist", r["delivery"]["error"])
        finally:
            C.set_config(delivery="http", receive_function="abdm_hip.receive")
            conn.close()


if __name__ == "__main__":
    run_main()
