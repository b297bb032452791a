"""The HIU side: the dataPushUrl a HIP pushes encrypted records to, on its own port so a test can
take it down (connection refused) and bring it back.

Push body: ABDM v0.5 OpenAPI ndhm-hip.yml `DataNotification` / `EntryContent` / `EntryLink`
(unchanged in V3, NHA M2 doc §6.3.5): pageNumber, pageCount, transactionId, entries[content|link,
media, checksum, careContextReference], keyMaterial. Each entry is decrypted with the HIU key pair
generated for that transaction (fidelius_py, independent of the project's C++), and its checksum
compared with base64(MD5(plaintext)) as the ABDM sandbox docs ("request health records") ask.
"""

import hashlib
import json
import time
import urllib.request

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import fidelius_fast
import fidelius_py
import hiu_pages
import sim_validate as V
from sim_http import ApiError, Response


class Hiu:
    def __init__(self, state):
        self.state = state

    def register(self, router):
        router.add("POST", "/hiu/data-push", "hiu-data-push", self.data_push)

    # -- the push ------------------------------------------------------------------------------
    def data_push(self, req):
        st = self.state
        t0 = time.time()
        body = V.obj(req.json(), "body")
        req.record["body"] = summarise(body)   # keep the log small; plaintexts live in the transfer record
        page = V.get(body, "pageNumber", "", int)
        pages = V.get(body, "pageCount", "", int)
        hiu_pages.check_numbers(page, pages)
        maxp = st.c("hiu_max_page_count")
        if maxp is not None and pages > maxp:
            raise ApiError(400, "ABDM-9999", "Multi page data transfer is not supported yet")
        txn = V.get(body, "transactionId", "")
        entries = V.get(body, "entries", "", list, nonempty=False)
        km = V.obj(V.get(body, "keyMaterial", "", dict), "keyMaterial")
        V.enum(km, "cryptoAlg", "keyMaterial", {"ECDH"})
        V.enum(km, "curve", "keyMaterial", {"Curve25519"})
        dh = V.obj(V.get(km, "dhPublicKey", "keyMaterial", dict), "keyMaterial.dhPublicKey")
        V.timestamp(dh, "expiry", "keyMaterial.dhPublicKey")
        V.get(dh, "parameters", "keyMaterial.dhPublicKey")
        key_value = V.get(dh, "keyValue", "keyMaterial.dhPublicKey")
        nonce = V.get(km, "nonce", "keyMaterial")
        for i, e in enumerate(entries):
            f = f"entries[{i}]"
            V.obj(e, f)
            if ("content" in e) == ("link" in e):
                V.bad(f, "needs exactly one of content or link")
            V.get(e, "content" if "content" in e else "link", f)
            V.get(e, "media", f)
            V.get(e, "checksum", f)
            V.get(e, "careContextReference", f)

        t = st.hiu.get(txn)
        if t is None:
            if st.c("hiu_require_known_transaction"):
                V.bad("transactionId", f"unknown transaction {txn!r}", code="ABDM-1001")
            t = st.hiu.setdefault(txn, {"transactionId": txn, "consentId": None, "hipId": None, "keys": None,
                                        "requestedAt": None, "pushes": [], "entries": [], "notifications": []})
        try:
            sender_raw = fidelius_py.b64decode(key_value, "keyValue")
            encoding = {65: "raw", 309: "x509"}.get(len(sender_raw), f"{len(sender_raw)} bytes")
            # Subgroup check on X25519 unless hiu_crypto is "python" (see derive below).
            (fidelius_fast if st.c("hiu_crypto") == "x25519" else fidelius_py).decode_public(key_value)
            key_error = None
        except fidelius_py.FideliusError as exc:
            encoding, key_error = "invalid", str(exc)

        push = {"seq": req.record["seq"], "receivedAt": t0, "pageNumber": page, "pageCount": pages,
                "entryCount": len(entries), "bodyBytes": len(req.raw_body), "keyEncoding": encoding,
                "keyError": key_error, "senderPublicKey": key_value, "senderNonce": nonce,
                "sinceRequestMs": round((t0 - t["requestedAt"]) * 1000, 1) if t["requestedAt"] else None,
                "authorization": req.header("Authorization") is not None,
                "duplicatePage": page in t.get("pageNumbersSeen", ())}
        # One derivation per push: every entry of a page is encrypted under the page's key material.
        derived = None
        if key_error is None and t["keys"] is not None:
            try:
                derived = derive(st, t["keys"], key_value, nonce)
                push["keyIvId"] = hiu_pages.key_iv_id(derived)
            except fidelius_py.FideliusError as exc:
                key_error = push["keyError"] = str(exc)
        # hiu_decrypt_every = N checks every Nth entry of the transaction (counted in arrival
        # order), so a benchmark of a large transfer is not timing the simulator's own decryption.
        every = max(1, int(st.c("hiu_decrypt_every")))
        with st.lock:
            first = t.get("entriesSeen", 0)
            t["entriesSeen"] = first + len(entries)
        results = [self._entry(t, e, derived, key_error, push, (first + i) % every == 0)
                   for i, e in enumerate(entries)]
        push["decryptMs"] = round((time.time() - t0) * 1000, 1)
        push["ok"] = all(r["ok"] for r in results if r["checked"])
        with st.lock:
            t["pushes"].append(push)
            t["entries"].extend(results)
            seen = t.setdefault("pageNumbersSeen", set())   # a set: a transfer may have 1,000s of pages
            seen.add(page)
            t["complete"] = len(seen) >= pages
        req.record["hiu"] = {"transactionId": txn, "entries": len(results),
                             "ok": sum(bool(r["ok"]) for r in results), "keyEncoding": encoding}
        return Response(202)

    def _entry(self, t, e, derived, key_error, push, check):
        st = self.state
        out = {"seq": push["seq"], "pageNumber": push["pageNumber"],
               "careContextReference": e["careContextReference"], "media": e["media"],
               "checksum": e["checksum"], "keyIvId": push.get("keyIvId"), "checked": check,
               "ok": None if not check else False, "error": None}
        if not check:
            return out
        t0 = time.time()
        try:
            if key_error:
                raise fidelius_py.FideliusError("invalid-public-key", key_error)
            if t["keys"] is None:
                raise fidelius_py.FideliusError("unknown-transaction", "no HIU key for this transaction")
            content = e.get("content")
            if content is None:
                out["link"] = e["link"]
                if not st.c("hiu_fetch_links"):
                    raise fidelius_py.FideliusError("link-not-fetched", "hiu_fetch_links is off")
                content = fetch_link(e["link"], st.c("delivery_timeout_s"))
            out["contentChars"] = len(content)
            plain = decrypt(content, derived)
            out["plaintextBytes"] = len(plain)
            out["plaintextSha256"] = hashlib.sha256(plain).hexdigest()
            out["checksumExpected"] = fidelius_py.md5_base64(plain)
            out["checksumOk"] = out["checksumExpected"] == e["checksum"]
            with st.lock:
                kept = t.get("keptPlaintextBytes", 0)
                keep = kept + len(plain) <= st.c("hiu_keep_plaintext_bytes")
                if keep:
                    t["keptPlaintextBytes"] = kept + len(plain)
            if keep:
                try:
                    out["plaintext"] = plain.decode("utf-8")
                except UnicodeDecodeError:
                    out["plaintextBase64"] = fidelius_py.b64encode(plain)
            out["ok"] = out["checksumOk"]
            if not out["checksumOk"]:
                out["error"] = "checksum mismatch"
        except fidelius_py.FideliusError as exc:
            out["error"] = str(exc)
            out["errorClass"] = exc.error_class
        except Exception as exc:  # noqa: BLE001 - e.g. a link that cannot be fetched
            out["error"] = f"{type(exc).__name__}: {exc}"
        out["decryptMs"] = round((time.time() - t0) * 1000, 2)
        return out


