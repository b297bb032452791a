"""Checks of V3 headers and message bodies, raising the errors the real gateway gives.

Sources: NHA "Sandbox Documentation (ABDM_Milestone 2)" v2.8 (13.02.2026) — header rules and
error tables in §4.3.1 ff., §5.3, §6.3; the ABDM v0.5 OpenAPI ndhm-hip.yml for field enums.
Every error message names the offending field, so a failing test says what to fix.
"""

import re
import time

from sim_http import ApiError
from sim_state import parse_iso

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# UTC, ISO-8601, milliseconds, Z (NHA M2 doc; the FAQ's example 2024-05-20T11:29:27.358Z).
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
ABHA_ADDRESS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{2,31}@[a-z]+$")

# The eight V3 HI types (NHA integrator FAQ v1.4; Invoice added in V3). Matching is
# case-insensitive because NHA's own examples use both "Prescription" and "PRESCRIPTION".
HI_TYPES = ["OPConsultation", "Prescription", "DischargeSummary", "DiagnosticReport",
            "ImmunizationRecord", "HealthDocumentRecord", "WellnessRecord", "Invoice"]
_HI_TYPES_UPPER = {t.upper(): t for t in HI_TYPES}


def bad(field, message, code="ABDM-9999", status=400):
    raise ApiError(status, code, f"{field}: {message}")


def check_headers(req, state, need_hip=False, need_auth=True):
    """Order as the real stack: the API manager checks the bearer first, then the gateway checks
    REQUEST-ID / TIMESTAMP / X-CM-ID. Returns the REQUEST-ID."""
    if need_auth:
        auth = req.header("Authorization")
        if not auth:
            raise ApiError(401, "900902", "Missing Credentials",
                           body={"error": {"code": "900902", "message": "Missing Credentials"}})
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not state.sessions.check(token.strip()):
            raise ApiError(401, "900901", "Invalid Credentials",
                           body={"error": {"code": "900901", "message": "Invalid Credentials"}})
    for name in ("REQUEST-ID", "TIMESTAMP", "X-CM-ID"):
        if not (req.header(name) or "").strip():
            raise ApiError(403, "ACCESS_DENIED", f"Access Denied: header {name} missing or blank")
    rid = req.header("REQUEST-ID").strip()
    if not UUID_RE.match(rid):
        bad("REQUEST-ID", f"Invalid request ID {rid!r}", code="ABDM-1030")
    ts = req.header("TIMESTAMP").strip()
    t = parse_iso(ts) if TIMESTAMP_RE.match(ts) else None
    if t is None:
        bad("TIMESTAMP", f"Invalid Timestamp {ts!r} (want UTC ISO-8601 like 2026-01-01T10:00:00.000Z)",
            code="ABDM-1016")
    now = time.time()
    if not (now - state.c("timestamp_past_s") <= t <= now + state.c("timestamp_future_s")):
        bad("TIMESTAMP", f"Invalid Timestamp {ts!r}: {t - now:+.0f} s from the gateway clock", code="ABDM-1016")
    if req.method in ("POST", "PATCH") and not (req.header("Content-Type") or "").lower().startswith("application/json"):
        bad("Content-Type", f"{req.header('Content-Type')!r}: send application/json", status=415)
    cm = req.header("X-CM-ID").strip()
    if cm != state.c("cm_id"):
        bad("X-CM-ID", f"unknown consent manager {cm!r}, expected {state.c('cm_id')!r}")
    if need_hip:
        hip = (req.header("X-HIP-ID") or "").strip()
        if not hip:
            bad("X-HIP-ID", "header missing", code="ABDM-1035")
        check_hip_id(state, hip, "X-HIP-ID")
    return rid


def check_hip_id(state, hip, field):
    known = state.c("hip_ids")
    if known and hip not in known:
        bad(field, f"Invalid HIP ID {hip!r}", code="ABDM-1035")


# -- body helpers ------------------------------------------------------------------------------

def obj(body, field):
    if not isinstance(body, dict):
        bad(field, "must be a JSON object", code="ABDM-1064" if field == "body" else "ABDM-9999")
    return body


