#!/usr/bin/python3
"""fidelius_py against the reference fidelius-cli vectors (test/data/fidelius-vectors.json):
every case in both directions with both public-key encodings, the intermediate values, the
checksum convention, and inputs that must be refused.

Run: /usr/bin/python3 test/sim/test_fidelius_py.py   (or: cd test/sim && /usr/bin/python3 -m unittest test_fidelius_py)
"""

import base64
import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fidelius_py as F  # noqa: E402
from testutil import DATA_DIR, run_main  # noqa: E402

with open(os.path.join(DATA_DIR, "fidelius-vectors.json"), encoding="utf-8") as fh:
    VECTORS = json.load(fh)


def plaintext_of(case):
    if "plaintext" in case:
        return case["plaintext"].encode("utf-8")
    recipe = case["plaintextRecipe"]
    assert recipe["kind"] == "repeat"
    return (recipe["unit"] * recipe["count"]).encode("utf-8")


def check_ciphertext(tc, case, ct_b64):
    if "ciphertext" in case:
        tc.assertEqual(ct_b64, case["ciphertext"])
        return
    raw = base64.b64decode(ct_b64)
    tc.assertEqual(len(raw), case["ciphertextBytes"])
    tc.assertEqual(hashlib.sha256(raw).hexdigest(), case["ciphertextSha256"])
    tc.assertEqual(len(ct_b64), case["ciphertextBase64Chars"])
    tc.assertEqual(hashlib.sha256(ct_b64.encode()).hexdigest(), case["ciphertextBase64Sha256"])
    tc.assertTrue(ct_b64.startswith(case["ciphertextBase64Head"]))
    tc.assertEqual(base64.b64encode(raw[-16:]).decode(), case["ciphertextTagBase64"])


class CurveAndEncodings(unittest.TestCase):
    def test_curve_constants_match_vectors(self):
        c = VECTORS["curve"]
        self.assertEqual((F.P, F.A, F.B, F.GX, F.GY, F.N, F.H),
                         tuple(int(c[k], 16) for k in ("p", "a", "b", "Gx", "Gy", "n", "h")))
        self.assertTrue(F.is_on_curve(F.G))
        self.assertIsNone(F.scalar_mult(F.N, F.G))

    def test_x509_prefix_built_from_constants_matches_reference(self):
        self.assertEqual(F.X509_PREFIX, base64.b64decode(VECTORS["x509PublicKeyPrefixBase64"]))
        self.assertEqual(len(F.X509_PREFIX), 245)
        self.assertEqual(F.X509_PREFIX[-7:].hex(), "02010803420004")

    def test_generated_keys_round_trip(self):
        hiu, hip = F.KeyMaterial(), F.KeyMaterial()
        msg = "नमस्ते {\"resourceType\":\"Bundle\"}"
        for pub in (hiu.public_key, hiu.x509_public_key):
            ct = F.encrypt(msg, hip.private_key, hip.nonce_b64, pub, hiu.nonce_b64)
            for hpub in (hip.public_key, hip.x509_public_key):
                self.assertEqual(F.decrypt(ct, hiu.private_key, hiu.nonce_b64, hpub, hip.nonce_b64),
                                 msg.encode())
        self.assertEqual(F.decode_public(hiu.x509_public_key), hiu.public_point)
        self.assertEqual(F.decode_private(hiu.private_key), hiu.private_scalar)


def make_case_tests(case):
    sender, requester = case["sender"], case["requester"]

    def test_private_key_format(self):
        self.assertEqual(len(base64.b64decode(sender["privateKey"])), sender["privateKeyBytes"])
        # Our encoder reproduces Java's BigInteger.toByteArray() exactly.
        for who in (sender, requester):
            self.assertEqual(F.encode_private(F.decode_private(who["privateKey"])), who["privateKey"])

    def test_public_keys_derived(self):
        for who in (sender, requester):
            pt = F.public_from_private(who["privateKey"])
            self.assertEqual(F.encode_raw_public(pt), who["publicKey"])
            self.assertEqual(F.encode_x509_public(pt), who["x509PublicKey"])
            self.assertEqual(F.decode_public(who["x509PublicKey"]), pt)
            self.assertEqual(F.decode_public(who["publicKey"]), pt)

    def test_intermediate_values_both_sides(self):
        want = case["intermediate"]
        hip = F.derive(sender["privateKey"], requester["publicKey"], sender["nonce"], requester["nonce"])
        hiu = F.derive(requester["privateKey"], sender["x509PublicKey"], sender["nonce"], requester["nonce"])
        for got in (hip, hiu):
            self.assertEqual(got["sharedSecret"].hex(), want["sharedSecretHex"])
            self.assertEqual(got["xorOfNonces"].hex(), want["xorOfNoncesHex"])
            self.assertEqual(got["salt"].hex(), want["saltHex"])
            self.assertEqual(got["iv"].hex(), want["ivHex"])
            self.assertEqual(got["aesKey"].hex(), want["aesKeyHex"])

    def test_encrypt_raw_and_x509(self):
        pt = plaintext_of(case)
        for pub in ("publicKey", "x509PublicKey"):
            with self.subTest(requester_key=pub):
                ct = F.encrypt(pt, sender["privateKey"], sender["nonce"], requester[pub], requester["nonce"])
                check_ciphertext(self, case, ct)

    def test_decrypt_raw_and_x509(self):
        pt = plaintext_of(case)
        ct = case.get("ciphertext") or F.encrypt(pt, sender["privateKey"], sender["nonce"],
                                                 requester["publicKey"], requester["nonce"])
        for pub in ("publicKey", "x509PublicKey"):
            with self.subTest(sender_key=pub):
                got = F.decrypt(ct, requester["privateKey"], requester["nonce"], sender[pub], sender["nonce"])
                self.assertEqual(len(got), case["plaintextBytes"])
                self.assertEqual(hashlib.sha256(got).hexdigest(), case["plaintextSha256"])
                self.assertEqual(got, pt)

    def test_checksum_convention(self):
        self.assertEqual(F.md5_base64(plaintext_of(case)), case["md5Base64"])

    return {f"test_{case['name']}_{fn.__name__[5:]}": fn for fn in (
        test_private_key_format, test_public_keys_derived, test_intermediate_values_both_sides,
        test_encrypt_raw_and_x509, test_decrypt_raw_and_x509, test_checksum_convention)}