def derive(st, keys, sender_public, sender_nonce):
    """The page's (AES key, IV): on OpenSSL's X25519 (fidelius_fast) unless hiu_crypto is
    "python" (fidelius_py's integer arithmetic, ~60 times slower, kept as the reference)."""
    impl = fidelius_fast if st.c("hiu_crypto") == "x25519" else fidelius_py
    return impl.derive(keys.private_key, sender_public, sender_nonce, keys.nonce_b64)


def decrypt(content, derived):
    """fidelius_py.decrypt after the derivation: base64(ciphertext || tag) under the page's pair."""
    data = fidelius_py.b64decode(content, "ciphertext")
    if len(data) < fidelius_py.TAG_BYTES:
        raise fidelius_py.FideliusError("ciphertext-too-short", f"{len(data)} bytes, the GCM tag alone is 16")
    try:
        return AESGCM(derived["aesKey"]).decrypt(derived["iv"], data, None)
    except InvalidTag:
        raise fidelius_py.FideliusError("authentication-failed", "GCM tag mismatch") from None


def fetch_link(url, timeout):
    """Link entries (ndhm-hip.yml EntryLink): the HIU GETs the URL; the reference HIP serves the
    encrypted content there. Accept either the bare base64 text or a JSON object with 'content'."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        raw = r.read().decode("utf-8").strip()
    if raw.startswith("{"):
        return json.loads(raw)["content"]
    return raw


def summarise(body):
    """The push body without the (large) ciphertexts."""
    out = {k: v for k, v in body.items() if k != "entries"}
    ents = body.get("entries")
    if isinstance(ents, list):
        out["entries"] = [
            {k: (f"<{len(v)} chars>" if k == "content" and isinstance(v, str) else v) for k, v in e.items()}
            if isinstance(e, dict) else e for e in ents]
    return out


def transfer_view(t, include_plaintext=False):
    """A JSON-able view of a transfer record for the control API."""
    out = {k: v for k, v in t.items() if k not in ("keys", "pageNumbersSeen")}
    if t.get("keys") is not None:
        out["hiuKeys"] = t["keys"].as_dict()
    out["entries"] = [{k: v for k, v in e.items() if include_plaintext or k not in ("plaintext", "plaintextBase64")}
                      for e in t["entries"]]
    ok = [e for e in t["entries"] if e["ok"]]
    out["summary"] = {"pushes": len(t["pushes"]), "entries": len(t["entries"]), "ok": len(ok),
                      "failed": sum(1 for e in t["entries"] if e["ok"] is False),
                      "skipped": sum(1 for e in t["entries"] if not e.get("checked", True)),
                      "plaintextBytes": sum(e.get("plaintextBytes", 0) for e in t["entries"]),
                      "duplicatePages": sum(1 for p in t["pushes"] if p["duplicatePage"]),
                      "complete": t.get("complete", False),
                      "notified": [n["notification"]["statusNotification"]["sessionStatus"]
                                   for n in t.get("notifications", [])]}
    out.update(hiu_pages.page_report(t))
    # Latencies seen from the HIE-CM/HIU side, for the transfer benchmark.
    t0 = t.get("requestedAt")
    if t0:
        if t["pushes"]:
            out["summary"]["requestToFirstPushMs"] = round((t["pushes"][0]["receivedAt"] - t0) * 1000, 1)
        if t.get("notifications"):
            out["summary"]["requestToNotifyMs"] = round((t["notifications"][0]["at"] - t0) * 1000, 1)
    return out
