#!/usr/bin/python3
"""Self-test of the simulator's HIE-CM and HIU sides: the HIE-CM actions with the HIP's answers, the
HIU's decryption, the control API, both delivery modes (http to a bridge run by the test; sql
through a throwaway PostgreSQL with a stub receive() when initdb is available), the client CLI and
the sink.

Run: /usr/bin/python3 test/sim/test_sim_hiecm.py
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
        run = lambda *a: subprocess.run(["runuser", "-u", "postgres", "--", *a], check=True, cwd="/",  # noqa: E731
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run(f"{PG_BIN}/initdb", "-D", f"{cls.tmp}/data", "-A", "trust", "-U", "postgres")
        run(f"{PG_BIN}/pg_ctl", "-D", f"{cls.tmp}/data", "-w", "-l", f"{cls.tmp}/log", "-o",
            f"-k {cls.tmp} -p {port} -c listen_addresses=''", "start")
        cls.dsn = f"host={cls.tmp} port={port} dbname=postgres user=postgres"

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", f"{cls.tmp}/data",
                            "-m", "immediate", "stop"], cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
