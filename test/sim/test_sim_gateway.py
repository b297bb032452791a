#!/usr/bin/python3
"""Self-test of the simulator's gateway side over HTTP: sessions, authentication, V3 header checks,
link tokens, care-context linking, notifications and fault injection.

Run: /usr/bin/python3 test/sim/test_sim_gateway.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import simtest_harness as H  # noqa: E402
from simtest_harness import *  # noqa: E402,F401,F403  (helpers, constants, the modules they use)
from testutil import run_main  # noqa: E402

SIM = BRIDGE = C = None


def setUpModule():
    global SIM, BRIDGE, C
    H.start_module()
    SIM, BRIDGE, C = H.SIM, H.BRIDGE, H.C


def tearDownModule():
    H.stop_module()


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

    def test_probability_fires_for_a_share_and_repeats_with_its_seed(self):
        runs = []
        for _ in range(2):
            C.add_fault("/hip/v3/link/patient/links/sms/notify2", status=503, probability=0.3, seed=7)
            runs.append([self.sms()[0] for _ in range(100)])
            C.clear_faults()
        self.assertEqual(runs[0], runs[1], "the same seed draws the same calls")
        self.assertTrue(15 <= runs[0].count(503) <= 45, runs[0].count(503))
        self.assertEqual(set(runs[0]), {202, 503})
        with self.assertRaises(Exception):
            C.add_fault("/hip/v3/link/patient/links/sms/notify2", status=503, probability=1.5)

    def test_cut_response_takes_the_call_but_never_finishes_the_answer(self):
        C.add_fault("/hip/v3/link/patient/links/sms/notify2", cut_response=True, times=1)
        with self.assertRaises((http.client.IncompleteRead, http.client.RemoteDisconnected, ConnectionError,
                                urllib.error.URLError)):
            self.sms(phone="9876500001")
        taken = [r for r in C.requests(route="sms-notify2") if r["body"]["notification"]["phoneNo"] == "9876500001"]
        self.assertEqual([r["status"] for r in taken], [202], "handled: the call counts at the gateway")
        self.assertEqual(self.sms()[0], 202)

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


if __name__ == "__main__":
    run_main()
