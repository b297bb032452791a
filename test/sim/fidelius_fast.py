"""The Fidelius key derivation on OpenSSL's X25519 (python3-cryptography), for big transfers.

fidelius_py multiplies points with Python integers: a few milliseconds a derivation plus as much
again for the subgroup check, which is too slow for a transfer of a thousand pages. The curve
Fidelius uses (BouncyCastle's "curve25519" in short-Weierstrass form; NHA ABDM sandbox docs,
"Encryption and Decryption > Implementation guidelines"; mgrmtech/fidelius-cli) is Curve25519 in
other coordinates: x = u + A/3 (mod p) with A = 486662 (RFC 7748 §4.1 gives the Montgomery form;
the Weierstrass a, b and Gx in fidelius_py are its standard transform). The group is the same, so
u(d·P) from X25519 gives the Fidelius shared x-coordinate, with two catches, both handled here:

1. X25519 clamps its scalar to c = 2^254 + 8m, 0 <= m < 2^251 (RFC 7748 §5). On a point P of
   prime order n, c·P = ±d·P whenever c ≡ ±d (mod n), and the sign does not change x. So we solve
   8m ≡ ±d − 2^254 (mod n) and use whichever m is below 2^251. Both candidates sum to −2^252
   (mod n), so one of them fits except for a ~2^-126 fraction of scalars; those fall back to
   fidelius_py.
2. Subgroup membership (refusing a point with a small-order component, as fidelius_py does with
   N·P = O): write P = Pn + T, T of order dividing 8. A clamped c ≡ ±1 (mod n) is a multiple of 8,
   so c·P = ±Pn, and u(c·P) = u(P) exactly when T = O. A pure small-order point gives c·P = O,
   which OpenSSL refuses (all-zero output).

Only the x-coordinate of the peer matters to X25519, so the on-curve check (y² = x³ + ax + b) is
done here with one modular expression. Checked against the fidelius-cli vectors and against
fidelius_py on random and torsion-shifted points in test_sim_hiu_pages.py.
"""

import functools
import hashlib
import hmac
import threading

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

import fidelius_py as F

MONTGOMERY_A = 486662
A_OVER_3 = MONTGOMERY_A * pow(3, -1, F.P) % F.P
INV8 = pow(8, -1, F.N)
TWO_254 = 1 << 254


def clamped_scalar(d):
    """The X25519 private key bytes (little-endian) of a clamped c ≡ ±d (mod n), or None."""
    for s in (d, F.N - d):
        m = (s - TWO_254) * INV8 % F.N
        if m < (1 << 251):
            return (TWO_254 + 8 * m).to_bytes(32, "little")
    return None


_PROBE = X25519PrivateKey.from_private_bytes(clamped_scalar(1))  # c ≡ ±1 (mod n)
assert _PROBE is not None


def _u_bytes(x):
    return ((x - A_OVER_3) % F.P).to_bytes(32, "little")


def decode_public(text):
    """The peer's point, refused like fidelius_py.decode_public (same error classes), but with the
    subgroup check on X25519. Returns (x, y)."""
    data = F.b64decode(text, "public key")
    if len(data) == F.RAW_KEY_BYTES and data[0] == 0x04:
        xy = data[1:]
    elif len(data) == F.X509_KEY_BYTES and data[: len(F.X509_PREFIX)] == F.X509_PREFIX:
        xy = data[len(F.X509_PREFIX):]
    else:
        return F.decode_public(text)  # raises with fidelius_py's message
    pt = (int.from_bytes(xy[:32], "big"), int.from_bytes(xy[32:], "big"))
    if not F.is_on_curve(pt):
        raise F.FideliusError("invalid-public-key", "point is not on the curve")
    u = _u_bytes(pt[0])
    try:
        back = _PROBE.exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:  # c·P = O: a point of small order
        raise F.FideliusError("invalid-public-key", "point is not in the prime-order subgroup") from None
    if back != u:
        raise F.FideliusError("invalid-public-key", "point is not in the prime-order subgroup")
    return pt


@functools.lru_cache(maxsize=4096)
def _x25519_key(d):
    """The X25519 key for our scalar d, kept: loading one costs OpenSSL ~5 ms (its decoder), and
    the HIU uses one key pair for every page of a transaction."""
    k = clamped_scalar(d)
    return None if k is None else X25519PrivateKey.from_private_bytes(k)


