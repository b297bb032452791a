#!/usr/bin/env python3
"""Opens sealed values in text, for tests only: a second implementation of the sealed form of
src/core/crypto/sealed_secret.hpp, on Python's cryptography package instead of OpenSSL's EVP.

    open_sealed.py KEY_FILE < text-with-sealed-values > the-same-text-opened

Every `abdm-sealed:1:<purpose>:<key id>:<base64>` in the input is replaced by what it opens to;
a value that does not open (another key, a changed byte) stops the script with exit status 1.
"""
import base64
import hashlib
import re
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = re.compile(r"abdm-sealed:1:([a-z_]{1,32}):([0-9a-f]{16}):([A-Za-z0-9+/]*={0,2})")


def opener(key: bytes):
    key_id = hashlib.sha256(key).hexdigest()[:16]
    aead = AESGCM(key)

    def open_one(m: re.Match) -> str:
        purpose, got_id, b64 = m.groups()
        if got_id != key_id:
            sys.exit(f"open_sealed: a value sealed under key {got_id}, not {key_id}")
        raw = base64.b64decode(b64, validate=True)
        aad = f"abdm-sealed:1:{purpose}:{key_id}".encode()
        return aead.decrypt(raw[:12], raw[12:], aad).decode()

    return open_one


def main() -> None:
    with open(sys.argv[1], "rb") as f:
        key = base64.b64decode(f.read().strip(), validate=True)
    if len(key) != 32:
        sys.exit("open_sealed: the key file does not hold 32 bytes")
    sys.stdout.write(SEALED.sub(opener(key), sys.stdin.read()))


if __name__ == "__main__":
    main()
