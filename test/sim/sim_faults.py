"""Fault injection rules, set through the control API (POST /_sim/faults).

A rule matches requests by path and optionally by method, a body substring and header values,
and then does one or more of:
  delay_ms         sleep before answering (then answer normally unless another action applies)
  drop             close the connection without any reply (a connection reset for the client)
  cut_response     handle the request as usual (it counts), then close the connection halfway
                   through the reply: the client cannot know the call was taken
  status / body    reply with that HTTP status and body instead of handling the request
                   (default bodies: 401 -> {"error":{"code":"900901","message":"Invalid Credentials"}},
                   others -> {"error":{"code":"ABDM-9999","message":"Simulated fault: HTTP <n>"}};
                   "empty_body": true sends no body at all)
  error_envelope   HTTP 200 carrying {"error": {...}} (a failure a client must not take as success)
  expire_sessions  invalidate every gateway session token first (forces a session renewal)
  callback         change the asynchronous callback the request triggers, the request itself is
                   handled normally: {"drop": true} | {"delay_ms": n} | {"error": {"code","message"}}
Counting: "skip" matching requests pass untouched first, then the rule fires "times" times
(omitted or null: for ever). "probability" (0-1) fires it only for that share of the matching
requests, drawn from a generator seeded with "seed" (default: the rule id), so a run repeats. Rules are tried in the order they were added; the first live rule that
matches wins.

Paths: the gateway path after the base URL ("/v3/token/generate-token"), or the full request path
("/api/hiecm/v3/token/generate-token", "/hiu/data-push"); a trailing "*" makes a prefix; "*" alone
matches every non-control path.
"""

import itertools
import random
import threading

from sim_http import ApiError

_ACTION_KEYS = {"delay_ms", "drop", "status", "body", "empty_body", "headers", "error_envelope",
                "expire_sessions", "callback", "cut_response"}
_MATCH_KEYS = {"path", "method", "body_contains", "header", "times", "skip", "id", "note", "probability", "seed"}


def validate_rule(rule):
    if not isinstance(rule, dict):
        raise ApiError(400, "SIM-FAULT", "a fault rule is a JSON object")
    unknown = set(rule) - _ACTION_KEYS - _MATCH_KEYS
    if unknown:
        raise ApiError(400, "SIM-FAULT", f"unknown fault keys: {sorted(unknown)}")
    if not isinstance(rule.get("path"), str) or not rule["path"]:
        raise ApiError(400, "SIM-FAULT", "fault.path is required")
    if not (set(rule) & _ACTION_KEYS):
        raise ApiError(400, "SIM-FAULT", f"fault needs one of {sorted(_ACTION_KEYS)}")
    for k in ("times", "skip", "delay_ms", "status"):
        if rule.get(k) is not None and (not isinstance(rule[k], int) or isinstance(rule[k], bool) or rule[k] < 0):
            raise ApiError(400, "SIM-FAULT", f"fault.{k} must be a non-negative integer")
    p = rule.get("probability")
    if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1):
        raise ApiError(400, "SIM-FAULT", "fault.probability must be a number from 0 to 1")
    cb = rule.get("callback")
    if cb is not None and (not isinstance(cb, dict) or not set(cb) <= {"drop", "delay_ms", "error"}):
        raise ApiError(400, "SIM-FAULT", "fault.callback is {drop | delay_ms | error}")


class FaultTable:
    def __init__(self):
        self._rules = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._random = {}

    def add(self, rule):
        validate_rule(rule)
        rule = dict(rule)
        with self._lock:
            rule["id"] = next(self._ids)
            rule["seen"] = 0      # matching requests so far
            rule["fired"] = 0     # times the actions were applied
            self._rules.append(rule)
            self._random[rule["id"]] = random.Random(rule.get("seed", rule["id"]))
        return rule

    def list(self):
        with self._lock:
            return [dict(r) for r in self._rules]


    def clear(self, rule_id=None):
        with self._lock:
            if rule_id is None:
                self._rules.clear()
            else:
                self._rules = [r for r in self._rules if r["id"] != rule_id]

    @staticmethod
    def _path_matches(pattern, full_path, rel_path):
        if pattern == "*":
            return True
        if pattern.endswith("*"):
            p = pattern[:-1]
            return full_path.startswith(p) or rel_path.startswith(p)
        return pattern in (full_path, rel_path)

    def take(self, req):
        """The rule to apply to this request (counted as fired), or None."""
        with self._lock:
            for rule in self._rules:
                if rule.get("times") is not None and rule["fired"] >= rule["times"]:
                    continue
                if not self._path_matches(rule["path"], req.path, req.rel_path):
                    continue
                if rule.get("method", "POST").upper() not in (req.method, "*"):
                    continue
                if rule.get("body_contains") and rule["body_contains"].encode() not in req.raw_body:
                    continue
                if any(req.header(k) != v for k, v in (rule.get("header") or {}).items()):
                    continue
                rule["seen"] += 1
                if rule["seen"] <= rule.get("skip", 0):
                    continue
                if rule.get("probability") is not None and self._random[rule["id"]].random() >= rule["probability"]:
                    continue
                rule["fired"] += 1
                return dict(rule)
        return None


def fault_response_body(rule):
    status = rule.get("status", 200)
    if rule.get("empty_body"):
        return None
    if "body" in rule:
        return rule["body"]
    if status == 401:
        return {"error": {"code": "900901", "message": "Invalid Credentials"}}
    if rule.get("error_envelope") and status == 200:
        return {"error": {"code": "ABDM-9999", "message": "Simulated fault: error in a 200 reply"}}
    return {"error": {"code": "ABDM-9999", "message": f"Simulated fault: HTTP {status}"}}