VectorCases = type("VectorCases", (unittest.TestCase,),
                   {k: v for case in VECTORS["cases"] for k, v in make_case_tests(case).items()})


class Negatives(unittest.TestCase):
    def test_vector_negatives(self):
        self.assertGreaterEqual(len(VECTORS["negatives"]), 2)
        for neg in VECTORS["negatives"]:
            with self.subTest(neg["name"]):
                self.assertEqual(neg["operation"], "decrypt")
                i = neg["inputs"]
                with self.assertRaises(F.FideliusError) as cm:
                    F.decrypt(i["ciphertext"], i["requesterPrivateKey"], i["requesterNonce"],
                              i["senderPublicKey"], i["senderNonce"])
                self.assertEqual(cm.exception.error_class, neg["errorClass"])

    def _kat(self):
        return VECTORS["cases"][0]

    def assert_refused(self, error_class, fn, *args):
        with self.assertRaises(F.FideliusError) as cm:
            fn(*args)
        self.assertEqual(cm.exception.error_class, error_class)

    def test_ciphertext_too_short(self):
        c = self._kat()
        self.assert_refused("ciphertext-too-short", F.decrypt, base64.b64encode(b"x" * 15).decode(),
                            c["requester"]["privateKey"], c["requester"]["nonce"],
                            c["sender"]["publicKey"], c["sender"]["nonce"])

    def test_empty_ciphertext_is_not_empty_plaintext(self):
        c = self._kat()
        self.assert_refused("ciphertext-too-short", F.decrypt, "", c["requester"]["privateKey"],
                            c["requester"]["nonce"], c["sender"]["publicKey"], c["sender"]["nonce"])

    def test_truncated_tag(self):
        c = self._kat()
        raw = base64.b64decode(c["ciphertext"])[:-1]
        self.assert_refused("authentication-failed", F.decrypt, base64.b64encode(raw).decode(),
                            c["requester"]["privateKey"], c["requester"]["nonce"],
                            c["sender"]["publicKey"], c["sender"]["nonce"])

    def test_wrong_private_key(self):
        c = self._kat()
        self.assert_refused("authentication-failed", F.decrypt, c["ciphertext"], F.KeyMaterial().private_key,
                            c["requester"]["nonce"], c["sender"]["publicKey"], c["sender"]["nonce"])

    def test_point_off_curve(self):
        c = self._kat()
        raw = bytearray(base64.b64decode(c["requester"]["publicKey"]))
        raw[-1] ^= 1
        bad = base64.b64encode(bytes(raw)).decode()
        self.assert_refused("invalid-public-key", F.decode_public, bad)
        self.assert_refused("invalid-public-key", F.encrypt, "x", c["sender"]["privateKey"],
                            c["sender"]["nonce"], bad, c["requester"]["nonce"])

    def test_small_order_point(self):
        # A point of order 2 (y = 0): on the curve, outside the prime-order subgroup.
        # Montgomery u = 0 maps to Weierstrass x = u + 486662/3.
        x = 486662 * pow(3, -1, F.P) % F.P
        self.assertTrue(F.is_on_curve((x, 0)))
        self.assertIsNone(F.point_add((x, 0), (x, 0)))
        self.assert_refused("invalid-public-key", F.decode_public, F.encode_raw_public((x, 0)))

    def test_bad_lengths_and_prefix(self):
        c = self._kat()
        raw = base64.b64decode(c["requester"]["x509PublicKey"])
        self.assert_refused("invalid-public-key", F.decode_public, base64.b64encode(raw[:-1]).decode())
        tampered = bytearray(raw)
        tampered[40] ^= 0xFF  # inside the curve parameters
        self.assert_refused("invalid-public-key", F.decode_public, base64.b64encode(bytes(tampered)).decode())
        self.assert_refused("invalid-public-key", F.decode_public, base64.b64encode(b"\x03" + raw[-64:]).decode())
        self.assert_refused("invalid-nonce", F.encrypt, "x", c["sender"]["privateKey"],
                            base64.b64encode(b"\0" * 31).decode(), c["requester"]["publicKey"],
                            c["requester"]["nonce"])
        self.assert_refused("invalid-base64", F.decode_public, "not base64!")
        self.assert_refused("invalid-private-key", F.decode_private, base64.b64encode(b"\0").decode())
        self.assert_refused("invalid-private-key", F.decode_private,
                            base64.b64encode(F.N.to_bytes(32, "big")).decode())


if __name__ == "__main__":
    run_main()
