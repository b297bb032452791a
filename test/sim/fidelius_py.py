#!/usr/bin/python3
"""Fidelius, the ABDM health-data encryption scheme, written from scratch in Python.

Deliberately independent of the project's C++ (src/core/crypto): the simulator's HIU uses this
module to decrypt what the HIP pushes, so a bug in the C++ cannot be hidden by the same bug here.
Only the standard library and python3-cryptography (HKDF, AES-GCM) are used; the elliptic-curve
arithmetic is done with Python integers.

The scheme (ABDM sandbox docs, "Encryption and Decryption > Implementation guidelines", and the
reference tool mgrmtech/fidelius-cli, which uses BouncyCastle's "curve25519" in short-Weierstrass
form, not X25519):
  shared   = x-coordinate of (own private scalar * peer public point), 32 bytes big-endian
  xor      = sender nonce XOR requester nonce (32 bytes each)
  salt, iv = xor[:20], xor[20:]
  key      = HKDF-SHA256(ikm=shared, salt=salt, info=b"", length=32)
  content  = base64(AES-256-GCM(key, iv, no AAD) ciphertext || 16-byte tag)

Public keys travel either raw (base64 of 0x04 || X || Y, 65 bytes; what HIUs send) or as an X.509
SubjectPublicKeyInfo with explicit curve parameters (309 bytes; what BouncyCastle's getEncoded()
gives and what the reference HIU parses). Private keys are base64 of Java's
BigInteger.toByteArray() (big-endian two's complement: 31..33 bytes).
"""

import base64
import binascii
import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Curve parameters of BouncyCastle's "curve25519" (Weierstrass form of Curve25519), as carried in
# the explicit-parameter X.509 keys that fidelius-cli prints.
P = 2**255 - 19
A = 0x2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA984914A144
B = 0x7B425ED097B425ED097B425ED097B425ED097B425ED097B4260B5E9C7710C864
GX = 0x2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD245A
GY = 0x20AE19A1B8A086B4E01EDD2C7748D14C923D4D7E6D7C61B229E9C5A27ECED3D9
N = 0x1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED
H = 8
G = (GX, GY)

NONCE_BYTES = 32
TAG_BYTES = 16
RAW_KEY_BYTES = 65
X509_KEY_BYTES = 309


class FideliusError(Exception):
    """A refused input. error_class names the kind, as the shared test vectors do:
    authentication-failed, ciphertext-too-short, invalid-public-key, invalid-private-key,
    invalid-nonce, invalid-base64."""

    def __init__(self, error_class, message):
        super().__init__(f"{error_class}: {message}")
        self.error_class = error_class


# ---------------------------------------------------------------------------------------------
# Point arithmetic (affine coordinates; None is the point at infinity). Speed is not the point
# here: one scalar multiplication takes a few milliseconds, plenty for a simulator.

def is_on_curve(pt):
    if pt is None:
        return False
    x, y = pt
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def point_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    x1, y1 = p1
    x2, y2 = p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return (x3, (lam * (x1 - x3) - y1) % P)


def scalar_mult(k, pt):
    result = None
    addend = pt
    while k > 0:
        if k & 1:
            result = point_add(result, addend)
        addend = point_add(addend, addend)
        k >>= 1
    return result


def check_public_point(pt):
    """Refuse points off the curve or outside the prime-order subgroup (small-subgroup attack)."""
    if not is_on_curve(pt):
        raise FideliusError("invalid-public-key", "point is not on the curve")
    if scalar_mult(N, pt) is not None:
        raise FideliusError("invalid-public-key", "point is not in the prime-order subgroup")
    return pt


# ---------------------------------------------------------------------------------------------
# Encodings

def _der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _der_int(v):
    raw = v.to_bytes(v.bit_length() // 8 + 1, "big")  # keeps a 0x00 when the high bit is set
    while len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80:
        raw = raw[1:]
    return _der(0x02, raw)


def _der_oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for v in parts[2:]:
        chunk = [v & 0x7F]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(chunk))
    return _der(0x06, bytes(out))


