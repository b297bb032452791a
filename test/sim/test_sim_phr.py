#!/usr/bin/python3
"""Self-test of the PHR view (GET /_sim/phr, phr.py) and of the ABHA status notice
(cm/patient-status-notify with the HIP's on-deactivate answer): the test acts as the HIP,
calling the simulated gateway itself, and checks what the patient's app would show.

Run: /usr/bin/python3 test/sim/test_sim_phr.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import simtest_harness as H  # noqa: E402
from simtest_harness import *  # noqa: E402,F401,F403
from testutil import run_main  # noqa: E402

SIM = BRIDGE = C = None
ON_DEACTIVATE = "/hip/v3/link/patient/links/hip/on-deactivate"


def setUpModule():
    global SIM, BRIDGE, C
    H.start_module()
    SIM, BRIDGE, C = H.SIM, H.BRIDGE, H.C


def tearDownModule():
    H.stop_module()


class PhrView(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def link(self, addr, groups, number=None):
        (st, body, _), _rid = gen_token(self.t, addr, name="Asha Nair", gender="F", yob=1987, number=number)
        self.assertEqual(st, 202, body)
        cb = BRIDGE.wait_for(lambda c: c["path"] == "/api/v3/hip/token/on-generate-token"
                             and (c["body"] or {}).get("abhaAddress") == addr)
        body = {"abhaAddress": addr, "patient": groups}
        if number:
            body["abhaNumber"] = number
        st, resp, _ = call("/hip/v3/link/carecontext", body,
                           gw_headers(self.t, X_HIP_ID=HIP, X_LINK_TOKEN=cb["body"]["linkToken"]))
        self.assertEqual(st, 202, resp)

    def test_hip_initiated_links_show_types_visit_demographics_and_identity(self):
        addr = uniq("asha")
        p = cc_entry("MRN-7", "OPConsultation", ["OPD-7"])
        p["display"] = "Asha Nair"
        p["careContexts"][0]["display"] = "OPD visit 14 Mar 2024 10:05"
        self.link(addr, [p, dict(cc_entry("MRN-7", "Prescription", ["OPD-7"]), display="Asha Nair",
                                 careContexts=[{"referenceNumber": "OPD-7", "display": "OPD visit 14 Mar 2024 10:05"}])],
                  number="91123456789012")
        view = C.phr(addr)
        self.assertEqual(view["abhaAddress"], addr)
        self.assertEqual(view["abhaNumber"], "91123456789012")
        self.assertEqual({k: view["demographics"][k] for k in ("name", "gender", "yearOfBirth")},
                         {"name": "Asha Nair", "gender": "F", "yearOfBirth": 1987})
        self.assertEqual(len(view["careContexts"]), 1, "one care context, two HI types")
        cc = view["careContexts"][0]
        self.assertEqual((cc["hipId"], cc["patientReference"], cc["careContextReference"]), (HIP, "MRN-7", "OPD-7"))
        self.assertEqual(cc["hiTypes"], ["OPConsultation", "Prescription"])
        self.assertEqual(cc["display"], "OPD visit 14 Mar 2024 10:05")
        self.assertEqual(cc["via"], "hip-initiated")

        # context/notify adds a type to what the app shows.
        st, resp, _ = call("/hip/v3/link/context/notify", {"notification": {
            "patient": {"id": addr}, "careContext": {"patientReference": "MRN-7", "careContextReference": "OPD-7"},
            "hiTypes": ["DiagnosticReport"], "date": now_iso(), "hip": {"id": HIP}}}, gw_headers(self.t, X_HIP_ID=HIP))
        self.assertEqual(st, 202, resp)
        self.assertEqual(C.phr(addr)["careContexts"][0]["hiTypes"], ["DiagnosticReport", "OPConsultation", "Prescription"])

    def test_refused_links_and_other_addresses_are_not_shown(self):
        addr, other = uniq("ravi"), uniq("other")
        self.link(other, [cc_entry("MRN-8", "Prescription", ["OPD-8"])])
        # A link/carecontext the gateway refuses (no link token) never reaches the app.
        st, _, _ = call("/hip/v3/link/carecontext", {"abhaAddress": addr, "patient": [cc_entry("MRN-9", "Prescription", ["OPD-9"])]},
                        gw_headers(self.t, X_HIP_ID=HIP))
        self.assertEqual(st, 400)
        view = C.phr(addr)
        self.assertEqual((view["careContexts"], view["abhaNumber"], view["demographics"]), ([], None, None))
        self.assertEqual([c["careContextReference"] for c in C.phr(other)["careContexts"]], ["OPD-8"])

    def test_user_initiated_links_show_what_the_cm_knows(self):
        addr = uniq("mohan")
        r = C.discover(hipId=HIP, abhaAddress=addr, name="Mohan Das", gender="M", yearOfBirth=1985,
                       mobile="9800054321", abhaNumber="91-7777-6666-5555")
        txn = r["transactionId"]
        groups = [cc_entry("MRN-10", "DischargeSummary", ["IPD-10"])]
        st, body, _ = call("/user-initiated-linking/v3/patient/care-context/on-discover",
                           {"transactionId": txn, "patient": groups, "matchedBy": ["MOBILE"],
                            "response": {"requestId": r["requestId"]}}, gw_headers(self.t))
        self.assertEqual(st, 202, body)
        init = C.link_init(transactionId=txn)
        st, body, _ = call("/user-initiated-linking/v3/link/care-context/on-init",
                           {"transactionId": txn, "link": {"referenceNumber": "LR-1", "authenticationType": "DIRECT",
                                                           "meta": {"communicationMedium": "MOBILE", "communicationHint": "98******21",
                                                                    "communicationExpiry": now_iso(time.time() + 600)}},
                            "response": {"requestId": init["requestId"]}}, gw_headers(self.t))
        self.assertEqual(st, 202, body)
        self.assertEqual(C.phr(addr)["careContexts"], [], "nothing before the confirm")
        conf = C.link_confirm(transactionId=txn, token="123456")
        st, body, _ = call("/user-initiated-linking/v3/link/care-context/on-confirm",
                           {"patient": groups, "response": {"requestId": conf["requestId"]}}, gw_headers(self.t))
        self.assertEqual(st, 202, body)
        view = C.phr(addr)
        self.assertEqual(view["abhaNumber"], "91777766665555")
        self.assertEqual(view["demographics"]["name"], "Mohan Das")
        self.assertEqual([(c["careContextReference"], c["hiTypes"], c["via"]) for c in view["careContexts"]],
                         [("IPD-10", ["DischargeSummary"], "user-initiated")])

    def test_the_view_needs_an_address(self):
        with self.assertRaises(SimError) as e:
            C.get("/_sim/phr")
        self.assertEqual(e.exception.status, 400)


class AbhaStatusNotice(unittest.TestCase):
    def setUp(self):
        self.t = session()

    def test_deactivation_is_delivered_and_answered(self):
        addr = uniq("optout")
        C.register_abha({"abhaAddress": addr, "name": "Opt Out", "gender": "M", "yearOfBirth": 1970})
        r = C.patient_status_notify(hipId=HIP, abhaAddress=addr, status="DEACTIVATED")
        got = BRIDGE.wait_for(lambda c: c["path"] == "/api/v3/patients/status/notify"
                              and c["body"]["notification"]["patient"]["id"] == addr)
        self.assertEqual(got["body"]["notification"]["status"], "DEACTIVATED")
        self.assertEqual(next(a for a in C.get("/_sim/abha") if a["abhaAddress"] == addr)["status"], "DEACTIVATED")
        st, body, _ = call(ON_DEACTIVATE, {"acknowledgement": {"status": "OK"}, "response": {"requestId": r["requestId"]}},
                           gw_headers(self.t))
        self.assertEqual(st, 202, body)
        st, body, _ = call(ON_DEACTIVATE, {"acknowledgement": {"status": "OK"}, "response": {"requestId": r["requestId"]}},
                           gw_headers(self.t))
        self.assertEqual(st, 400, "a second answer to the same notice")
        st, body, _ = call(ON_DEACTIVATE, {"acknowledgement": {"status": "OK"}, "response": {"requestId": str(uuid.uuid4())}},
                           gw_headers(self.t))
        self.assertEqual((st, code_of(body)), (400, "ABDM-1015"))

    def test_unknown_status_is_refused(self):
        with self.assertRaises(SimError) as e:
            C.patient_status_notify(hipId=HIP, abhaAddress=uniq(), status="PAUSED")
        self.assertEqual(e.exception.status, 400)


if __name__ == "__main__":
    run_main()
