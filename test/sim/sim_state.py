"""Settings and the in-memory state of one simulator run (no persistence: a restart is a new
gateway with new secrets, like a fresh sandbox)."""

import collections
import copy
import itertools
import threading
import time
from datetime import datetime, timezone

from sim_faults import FaultTable
from sim_ratelimit import RateLimiter
from sim_http import ApiError
from sim_tokens import LinkTokenStore, SessionStore

DEFAULTS = {
    # Gateway identity
    "base_path": "/api/hiecm",           # V3 gateway paths start after this (NHA M2 doc §1)
    "cm_id": "sbx",                       # expected X-CM-ID; the ABHA address suffix
    "clients": {"SBX_SIM": "sim-secret"},  # clientId -> clientSecret accepted by /sessions
    "hip_ids": [],                        # X-HIP-IDs the gateway knows; empty = accept any
    "default_hip_id": "HIP_SIM",          # HIP addressed by HIE-CM messages when none is given
    # Sessions
    "session_status": 200,                # NHA doc says 202, the sandbox answers 200
    "expires_in": 1200,
    "refresh_expires_in": 1800,
    # Header checks
    "timestamp_past_s": 600,              # TIMESTAMP accepted within [now - past, now + future]
    "timestamp_future_s": 600,
    "duplicate_request_id": "replay",     # replay: same reply, no side effect; reject: 400 ABDM-1064
    # HIP-initiated linking
    "generate_token_dup_window_s": 370,   # ABDM-1092 window, ~6.2 min observed in the sandbox
    "generate_token_daily_limit": 3,      # above this per (HIP, ABHA address) a day: ABDM-1027
    "link_token_ttl_s": LinkTokenStore.TTL,
    "sms_phone_formats": ["10", "91", "+91-"],
    # Delivery of gateway -> HIP messages
    "delivery": "none",                   # none | sql | http
    "dsn": None,                          # for sql: libpq connection string
    "receive_function": "abdm_hip.receive",
    "bridge_url": None,                   # for http: base URL; the /api/v3/... path is appended
    "callback_delay_ms": 100,             # delay before an asynchronous callback
    "delivery_threads": 4,
    "delivery_timeout_s": 15,
    "redeliver_after_ms": 0,              # >0: re-deliver a refused message after this long
    "redeliver_max": 0,
    "header_case": "documented",          # documented (REQUEST-ID, X-HIP-ID...) | lower
    "certs_require_auth": False,          # NHA docs: no token; sandbox observed 401 without one
    # HIU side
    "hiu_id": "HIU_SIM",
    "hiu_name": "Simulated HIU",
    "hiu_max_page_count": None,           # e.g. 1 to behave like the reference HIU
    "hiu_fetch_links": True,              # fetch entries given as "link"
    "hiu_keep_plaintext_bytes": 64 * 1024 * 1024,
    "hiu_require_known_transaction": True,
    "hiu_key_expiry_s": 86400,
    "hiu_decrypt_every": 1,               # decrypt every Nth entry of a transfer (big benchmarks)
    "hiu_crypto": "x25519",               # x25519: OpenSSL (fidelius_fast) | python: fidelius_py
    # Recording
    "max_records": 100_000,
    "record_body_max": 1024 * 1024,       # recorded bodies larger than this are summarised
}

_NULLABLE = {"dsn", "bridge_url", "hiu_max_page_count"}


def now_iso(t=None):
    """UTC ISO-8601 with milliseconds and Z, the V3 TIMESTAMP format (NHA M2 doc, all sections)."""
    t = time.time() if t is None else t
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


def parse_iso(text):
    """Epoch seconds from an ISO-8601 timestamp, or None."""
    if not isinstance(text, str):
        return None
    s = text.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class State:
    def __init__(self, overrides=None):
        self.lock = threading.RLock()
        self.cfg = copy.deepcopy(DEFAULTS)
        if overrides:
            self.update_config(overrides)
        self.started_at = time.time()
        self.faults = FaultTable()
        self.rate_limits = RateLimiter()
        self.sessions = SessionStore()
        self.link_tokens = LinkTokenStore()
        self.signer = None                       # set once the base URL is known
        self._seq = itertools.count(1)
        self.requests = collections.deque(maxlen=self.cfg["max_records"])
        self.deliveries = collections.deque(maxlen=self.cfg["max_records"])
        self.delivery_by_id = {}                 # REQUEST-ID we sent -> delivery record
        self.replies = {}                        # (route, REQUEST-ID) -> (status, body) of accepted calls
        self.token_requests = collections.defaultdict(list)   # (hip, abha address) -> [times]
        self.links = {}                          # (hip, abha, patientRef, ccRef, hiType) -> info
        self.abha = {}                           # ABHA address -> registry entry
        self.consents = {}                       # consentId -> {status, hipId, detail, ...}
        self.transactions = {}                   # discovery/linking transactionId -> info
        self.hiu = {}                            # HI transactionId -> HIU transfer record
        self.bridge = {"url": None}
        self.urls = {}
        self.deliverer = None                    # set by abdm_sim
        self.hiu_server = None

    # -- settings ------------------------------------------------------------------------------
    def update_config(self, patch):
        if not isinstance(patch, dict):
            raise ApiError(400, "SIM-CONFIG", "config patch must be an object")
        for k, v in patch.items():
            if k not in DEFAULTS:
                raise ApiError(400, "SIM-CONFIG", f"unknown setting {k!r}")
            d = DEFAULTS[k]
            if v is None and k not in _NULLABLE:
                raise ApiError(400, "SIM-CONFIG", f"{k} may not be null")
            if v is not None and d is not None and not isinstance(v, type(d)) and not (
                    isinstance(d, float) and isinstance(v, int)):
                raise ApiError(400, "SIM-CONFIG", f"{k} must be {type(d).__name__}")
        if patch.get("delivery", "none") not in ("none", "sql", "http"):
            raise ApiError(400, "SIM-CONFIG", "delivery is none | sql | http")
        if patch.get("duplicate_request_id", "replay") not in ("replay", "reject"):
            raise ApiError(400, "SIM-CONFIG", "duplicate_request_id is replay | reject")
        if patch.get("header_case", "documented") not in ("documented", "lower"):
            raise ApiError(400, "SIM-CONFIG", "header_case is documented | lower")
        if patch.get("hiu_crypto", "x25519") not in ("x25519", "python"):
            raise ApiError(400, "SIM-CONFIG", "hiu_crypto is x25519 | python")
        if patch.get("hiu_decrypt_every", 1) < 1:
            raise ApiError(400, "SIM-CONFIG", "hiu_decrypt_every must be at least 1")
        with self.lock:
            self.cfg.update(copy.deepcopy(patch))

    def c(self, key):
        return self.cfg[key]

    # -- recording -----------------------------------------------------------------------------
    def next_seq(self):
        return next(self._seq)

    def add_request(self, rec):
        with self.lock:
            self.requests.append(rec)

    def add_delivery(self, rec):
        with self.lock:
            self.deliveries.append(rec)
            self.delivery_by_id[rec["requestId"]] = rec

    def clear(self, keep=()):
        with self.lock:
            if "requests" not in keep:
                self.requests.clear()
            if "deliveries" not in keep:
                self.deliveries.clear()
            if "faults" not in keep:
                self.faults.clear()
            if "rate_limits" not in keep:
                self.rate_limits.clear()
            if "hiu" not in keep:
                self.hiu.clear()
            if "replies" not in keep:
                self.replies.clear()
                self.token_requests.clear()
            if "links" not in keep:
                self.links.clear()
            if "sessions" not in keep:
                self.sessions.expire_all()