def _build_x509_prefix():
    """DER SubjectPublicKeyInfo (RFC 5480 / SEC 1 explicit ECParameters) up to the point bytes.

    Built here from the curve constants instead of copied, so the test that compares it with the
    prefix of fidelius-cli's keys also checks the constants above."""
    field_id = _der(0x30, _der_oid("1.2.840.10045.1.1") + _der_int(P))          # prime-field
    curve = _der(0x30, _der(0x04, A.to_bytes(32, "big")) + _der(0x04, B.to_bytes(32, "big")))
    base = _der(0x04, b"\x04" + GX.to_bytes(32, "big") + GY.to_bytes(32, "big"))
    ec_params = _der(0x30, _der_int(1) + field_id + curve + base + _der_int(N) + _der_int(H))
    algorithm = _der(0x30, _der_oid("1.2.840.10045.2.1") + ec_params)           # id-ecPublicKey
    bit_string = _der(0x03, b"\x00\x04" + bytes(64))  # unused-bits byte, uncompressed point
    spki = _der(0x30, algorithm + bit_string)
    assert len(spki) == X509_KEY_BYTES
    return spki[: X509_KEY_BYTES - 64]  # everything before X || Y (ends 03 42 00 04)


X509_PREFIX = _build_x509_prefix()


def b64decode(text, what):
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        raise FideliusError("invalid-base64", f"{what}: expected a base64 string")
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FideliusError("invalid-base64", f"{what}: {exc}") from None


def b64encode(data):
    return base64.b64encode(data).decode("ascii")


