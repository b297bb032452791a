"""Per-endpoint rate limits, as ABDM's gateway enforces them (NHA Sandbox Documentation ABDM M2
v2.8 error list: ABDM-1022 "too many requests"), set through the control API:

  POST /_sim/rate-limits {"generate-token": {"rate": 100, "burst": 100}, "link-carecontext": 100, ...}
       sets (or, with null / 0, removes) the limit of each route named (route names as in
       /_sim/requests: generate-token, link-carecontext, context-notify, sms-notify2, ...)
  GET  /_sim/rate-limits   every limit, and per route the calls accepted and refused (with 1022)
  DELETE /_sim/rate-limits  no limits, counts reset

Each limited route has a token bucket: `rate` calls a second, at most `burst` at once (default:
one second's worth, like a gateway counting calls per second). A call beyond it is answered at
once with HTTP 429 and {"error": {"code": "ABDM-1022", "message": ...}}, is recorded like any
request (status 429), and is not handled (no callback).
"""

import threading
import time

from sim_http import ApiError

TOO_MANY = {"code": "ABDM-1022", "message": "Too many requests. Please try again later."}


class _Bucket:
    def __init__(self, rate, burst):
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = self.burst
        self.at = time.monotonic()
        self.accepted = 0
        self.refused = 0

    def take(self, now):
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.accepted += 1
            return True
        self.refused += 1
        return False


def _parse(route, spec):
    """(rate, burst) from 100 or {"rate": 100, "burst": 50}; None removes the limit."""
    if spec is None or spec == 0:
        return None
    if isinstance(spec, bool):
        raise ApiError(400, "SIM-RATE", f"{route}: a rate is a number of calls per second")
    if isinstance(spec, (int, float)):
        spec = {"rate": spec}
    if not isinstance(spec, dict) or not set(spec) <= {"rate", "burst"}:
        raise ApiError(400, "SIM-RATE", f"{route}: give a rate, or {{rate, burst}}")
    rate, burst = spec.get("rate"), spec.get("burst")
    for name, v in (("rate", rate), ("burst", burst)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            raise ApiError(400, "SIM-RATE", f"{route}.{name} must be a non-negative number")
    if not rate:
        return None
    return float(rate), float(burst if burst else max(1.0, rate))


class RateLimiter:
    def __init__(self):
        self._lock = threading.Lock()
        self._buckets = {}
        self._refused_total = 0

    def set(self, limits):
        if not isinstance(limits, dict):
            raise ApiError(400, "SIM-RATE", "rate limits are a JSON object: {route: rate | {rate, burst}}")
        parsed = {route: _parse(route, spec) for route, spec in limits.items()}
        with self._lock:
            for route, rb in parsed.items():
                if rb is None:
                    self._buckets.pop(route, None)
                else:
                    old = self._buckets.get(route)
                    b = _Bucket(*rb)
                    if old:  # the counts go on
                        b.accepted, b.refused = old.accepted, old.refused
                    self._buckets[route] = b
        return self.view()

    def clear(self):
        with self._lock:
            self._buckets.clear()
            self._refused_total = 0

    def allow(self, route):
        """True when a call to this route may be handled now (always for an unlimited route)."""
        with self._lock:
            b = self._buckets.get(route)
            if b is None:
                return True
            ok = b.take(time.monotonic())
            if not ok:
                self._refused_total += 1
            return ok

    def view(self):
        with self._lock:
            return {"limits": {r: {"rate": b.rate, "burst": b.burst, "accepted": b.accepted, "refused": b.refused}
                               for r, b in self._buckets.items()},
                    "refused": self._refused_total}
