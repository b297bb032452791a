"""The HIU's view of a paged transfer: page numbering, pages received / missing / duplicated, and
whether an AES-GCM (key, IV) pair served two different entries.

Paging: ABDM v0.5 OpenAPI ndhm-hip.yml `DataNotification` (unchanged in V3, NHA M2 doc §6.3.5)
carries pageNumber and pageCount with one transactionId for every push of a transfer. The spec
does not say whether pages count from 0 or 1; the reference HIP and the NHA sample pushes use
"pageNumber": 1 for the first page of "pageCount": 1, so pages are 1..pageCount here and 0 is
refused, naming the field (400 with the ABDM error object, as the gateway's own field errors).

(key, IV) reuse: Fidelius (NHA ABDM sandbox docs, "Encryption and Decryption > Implementation
guidelines") derives one AES-256-GCM key and one 12-byte IV per (sender key pair + nonce, HIU key
pair + nonce), with no per-entry counter. Two different plaintexts under one (key, IV) give away
their XOR and GCM's authentication key (NIST SP 800-38D §8: the IV must be unique per key), so the
HIU derives the pair of every push and reports any pair that encrypted more than one distinct
entry. Entries are told apart by (careContextReference, checksum): the same page sent again after
a lost answer repeats identical entries under the same pair, which reveals nothing.
"""

import hashlib

import sim_validate as V


def check_numbers(page, pages):
    """pageCount >= 1 and 1 <= pageNumber <= pageCount, else 400 naming the field."""
    if pages < 1:
        V.bad("pageCount", f"{pages} is not a page count (at least 1)")
    if not 1 <= page <= pages:
        V.bad("pageNumber", f"page {page} of {pages} is not a valid page (pages are 1..pageCount)")


def key_iv_id(derived):
    """A short, non-secret name for a derived (AES key, IV): 16 hex digits of SHA-256 over both."""
    return hashlib.sha256(derived["aesKey"] + derived["iv"]).hexdigest()[:16]


def key_iv_reuse(t):
    """Every (key, IV) of the transfer that encrypted more than one distinct entry."""
    groups = {}
    for e in t["entries"]:
        kid = e.get("keyIvId")
        if kid is None:                      # the page's key material could not be derived
            continue
        g = groups.setdefault(kid, {"keyIvId": kid, "entries": set(), "pages": set()})
        g["entries"].add((e["careContextReference"], e["checksum"]))
        g["pages"].add(e["pageNumber"])
    return [{"keyIvId": g["keyIvId"], "distinctEntries": len(g["entries"]), "pages": sorted(g["pages"]),
             "careContextReferences": sorted({ref for ref, _ in g["entries"]})}
            for g in groups.values() if len(g["entries"]) > 1]


def page_report(t):
    """What the HIU can tell about the transfer's pages (added to the transfer record)."""
    pushes = t["pushes"]
    counts = sorted({p["pageCount"] for p in pushes})
    page_count = pushes[0]["pageCount"] if pushes else None
    seen = {}
    for p in pushes:
        seen[p["pageNumber"]] = seen.get(p["pageNumber"], 0) + 1
    problems = []
    if len(counts) > 1:
        problems.append({"problem": "pageCount differs between pushes", "pageCounts": counts})
    for n, k in sorted(seen.items()):
        if k > 1:
            problems.append({"problem": "page received more than once", "pageNumber": n, "times": k})
    bad_pages = sorted({p["pageNumber"] for p in pushes if p.get("ok") is False})
    for n in bad_pages:
        problems.append({"problem": "entries that did not decrypt or match their checksum", "pageNumber": n})
    missing = [n for n in range(1, page_count + 1) if n not in seen] if page_count else []
    checked = [e for e in t["entries"] if e.get("checked", True)]
    reuse = key_iv_reuse(t)
    complete = bool(pushes) and len(counts) == 1 and not missing
    pages_ok = bool(pushes) and not bad_pages
    return {
        "pageCount": page_count,
        "pageCountsSeen": counts,
        "pagesReceived": sorted(seen),
        "missingPages": missing,
        "duplicatePageNumbers": sorted(n for n, k in seen.items() if k > 1),
        "complete": complete,
        "pageProblems": problems,
        "pagesOk": pages_ok,
        "entriesChecked": len(checked),
        "entriesSkipped": len(t["entries"]) - len(checked),
        "keyIvPairs": len({e["keyIvId"] for e in t["entries"] if e.get("keyIvId")}),
        "keyIvReuse": reuse,
        # Delivered whole and intact: every page once, one pageCount, every checked entry decrypted
        # with its checksum. (key, IV) reuse is reported apart: it is a confidentiality
        # trade-off the HIP may choose (abdm_hip.push_entries_per_page > 1), not a lost record.
        "allOk": complete and pages_ok and not problems and all(e["ok"] for e in checked),
    }
