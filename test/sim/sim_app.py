"""Dispatch for one listening port: route, apply faults, call the route, record the exchange."""

import time

from sim_faults import fault_response_body
from sim_ratelimit import TOO_MANY
from sim_http import Response, run_route

MAX_SUMMARISED = 300 * 1024 * 1024


class App:
    def __init__(self, state, router, server_name, base_path="", body_summary=None):
        self.body_summary = body_summary     # fn(parsed JSON) -> what to record instead
        self.state = state
        self.router = router
        self.server_name = server_name
        self.base_path = base_path
        self.verbose = False

    def dispatch(self, req):
        st = self.state
        name, fn = self.router.match(req.method, req.path)
        req.route = name
        if self.base_path and req.path.startswith(self.base_path + "/"):
            req.rel_path = req.path[len(self.base_path):]
        if name and name.startswith("control"):
            return run_route(fn, req)              # the control API is neither faulted nor recorded

        req.record["seq"] = st.next_seq()
        fault = st.faults.take(req)
        req.fault = fault
        resp = None
        if fault:
            req.record["fault"] = fault["id"]
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault.get("expire_sessions"):
                st.sessions.expire_all()
            if fault.get("drop"):
                self._record(req, None, dropped=True)
                return None
            if "status" in fault or fault.get("error_envelope"):
                resp = Response(fault.get("status", 200), fault_response_body(fault), dict(fault.get("headers") or {}))
        if resp is None and name is not None and not st.rate_limits.allow(name):
            resp = Response(429, {"error": dict(TOO_MANY)})   # over the route's rate: ABDM-1022
        if resp is None:
            if name is None:
                resp = Response(404, {"error": {"code": "ABDM-9999", "message": f"No such endpoint: {req.path}"}})
            elif fn is None:
                resp = Response(405, {"error": {"code": "ABDM-9999", "message": f"{req.method} not allowed on {req.path}"}})
            else:
                resp = run_route(fn, req)
        if fault and fault.get("cut_response"):
            resp.cut = True  # handled as usual (the call counts), but the client never gets the whole answer
            if not resp.body and resp.raw is None:
                resp.body = {"ok": True}  # something to cut: a reply with no body would arrive whole
        self._record(req, resp)
        return resp

    def _record(self, req, resp, dropped=False):
        st = self.state
        rec = {
            "seq": req.record.pop("seq"),
            "server": self.server_name,
            "time": req.received_at,
            "elapsedMs": round((time.time() - req.received_at) * 1000, 3),
            "method": req.method,
            "path": req.path,
            "relPath": req.rel_path,
            "route": req.route,
            "headers": req.headers_dict(),
            "status": None if dropped else resp.status,
            "response": None if dropped else resp.body,
            "dropped": dropped,
        }
        if "body" in req.record:
            rec["body"] = req.record.pop("body")
        elif self.body_summary is not None and len(req.raw_body) <= MAX_SUMMARISED:
            parsed = req.json_or_raw()
            rec["body"] = self.body_summary(parsed) if isinstance(parsed, dict) else parsed
        elif len(req.raw_body) > st.c("record_body_max"):
            rec["body"] = {"_truncated": True, "bytes": len(req.raw_body)}
        else:
            rec["body"] = req.json_or_raw()
        rec.update(req.record)
        st.add_request(rec)
