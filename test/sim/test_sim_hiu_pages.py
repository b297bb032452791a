#!/usr/bin/python3
"""Self-test of the HIU's page checks (hiu_pages.py) and of the X25519 fast path (fidelius_fast.py):
the test plays the HIP, encrypting pages with key material of its own and pushing them to the
simulator's HIU; then the transfer record must say what happened to the pages and whether an
AES-GCM (key, IV) pair served two entries.

Run: /usr/bin/python3 test/sim/test_sim_hiu_pages.py
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import simtest_harness as H  # noqa: E402
from simtest_harness import *  # noqa: E402,F401,F403
import fidelius_fast as X  # noqa: E402
from testutil import DATA_DIR, run_main  # noqa: E402

C = None


def setUpModule():
    global C
    H.start_module()
    C = H.C


def tearDownModule():
    H.stop_module()


def bundle(ref, n=0):
    return json.dumps({"resourceType": "Bundle", "id": f"{ref}-{n}", "note": "नमस्ते"}, ensure_ascii=False)


class Pages(unittest.TestCase):
    def setUp(self):
        refs = [f"OPD-{i}" for i in range(1, 5)]
        g = C.consent_notify(hipId=HIP, abhaAddress=uniq(), hiTypes=["OPConsultation"],
                             careContexts=[{"patientReference": "P1", "careContextReference": r} for r in refs])
        self.r = C.hi_request(consentId=g["consentId"])
        self.txn = self.r["transactionId"]

    def push(self, page, count, refs, hip=None, tamper=False):
        """One page: each (ref) entry encrypted under `hip` (a fresh key pair and nonce if None)."""
        km = self.r["body"]["hiRequest"]["keyMaterial"]
        hip = hip or F.KeyMaterial()
        entries = []
        for ref in refs:
            text = bundle(ref)
            ct = F.encrypt(text, hip.private_key, hip.nonce_b64, km["dhPublicKey"]["keyValue"], km["nonce"])
            if tamper:
                raw = bytearray(base64.b64decode(ct))
                raw[-1] ^= 1
                ct = base64.b64encode(bytes(raw)).decode()
            entries.append({"content": ct, "media": "application/fhir+json", "checksum": F.md5_base64(text),
                            "careContextReference": ref})
        body = {"pageNumber": page, "pageCount": count, "transactionId": self.txn, "entries": entries,
                "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
                                "dhPublicKey": {"expiry": now_iso(time.time() + 3600),
                                                "parameters": "Curve25519/32byte random key",
                                                "keyValue": hip.public_key},
                                "nonce": hip.nonce_b64}}
        st, reply, _ = call("", body, {"Content-Type": "application/json"}, url=self.r["body"]["hiRequest"]["dataPushUrl"])
        return st, reply

    def view(self):
        return C.hiu_transfer(self.txn, plaintext=False)

    def test_good_paging(self):
        for n in (3, 1, 2):                               # out of order, as concurrent pushes arrive
            self.assertEqual(self.push(n, 3, [f"OPD-{n}"])[0], 202)
        t = self.view()
        self.assertEqual((t["pageCount"], t["pagesReceived"], t["missingPages"]), (3, [1, 2, 3], []))
        self.assertEqual((t["complete"], t["pagesOk"], t["pageProblems"], t["keyIvReuse"]), (True, True, [], []))
        self.assertEqual(t["keyIvPairs"], 3)
        self.assertTrue(t["allOk"])
        self.assertEqual(t["summary"]["ok"], 3)

    def test_page_zero_and_beyond_the_count_are_refused_naming_the_field(self):
        for page, count, field in ((0, 3, "pageNumber"), (4, 3, "pageNumber"), (-1, 3, "pageNumber"),
                                   (1, 0, "pageCount")):
            with self.subTest(page=page, count=count):
                st, reply = self.push(page, count, ["OPD-1"])
                self.assertEqual(st, 400)
                self.assertEqual(code_of(reply), "ABDM-9999")
                self.assertTrue(reply["error"]["message"].startswith(field + ":"), reply)
        self.assertEqual(self.view()["pushes"], [], "a refused page is not recorded")

    def test_a_missing_page(self):
        self.push(1, 3, ["OPD-1"])
        self.push(3, 3, ["OPD-3"])
        t = self.view()
        self.assertEqual((t["pagesReceived"], t["missingPages"]), ([1, 3], [2]))
        self.assertFalse(t["complete"])
        self.assertFalse(t["allOk"])
        self.assertTrue(t["pagesOk"], "the pages that came are intact")

    def test_a_duplicate_page(self):
        hip = F.KeyMaterial()
        self.push(1, 2, ["OPD-1"], hip=hip)
        self.push(1, 2, ["OPD-1"], hip=hip)                 # the same page again (a retry)
        self.push(2, 2, ["OPD-2"])
        t = self.view()
        self.assertTrue(t["complete"])
        self.assertEqual(t["duplicatePageNumbers"], [1])
        self.assertIn({"problem": "page received more than once", "pageNumber": 1, "times": 2}, t["pageProblems"])
        self.assertFalse(t["allOk"])
        self.assertEqual(t["keyIvReuse"], [], "the same entry again under the same pair reveals nothing")

    def test_pagecount_that_changes_between_pages(self):
        self.push(1, 2, ["OPD-1"])
        self.push(2, 3, ["OPD-2"])
        t = self.view()
        self.assertEqual(t["pageCountsSeen"], [2, 3])
        self.assertFalse(t["complete"])
        self.assertEqual(t["pageProblems"][0]["problem"], "pageCount differs between pushes")

    def test_key_iv_reuse_across_pages_is_detected(self):
        hip = F.KeyMaterial()
        self.push(1, 2, ["OPD-1"], hip=hip)
        self.push(2, 2, ["OPD-2"], hip=hip)                 # other entry, same key pair and nonce
        t = self.view()
        self.assertTrue(t["allOk"], "delivered whole; the reuse is reported apart")
        self.assertEqual(len(t["keyIvReuse"]), 1)
        self.assertEqual((t["keyIvReuse"][0]["pages"], t["keyIvReuse"][0]["careContextReferences"]),
                         ([1, 2], ["OPD-1", "OPD-2"]))
        listed = C.hiu_key_iv_reuse()
        self.assertIn(self.txn, [x["transactionId"] for x in listed["transfers"]])

    def test_key_iv_reuse_within_a_page_is_detected(self):
        self.push(1, 1, ["OPD-1", "OPD-2", "OPD-3"])
        t = self.view()
        self.assertEqual([(g["distinctEntries"], g["pages"]) for g in t["keyIvReuse"]], [(3, [1])])

    def test_a_page_that_does_not_decrypt(self):
        self.push(1, 2, ["OPD-1"])
        self.push(2, 2, ["OPD-2"], tamper=True)
        t = self.view()
        self.assertTrue(t["complete"])
        self.assertFalse(t["pagesOk"])
        self.assertIn({"problem": "entries that did not decrypt or match their checksum", "pageNumber": 2},
                      t["pageProblems"])
        self.assertFalse(t["allOk"])

    def test_decrypt_every_nth_entry(self):
        C.set_config(hiu_decrypt_every=2)
        try:
            for n in range(1, 5):
                self.push(n, 4, [f"OPD-{n}"], tamper=(n == 3))  # entries 1 and 3 are checked
            t = self.view()
        finally:
            C.set_config(hiu_decrypt_every=1)
        self.assertEqual((t["entriesChecked"], t["entriesSkipped"]), (2, 2))
        self.assertEqual([e["checked"] for e in t["entries"]], [True, False, True, False])
        self.assertFalse(t["allOk"], "the tampered entry was among the checked ones")
        self.assertEqual(t["keyIvPairs"], 4, "pairs are derived for skipped entries too")

    def test_python_and_x25519_paths_agree(self):
        hip = F.KeyMaterial()
        self.push(1, 2, ["OPD-1"], hip=hip)
        C.set_config(hiu_crypto="python")
        try:
            self.push(2, 2, ["OPD-2"], hip=hip)
        finally:
            C.set_config(hiu_crypto="x25519")
        t = self.view()
        self.assertTrue(t["allOk"])
        self.assertEqual(len({p["keyIvId"] for p in t["pushes"]}), 1, "same pair from both derivations")


class FastPath(unittest.TestCase):
    """fidelius_fast against the fidelius-cli vectors and fidelius_py (independent arithmetic)."""

    def test_vectors(self):
        with open(os.path.join(DATA_DIR, "fidelius-vectors.json"), encoding="utf-8") as fh:
            cases = json.load(fh)["cases"]
        for case in cases:
            s, r, want = case["sender"], case["requester"], case["intermediate"]
            for got in (X.derive(s["privateKey"], r["publicKey"], s["nonce"], r["nonce"]),
                        X.derive(r["privateKey"], s["x509PublicKey"], s["nonce"], r["nonce"])):
                self.assertEqual(got["sharedSecret"].hex(), want["sharedSecretHex"], case["name"])
                self.assertEqual(got["aesKey"].hex(), want["aesKeyHex"], case["name"])
                self.assertEqual(got["iv"].hex(), want["ivHex"], case["name"])

    def test_random_keys_match_fidelius_py(self):
        for _ in range(5):
            a, b = X.key_material(), F.KeyMaterial()
            self.assertEqual(a.public_point, F.scalar_mult(a.private_scalar, F.G))
            self.assertEqual(X.derive(a.private_key, b.public_key, a.nonce_b64, b.nonce_b64),
                             F.derive(a.private_key, b.public_key, a.nonce_b64, b.nonce_b64))

    def test_scalars_near_the_edges(self):
        b = F.KeyMaterial()
        for d in (1, 2, 7, 8, F.N - 1, F.N - 8, (1 << 251) + 3):
            self.assertEqual(X.shared_x(d, b.public_point), F.scalar_mult(d, b.public_point)[0].to_bytes(32, "big"))
            self.assertEqual(X.multiply_generator(d), F.scalar_mult(d, F.G))

    def test_points_outside_the_subgroup_are_refused(self):
        # (A/3, 0) is the point of order 2 (Montgomery u = 0); P + T has a small-order component.
        t2 = (X.A_OVER_3, 0)
        self.assertTrue(F.is_on_curve(t2))
        b = F.KeyMaterial()
        shifted = F.point_add(b.public_point, t2)
        for pt in (t2, shifted):
            with self.assertRaises(F.FideliusError) as cm:
                X.decode_public(F.encode_raw_public(pt))
            self.assertEqual(cm.exception.error_class, "invalid-public-key")
        with self.assertRaises(F.FideliusError):
            X.decode_public(F.encode_raw_public((b.public_point[0], b.public_point[1] + 1)))  # off the curve
        self.assertEqual(X.decode_public(b.x509_public_key), b.public_point)


if __name__ == "__main__":
    run_main()
