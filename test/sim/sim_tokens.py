"""Tokens the simulated gateway hands out and checks.

- Session tokens (POST /gateway/v3/sessions): random strings with an expiry, remembered here;
  NHA ABDM M2 sandbox documentation v2.8 §3.2.1 (expiresIn 1200 s, refreshExpiresIn 1800 s).
- Link tokens (V3 HIP-initiated linking): JWTs with claims hipId, sub, abhaAddress, abhaNumber,
  transactionId, iat, exp (~6 months; NHA doc §4.3.2, the sandbox token in the ABDM Postman
  collection). The real gateway signs RS512; the simulator uses HS256 with a per-run secret —
  the HIP must treat the token as opaque, so the algorithm does not matter to it.
- Callback bearer tokens (gateway -> HIP): RS256 JWTs with a JWKS served at
  /gateway/v3/certs (NHA doc §3.2.2-3.2.3), claims shaped like the sandbox's own session token
  (iss .../auth/realms/central-registry, azp/clientId "gateway", aud "account", 20-min exp).
- Test bearers (POST /_sim/bearer, CallbackSigner.mint): the same token with any claim or header
  changed, or signed wrongly on purpose, for the tests of the HIP's own listener: another RSA key
  the JWKS does not hold (a forged signature under the real kid), RS512 with the gateway key
  (whose JWK says RS256), alg "none" with an empty signature, and HS256 keyed with the gateway's
  public key (the RS/HS key-confusion attack).
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _jwt_parts(header, claims):
    return (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
            b64url(json.dumps(claims, separators=(",", ":")).encode()))


def decode_jwt_unverified(token):
    """(header, claims) or None if the text is not JWT-shaped."""
    try:
        h, c, _ = token.split(".")
        return json.loads(b64url_decode(h)), json.loads(b64url_decode(c))
    except (ValueError, AttributeError):
        return None


class SessionStore:
    def __init__(self):
        self._tokens = {}          # accessToken -> {clientId, expires}
        self._refresh = {}         # refreshToken -> {clientId, expires}
        self._lock = threading.Lock()
        self.issued = 0

    def create(self, client_id, expires_in, refresh_expires_in):
        now = time.time()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access] = {"clientId": client_id, "expires": now + expires_in}
            self._refresh[refresh] = {"clientId": client_id, "expires": now + refresh_expires_in}
            self.issued += 1
        return access, refresh

    def check(self, token):
        with self._lock:
            entry = self._tokens.get(token)
            return entry is not None and entry["expires"] > time.time()

    def use_refresh(self, token):
        with self._lock:
            entry = self._refresh.pop(token, None)
        return entry["clientId"] if entry and entry["expires"] > time.time() else None

    def expire_all(self):
        with self._lock:
            n = len(self._tokens)
            self._tokens.clear()
            self._refresh.clear()
        return n

    def stats(self):
        now = time.time()
        with self._lock:
            return {"issued": self.issued, "active": sum(1 for e in self._tokens.values() if e["expires"] > now)}


class LinkTokenStore:
    TTL = 15_768_000  # 182.5 days, the exp - iat of sandbox link tokens

    def __init__(self):
        self._secret = secrets.token_bytes(32)
        self._tokens = {}          # token -> claims (plus "revoked")
        self._lock = threading.Lock()

    def mint(self, hip_id, abha_address, abha_number=None, ttl=None):
        now = int(time.time())
        claims = {"hipId": hip_id, "sub": abha_address, "abhaAddress": abha_address,
                  "transactionId": str(uuid.uuid4()), "iat": now, "exp": now + (self.TTL if ttl is None else ttl)}
        if abha_number is not None:
            claims["abhaNumber"] = int(str(abha_number).replace("-", ""))
        signing_input = _jwt_parts({"alg": "HS256", "typ": "JWT"}, claims)
        sig = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        token = signing_input + "." + b64url(sig)
        with self._lock:
            self._tokens[token] = dict(claims)
        return token, claims

    def verify(self, token):
        """('ok', claims) | ('invalid', reason) | ('expired', claims)."""
        if not token or token.count(".") != 2:
            return "invalid", "not a JWT"
        signing_input, _, sig = token.rpartition(".")
        want = b64url(hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(want, sig):
            return "invalid", "signature does not verify"
        with self._lock:
            claims = self._tokens.get(token)
        if claims is None:
            return "invalid", "token not issued by this gateway"
        if claims.get("revoked") or claims["exp"] <= time.time():
            return "expired", claims
        return "ok", claims

    def revoke(self, token=None, hip_id=None, abha_address=None):
        n = 0
        with self._lock:
            for t, c in self._tokens.items():
                if t == token or (token is None and c["hipId"] == hip_id and c["abhaAddress"] == abha_address):
                    c["revoked"] = True
                    n += 1
        return n

    def list(self):
        with self._lock:
            return [{"linkToken": t, **c} for t, c in self._tokens.items()]


class CallbackSigner:
    """RS256 bearer tokens for gateway -> HIP calls, and the JWKS to verify them."""

    MINT_ALGS = ("RS256", "RS512", "none", "HS256")
    # The forms a careless verifier might use as the HMAC secret when it is handed the RSA
    # public key (the classic RS256 -> HS256 confusion); HS256 mints use one of them.
    HMAC_KEY_FORMS = ("spki-pem", "pkcs1-pem", "spki-der", "jwk-json", "n")

    def __init__(self, issuer):
        self.issuer = issuer
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._other = None          # a second key the JWKS never holds (forged signatures)
        pub = self._key.public_key().public_numbers()
        self.kid = b64url(hashlib.sha256(str(pub.n).encode()).digest()[:12])
        self.jwks = {"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64url(pub.n.to_bytes((pub.n.bit_length() + 7) // 8, "big")),
            "e": b64url(pub.e.to_bytes(3, "big")),
        }]}
        self._cached = (None, 0)
        self._lock = threading.Lock()

    def sign(self, claims):
        signing_input = _jwt_parts({"alg": "RS256", "typ": "JWT", "kid": self.kid}, claims)
        sig = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig)

    def default_claims(self, now=None, expires_in=1200):
        """The claims of the gateway's own bearer (the sandbox session token's shape)."""
        now = int(time.time()) if now is None else now
        return {"iss": self.issuer, "aud": "account", "azp": "gateway", "clientId": "gateway",
                "iat": now, "exp": now + expires_in, "jti": str(uuid.uuid4()),
                "realm_access": {"roles": ["gateway"]}}

    def bearer(self):
        """One token reused for its lifetime, as the real gateway does (20 minutes)."""
        now = int(time.time())
        with self._lock:
            token, exp = self._cached
            if token is None or exp - now < 60:
                claims = self.default_claims(now)
                exp = claims["exp"]
                token = self.sign(claims)
                self._cached = (token, exp)
            return token

    # -- test bearers --------------------------------------------------------------------------
    def _other_key(self):
        with self._lock:
            if self._other is None:
                self._other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return self._other

    def hmac_key(self, form="spki-pem"):
        """The gateway's public key in one of HMAC_KEY_FORMS, as bytes."""
        pub = self._key.public_key()
        if form == "spki-pem":
            return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        if form == "pkcs1-pem":
            return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        if form == "spki-der":
            return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if form == "jwk-json":
            return json.dumps(self.jwks["keys"][0], separators=(",", ":")).encode()
        if form == "n":
            return self.jwks["keys"][0]["n"].encode()
        raise ValueError(f"hmacKey is one of {', '.join(self.HMAC_KEY_FORMS)}")

    def mint(self, claims=None, header=None, key="gateway", alg="RS256", hmac_key="spki-pem", expires_in=1200):
        """A bearer for tests: the default claims (fresh iat/exp/jti; exp = now + expires_in) and
        header {alg, typ, kid}, each overridden by `claims` / `header` (None deletes a member),
        signed as `alg` says (RS256 | RS512 with `key` "gateway" or "other"; "none": empty
        signature; HS256 keyed with the gateway public key in form `hmac_key`). The header's alg
        is the signing alg unless `header` says otherwise. Returns (token, header, claims)."""
        if alg not in self.MINT_ALGS:
            raise ValueError(f"alg is one of {', '.join(self.MINT_ALGS)}")
        if key not in ("gateway", "other"):
            raise ValueError('key is "gateway" or "other"')
        if claims is not None and not isinstance(claims, dict) or header is not None and not isinstance(header, dict):
            raise ValueError("claims and header are JSON objects")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int):
            raise ValueError("expiresIn is an integer (seconds; negative for an expired token)")
        c = self.default_claims(expires_in=expires_in)
        h = {"alg": alg, "typ": "JWT", "kid": self.kid}
        for target, patch in ((c, claims), (h, header)):
            for k, v in (patch or {}).items():
                if v is None:
                    target.pop(k, None)
                else:
                    target[k] = v
        signing_input = _jwt_parts(h, c).encode()
        if alg == "none":
            sig = b""
        elif alg == "HS256":
            sig = hmac.new(self.hmac_key(hmac_key), signing_input, hashlib.sha256).digest()
        else:
            rsa_key = self._key if key == "gateway" else self._other_key()
            sig = rsa_key.sign(signing_input, padding.PKCS1v15(),
                               hashes.SHA256() if alg == "RS256" else hashes.SHA512())
        return signing_input.decode() + "." + b64url(sig), h, c