def get(d, key, field, kind=str, required=True, nonempty=True):
    v = d.get(key)
    path = f"{field}.{key}" if field else key
    if v is None:
        if required:
            bad(path, "is required")
        return None
    if kind is int:
        if isinstance(v, bool) or not isinstance(v, int):
            bad(path, f"must be an integer, got {type(v).__name__}")
    elif not isinstance(v, kind):
        bad(path, f"must be {kind.__name__}, got {type(v).__name__}")
    if nonempty and ((kind is str and not v.strip()) or (kind is list and not v)):
        bad(path, "must not be empty")
    return v


def timestamp(d, key, field, required=True):
    v = get(d, key, field, str, required)
    if v is not None and parse_iso(v) is None:
        bad(f"{field}.{key}", f"not an ISO-8601 timestamp: {v!r}")
    return v


def enum(d, key, field, allowed, required=True):
    v = get(d, key, field, str, required)
    if v is not None and v not in allowed:
        bad(f"{field}.{key}", f"{v!r} not one of {sorted(allowed)}")
    return v


def hi_type(v, path):
    if isinstance(v, list):
        bad(path, "hiType must be a single string, not an array")
    if not isinstance(v, str) or v.upper() not in _HI_TYPES_UPPER:
        bad(path, f"unknown hiType {v!r}")
    return _HI_TYPES_UPPER[v.upper()]


def error_object(d, field):
    """V3 {"code": "ABDM-xxxx", "message": "..."}; codes may carry trailing punctuation."""
    e = obj(d, field)
    get(e, "code", field, str)
    get(e, "message", field, str, nonempty=False)
    return e


def response_ref(body, state, kinds, key="response"):
    """response.requestId must be an id the simulator sent, of one of the expected kinds
    (ABDM-1015 "Invalid Response", NHA M2 doc §5.3.3). Returns the delivery record."""
    ref = body.get(key)
    if not isinstance(ref, dict) or not isinstance(ref.get("requestId"), str):
        bad(f"{key}.requestId", "is required", code="ABDM-1015")
    rid = ref["requestId"]
    d = state.delivery_by_id.get(rid)
    if d is None or d["kind"] not in kinds:
        bad(f"{key}.requestId", f"Invalid Response: {rid!r} is not the REQUEST-ID of a "
                                f"{' / '.join(kinds)} this gateway sent", code="ABDM-1015")
    return d


def care_context_groups(patients, field, need_display=True, max_per_group=20, exact_count=True):
    """V3 'patient' arrays: one entry per HI type, careContexts 1..20, count == len(careContexts)
    (NHA M2 doc §4.3.3, §5.3.3). Returns (groups, count_mismatch) where groups is a list of
    (referenceNumber, hiType, [careContextReference]). A count mismatch is returned, not raised,
    because link/carecontext reports it through the callback (ABDM-1037)."""
    if not isinstance(patients, list):
        bad(field, "must be an array (one entry per HI type)")
    if not patients:
        bad(field, "Empty patient list", code="ABDM-1115")
    seen, groups, mismatch = set(), [], None
    for i, p in enumerate(patients):
        f = f"{field}[{i}]"
        obj(p, f)
        ref = get(p, "referenceNumber", f)
        if need_display:
            get(p, "display", f, str, nonempty=False)
        ht = hi_type(p.get("hiType"), f"{f}.hiType")
        ccs = get(p, "careContexts", f, list, nonempty=False)
        if not 1 <= len(ccs) <= max_per_group:
            bad(f"{f}.careContexts", f"{len(ccs)} care contexts; 1..{max_per_group} per entry")
        refs = []
        for j, cc in enumerate(ccs):
            cf = f"{f}.careContexts[{j}]"
            obj(cc, cf)
            refs.append(get(cc, "referenceNumber", cf))
            if need_display:
                get(cc, "display", cf, str, nonempty=False)
        if len(set(refs)) != len(refs):
            bad(f"{f}.careContexts", "the same care context appears twice in one entry")
        count = get(p, "count", f, int)
        if count != len(ccs):
            mismatch = f"{f}.count is {count} but careContexts has {len(ccs)}"
            if exact_count:
                bad(f"{f}.count", mismatch, code="ABDM-1059")
        key = (ref, ht)
        if key in seen:
            bad(f"{f}.hiType", f"care contexts of {ref!r} with hiType {ht} are split over several "
                               "entries; group them by HI type")
        seen.add(key)
        groups.append((ref, ht, refs))
    return groups, mismatch
