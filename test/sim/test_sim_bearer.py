#!/usr/bin/python3
"""Self-test of POST /_sim/bearer: the gateway bearers, right and deliberately wrong, that the
tests of the HIP's own listener (test/e2e/test_bridge.py) and the bridge benchmark send. Each token
is checked here with the JWKS the simulator publishes at /gateway/v3/certs, fetched over HTTP.

Run: /usr/bin/python3 test/sim/test_sim_bearer.py
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from simclient import SimError, SimProcess  # noqa: E402
from testutil import run_main  # noqa: E402

SIM = C = None


def setUpModule():
    global SIM, C
    SIM = SimProcess(delivery="none")
    C = SIM.client


def tearDownModule():
    SIM.stop()


def b64d(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parts(token):
    h, c, s = token.split(".")
    return json.loads(b64d(h)), json.loads(b64d(c)), b64d(s), f"{h}.{c}".encode()


def jwks():
    with urllib.request.urlopen(C.gateway_url + "/gateway/v3/certs", timeout=10) as r:
        return json.loads(r.read())


def public_key(jwk):
    n = int.from_bytes(b64d(jwk["n"]), "big")
    e = int.from_bytes(b64d(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def verifies(token, digest=hashes.SHA256):
    """Whether the token's signature verifies with the JWKS key its kid names (RSA PKCS#1 v1.5)."""
    header, _, sig, signing_input = parts(token)
    key = next((k for k in jwks()["keys"] if k["kid"] == header.get("kid")), None)
    if key is None:
        return False
    try:
        public_key(key).verify(sig, signing_input, padding.PKCS1v15(), digest())
        return True
    except InvalidSignature:
        return False


def mint(**body):
    return C.post("/_sim/bearer", body)


class Bearer(unittest.TestCase):
    def test_default_is_the_gateways_own_bearer(self):
        r = mint()
        header, claims, _, _ = parts(r["token"])
        self.assertEqual(header, {"alg": "RS256", "typ": "JWT", "kid": r["kid"]})
        self.assertEqual([k["kid"] for k in jwks()["keys"]], [r["kid"]])
        self.assertEqual(jwks()["keys"][0]["alg"], "RS256")
        self.assertTrue(verifies(r["token"]))
        self.assertEqual(claims["iss"], C.urls["root"] + "/auth/realms/central-registry")
        self.assertEqual((claims["aud"], claims["azp"], claims["clientId"]), ("account", "gateway", "gateway"))
        self.assertEqual(claims["exp"] - claims["iat"], 1200)
        self.assertLessEqual(abs(claims["iat"] - time.time()), 5)
        self.assertEqual((r["header"], r["claims"]), (header, claims), "the reply shows what was signed")
        self.assertNotEqual(mint()["claims"]["jti"], claims["jti"], "a fresh jti each time")

    def test_claim_and_header_overrides(self):
        kid = uuid.uuid4().hex
        r = mint(claims={"iss": "http://evil.example/auth/realms/central-registry", "jti": None, "extra": [1]},
                 header={"kid": kid, "typ": None})
        header, claims, _, _ = parts(r["token"])
        self.assertEqual(header, {"alg": "RS256", "kid": kid})
        self.assertEqual(claims["iss"], "http://evil.example/auth/realms/central-registry")
        self.assertNotIn("jti", claims)
        self.assertEqual(claims["extra"], [1])
        self.assertFalse(verifies(r["token"]), "no JWKS key has that kid")
        # Signed by the real key all the same (raises if not).
        _, _, sig, signing_input = parts(r["token"])
        public_key(jwks()["keys"][0]).verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())

    def test_expired_and_without_exp(self):
        claims = parts(mint(expiresIn=-7200)["token"])[1]
        self.assertLess(claims["exp"], time.time() - 7000)
        self.assertEqual(claims["exp"] - claims["iat"], -7200)
        claims = parts(mint(claims={"exp": None})["token"])[1]
        self.assertNotIn("exp", claims)
        at = int(time.time()) + 3600
        claims = parts(mint(claims={"nbf": at})["token"])[1]
        self.assertEqual(claims["nbf"], at)

    def test_other_key_forges_under_the_real_kid(self):
        r = mint(key="other")
        header = parts(r["token"])[0]
        self.assertEqual(header["kid"], r["kid"], "the real kid")
        self.assertFalse(verifies(r["token"]), "but not the real key's signature")
        self.assertTrue(verifies(mint()["token"]))
        # The same other key each time (one key, not a new one per token).
        a, b = mint(key="other", claims={"jti": "x", "iat": 1, "exp": 2}), mint(key="other", claims={"jti": "x", "iat": 1, "exp": 2})
        self.assertEqual(a["token"], b["token"])

    def test_rs512_with_the_gateway_key(self):
        r = mint(alg="RS512")
        header = parts(r["token"])[0]
        self.assertEqual((header["alg"], header["kid"]), ("RS512", r["kid"]))
        self.assertFalse(verifies(r["token"], hashes.SHA256))
        self.assertTrue(verifies(r["token"], hashes.SHA512), "a genuine RS512 signature by the JWKS key")

    def test_alg_none(self):
        r = mint(alg="none")
        self.assertTrue(r["token"].endswith("."), "empty signature")
        self.assertEqual(parts(r["token"])[0]["alg"], "none")
        self.assertEqual(parts(r["token"])[1]["iss"], C.urls["root"] + "/auth/realms/central-registry")

    def test_hs256_keyed_with_the_public_key(self):
        pub = public_key(jwks()["keys"][0])
        forms = {
            "spki-pem": pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            "pkcs1-pem": pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
            "spki-der": pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
            "n": jwks()["keys"][0]["n"].encode(),
        }
        for form, secret in forms.items():
            with self.subTest(form=form):
                r = mint(alg="HS256", hmacKey=form)
                header, _, sig, signing_input = parts(r["token"])
                self.assertEqual((header["alg"], header["kid"]), ("HS256", r["kid"]))
                self.assertEqual(sig, hmac.new(secret, signing_input, hashlib.sha256).digest())
        r = mint(alg="HS256")   # spki-pem is the default form
        _, _, sig, signing_input = parts(r["token"])
        self.assertEqual(sig, hmac.new(forms["spki-pem"], signing_input, hashlib.sha256).digest())

    def test_header_alg_can_lie(self):
        # Signed RS256 but the header says RS512: the mismatch a verifier must notice.
        r = mint(header={"alg": "RS512"})
        self.assertEqual(parts(r["token"])[0]["alg"], "RS512")
        _, _, sig, signing_input = parts(r["token"])
        public_key(jwks()["keys"][0]).verify(sig, signing_input, padding.PKCS1v15(), hashes.SHA256())

    def test_bad_requests(self):
        for body in ({"alg": "ES256"}, {"key": "mine"}, {"hmacKey": "x", "alg": "HS256"}, {"bogus": 1},
                     {"claims": [1]}, {"header": "x"}, {"expiresIn": "soon"}, {"expiresIn": True}):
            with self.subTest(body=body):
                with self.assertRaises(SimError) as cm:
                    mint(**body)
                self.assertEqual(cm.exception.status, 400)

    def test_control_calls_are_not_recorded(self):
        # The minted tokens stay out of the request log that tests read.
        mint()
        self.assertEqual([r for r in C.requests() if "bearer" in r["path"]], [])


if __name__ == "__main__":
    run_main()