def encode_raw_public(pt):
    return b64encode(b"\x04" + pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big"))


def encode_x509_public(pt):
    return b64encode(X509_PREFIX + pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big"))


def decode_public(text):
    """Parse a peer public key, raw 65-byte or 309-byte X.509 form; returns the validated point."""
    data = b64decode(text, "public key")
    if len(data) == RAW_KEY_BYTES and data[0] == 0x04:
        xy = data[1:]
    elif len(data) == X509_KEY_BYTES:
        if data[: len(X509_PREFIX)] != X509_PREFIX:
            raise FideliusError("invalid-public-key",
                                "X.509 key does not carry the curve25519 (Weierstrass) parameters")
        xy = data[len(X509_PREFIX):]
    else:
        raise FideliusError("invalid-public-key",
                            f"expected {RAW_KEY_BYTES} (0x04||X||Y) or {X509_KEY_BYTES} (X.509) "
                            f"bytes, got {len(data)}")
    pt = (int.from_bytes(xy[:32], "big"), int.from_bytes(xy[32:], "big"))
    return check_public_point(pt)


def encode_private(d):
    """Java BigInteger.toByteArray(): minimal big-endian two's complement (fidelius-cli's format)."""
    return b64encode(d.to_bytes(d.bit_length() // 8 + 1, "big"))


def decode_private(text):
    data = b64decode(text, "private key")
    if not 1 <= len(data) <= 33:
        raise FideliusError("invalid-private-key", f"unexpected length {len(data)}")
    if data[0] & 0x80:
        raise FideliusError("invalid-private-key", "negative scalar")
    d = int.from_bytes(data, "big")
    if not 0 < d < N:
        raise FideliusError("invalid-private-key", "scalar out of range")
    return d


def decode_nonce(text, what):
    data = b64decode(text, what)
    if len(data) != NONCE_BYTES:
        raise FideliusError("invalid-nonce", f"{what}: expected {NONCE_BYTES} bytes, got {len(data)}")
    return data


# ---------------------------------------------------------------------------------------------
# Keys and the scheme

class KeyMaterial:
    """One party's ephemeral key pair and nonce, with every encoding the protocol uses."""

    def __init__(self, private_scalar=None, nonce=None):
        self.private_scalar = private_scalar or (secrets.randbelow(N - 1) + 1)
        self.nonce = nonce or secrets.token_bytes(NONCE_BYTES)
        self.public_point = scalar_mult(self.private_scalar, G)

    @property
    def private_key(self):
        return encode_private(self.private_scalar)

    @property
    def public_key(self):
        return encode_raw_public(self.public_point)

    @property
    def x509_public_key(self):
        return encode_x509_public(self.public_point)

    @property
    def nonce_b64(self):
        return b64encode(self.nonce)

    def as_dict(self):
        return {"privateKey": self.private_key, "publicKey": self.public_key,
                "x509PublicKey": self.x509_public_key, "nonce": self.nonce_b64}


def public_from_private(private_key_b64):
    return scalar_mult(decode_private(private_key_b64), G)


def derive(own_private_b64, peer_public_b64, sender_nonce_b64, requester_nonce_b64):
    """Everything between the key pair and AES: returns a dict of the intermediate values."""
    d = decode_private(own_private_b64)
    peer = decode_public(peer_public_b64)
    sender_nonce = decode_nonce(sender_nonce_b64, "sender nonce")
    requester_nonce = decode_nonce(requester_nonce_b64, "requester nonce")
    shared_pt = scalar_mult(d, peer)
    if shared_pt is None:  # cannot happen for a subgroup point and 0 < d < n; kept as a guard
        raise FideliusError("invalid-public-key", "shared point is the point at infinity")
    shared = shared_pt[0].to_bytes(32, "big")
    xor = bytes(a ^ b for a, b in zip(sender_nonce, requester_nonce))
    salt, iv = xor[:20], xor[20:]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"").derive(shared)
    return {"sharedSecret": shared, "xorOfNonces": xor, "salt": salt, "iv": iv, "aesKey": key}


def encrypt(plaintext, sender_private, sender_nonce, requester_public, requester_nonce):
    """HIP side: returns base64(ciphertext || tag). plaintext is str (UTF-8) or bytes."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode("utf-8")
    k = derive(sender_private, requester_public, sender_nonce, requester_nonce)
    return b64encode(AESGCM(k["aesKey"]).encrypt(k["iv"], plaintext, None))


def decrypt(ciphertext, requester_private, requester_nonce, sender_public, sender_nonce):
    """HIU side: returns the plaintext bytes; raises FideliusError on any failure (never b"")."""
    data = b64decode(ciphertext, "ciphertext")
    if len(data) < TAG_BYTES:
        raise FideliusError("ciphertext-too-short", f"{len(data)} bytes, the GCM tag alone is 16")
    k = derive(requester_private, sender_public, sender_nonce, requester_nonce)
    try:
        return AESGCM(k["aesKey"]).decrypt(k["iv"], data, None)
    except InvalidTag:
        raise FideliusError("authentication-failed", "GCM tag mismatch") from None


def md5_base64(data):
    """The entry checksum the ABDM sandbox docs ask for: base64(MD5(plaintext bytes))."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return b64encode(hashlib.md5(data).digest())


if __name__ == "__main__":
    import json
    import sys
    # Tiny CLI, handy when debugging the C++ side: gkm | e | d (same argument order as fidelius-cli).
    cmd = sys.argv[1] if len(sys.argv) > 1 else "gkm"
    if cmd == "gkm":
        print(json.dumps(KeyMaterial().as_dict(), indent=1))
    elif cmd == "e" and len(sys.argv) == 7:
        print(json.dumps({"encryptedData": encrypt(*sys.argv[2:7])}))
    elif cmd == "d" and len(sys.argv) == 7:
        print(json.dumps({"decryptedData": decrypt(*sys.argv[2:7]).decode("utf-8")}))
    else:
        sys.exit("usage: fidelius_py.py gkm | e <plaintext> <senderPriv> <senderNonce> <requesterPub> "
                 "<requesterNonce> | d <ciphertext> <requesterPriv> <requesterNonce> <senderPub> <senderNonce>")