def hkdf_sha256_32(ikm, salt):
    """HKDF-SHA256 with empty info and 32 bytes of output (RFC 5869 §2.2-2.3: one HMAC block
    each), with the standard library's hmac: cryptography's HKDF object costs ~1.5 ms to set up."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, b"\x01", hashlib.sha256).digest()


def shared_x(d, pt):
    """x(d·P) as 32 bytes big-endian for 0 < d < n and a validated P (the Fidelius shared secret)."""
    key = _x25519_key(d)
    if key is None:
        return F.scalar_mult(d, pt)[0].to_bytes(32, "big")
    u = key.exchange(X25519PublicKey.from_public_bytes(_u_bytes(pt[0])))
    return ((int.from_bytes(u, "little") + A_OVER_3) % F.P).to_bytes(32, "big")


def derive(own_private_b64, peer_public_b64, sender_nonce_b64, requester_nonce_b64):
    """Same inputs, checks and result as fidelius_py.derive."""
    d = F.decode_private(own_private_b64)
    pt = decode_public(peer_public_b64)
    sender_nonce = F.decode_nonce(sender_nonce_b64, "sender nonce")
    requester_nonce = F.decode_nonce(requester_nonce_b64, "requester nonce")
    shared = shared_x(d, pt)
    xor = bytes(a ^ b for a, b in zip(sender_nonce, requester_nonce))
    salt, iv = xor[:20], xor[20:]
    key = hkdf_sha256_32(shared, salt)
    return {"sharedSecret": shared, "xorOfNonces": xor, "salt": salt, "iv": iv, "aesKey": key}


# -- key generation ----------------------------------------------------------------------------
# d·G by adding precomputed 2^i·G (fixed-base, one affine addition per set bit): ~100 additions
# instead of fidelius_py's 255 doublings + additions, so an HI request's key pair costs a few
# milliseconds. (X25519's own fixed-base code gives only u, and the raw key needs y with its sign.)
_G_POWERS = []
_G_LOCK = threading.Lock()


def _g_powers():
    """The table, built once (~50 ms) by the first caller; the simulator's threads wait for it."""
    with _G_LOCK:
        if not _G_POWERS:
            table, pt = [], F.G
            for _ in range(256):
                table.append(pt)
                pt = F.point_add(pt, pt)
            _G_POWERS.extend(table)
    return _G_POWERS


def _to_affine(j):
    x, y, z = j
    zi = pow(z, -1, F.P)
    zi2 = zi * zi % F.P
    return (x * zi2 % F.P, y * zi2 * zi % F.P)


def multiply_generator(d):
    """d·G for 0 < d < n: Jacobian accumulator plus affine table point (mixed addition, no
    inversion until the end; the textbook formulas, e.g. Hankerson-Menezes-Vanstone §3.2.2)."""
    table = _g_powers()
    p = F.P
    acc = None                      # Jacobian (X, Y, Z), or None for the point at infinity
    i = 0
    while d:
        if d & 1:
            x2, y2 = table[i]
            if acc is None:
                acc = (x2, y2, 1)
            else:
                x1, y1, z1 = acc
                z1z1 = z1 * z1 % p
                h = (x2 * z1z1 - x1) % p
                r = (y2 * z1z1 * z1 - y1) % p
                if h == 0:          # doubling or P + (-P): rare; let the affine code decide
                    pt = F.point_add(_to_affine(acc), table[i])
                    acc = None if pt is None else (pt[0], pt[1], 1)
                else:
                    hh = h * h % p
                    hhh = hh * h % p
                    v = x1 * hh % p
                    x3 = (r * r - hhh - 2 * v) % p
                    acc = (x3, (r * (v - x3) - y1 * hhh) % p, z1 * h % p)
        d >>= 1
        i += 1
    return None if acc is None else _to_affine(acc)


def key_material():
    """A fidelius_py.KeyMaterial (random scalar and nonce) whose public point is computed here."""
    import secrets
    km = F.KeyMaterial.__new__(F.KeyMaterial)
    km.private_scalar = secrets.randbelow(F.N - 1) + 1
    km.nonce = secrets.token_bytes(F.NONCE_BYTES)
    km.public_point = multiply_generator(km.private_scalar)
    return km
