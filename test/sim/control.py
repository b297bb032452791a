"""The control API under /_sim/ (JSON over HTTP) that tests, the demo and the benchmarks use to
inspect and steer the simulator. simclient.py wraps every call; README.md lists them."""

import time

from cm_actions import HieCm
import hiu_pages
from hiu import transfer_view
from phr import phr_view
from sim_http import ApiError, Response

CM_KINDS = {"discover": "discover", "link-init": "link_init", "link-confirm": "link_confirm",
            "consent-notify": "consent_notify", "hi-request": "hi_request",
            "patient-status-notify": "patient_status_notify", "send": "send"}


def _int(req, name, default=None):
    v = req.q(name)
    if v is None:
        return default
    try:
        return int(v)
    except ValueError:
        raise ApiError(400, "SIM-QUERY", f"query parameter {name} must be an integer") from None


def _filtered(items, req, keys):
    since = _int(req, "since", 0)
    out = [x for x in items if x["seq"] > since]
    for k in keys:
        v = req.q(k)
        if v is not None:
            out = [x for x in out if str(x.get(k)) == v]
    limit = _int(req, "limit")
    return out[-limit:] if limit else out


class Control:
    def __init__(self, state, listeners):
        self.state = state
        self.listeners = listeners      # {"gateway": Listener, "hiu": Listener}
        self.cm = HieCm(state)

    def register(self, router):
        a, ap = router.add, router.add_prefix
        a("GET", "/_sim/health", "control-health", self.health)
        a("GET", "/_sim/config", "control-config", lambda r: Response(200, self.state.cfg))
        a("POST", "/_sim/config", "control-config-set", self.set_config)
        a("GET", "/_sim/requests", "control-requests", self.requests)
        a("GET", "/_sim/deliveries", "control-deliveries", self.deliveries)
        a("POST", "/_sim/clear", "control-clear", self.clear)
        a("GET", "/_sim/faults", "control-faults", lambda r: Response(200, self.state.faults.list()))
        a("POST", "/_sim/faults", "control-faults-add", self.add_faults)
        a("DELETE", "/_sim/faults", "control-faults-clear", self.clear_faults)
        a("POST", "/_sim/faults/clear", "control-faults-clear2", self.clear_faults)
        a("GET", "/_sim/rate-limits", "control-rate-limits", lambda r: Response(200, self.state.rate_limits.view()))
        a("POST", "/_sim/rate-limits", "control-rate-limits-set",
          lambda r: Response(200, self.state.rate_limits.set(self._body(r))))
        a("DELETE", "/_sim/rate-limits", "control-rate-limits-clear",
          lambda r: (self.state.rate_limits.clear(), Response(200, self.state.rate_limits.view()))[1])
        a("GET", "/_sim/sessions", "control-sessions", lambda r: Response(200, self.state.sessions.stats()))
        a("POST", "/_sim/sessions/expire", "control-sessions-expire",
          lambda r: Response(200, {"expired": self.state.sessions.expire_all()}))
        a("GET", "/_sim/link-tokens", "control-link-tokens", lambda r: Response(200, self.state.link_tokens.list()))
        a("POST", "/_sim/link-tokens", "control-link-tokens-mint", self.mint_link_token)
        a("POST", "/_sim/link-tokens/revoke", "control-link-tokens-revoke", self.revoke_link_token)
        a("POST", "/_sim/bearer", "control-bearer", self.mint_bearer)
        a("GET", "/_sim/abha", "control-abha", lambda r: Response(200, list(self.state.abha.values())))
        a("POST", "/_sim/abha", "control-abha-add", self.add_abha)
        a("GET", "/_sim/links", "control-links", self.links)
        a("GET", "/_sim/consents", "control-consents", lambda r: Response(200, list(self.state.consents.values())))
        a("GET", "/_sim/phr", "control-phr", self.phr)
        for kind in CM_KINDS:
            a("POST", f"/_sim/cm/{kind}", f"control-cm-{kind}", self._cm(kind))
        a("GET", "/_sim/hiu/transfers", "control-hiu-transfers", self.transfers)
        ap("GET", "/_sim/hiu/transfers/", "control-hiu-transfer", self.transfer)
        a("GET", "/_sim/hiu/key-iv-reuse", "control-hiu-key-iv-reuse", self.key_iv_reuse)
        for name in ("gateway", "hiu"):
            a("POST", f"/_sim/{name}/down", f"control-{name}-down", self._updown(name, False))
            a("POST", f"/_sim/{name}/up", f"control-{name}-up", self._updown(name, True))
        # The OTP / SMS hook of the HIP (any JSON, recorded as a request on route "hook").
        ap("POST", "/hooks/", "hook", lambda r: Response(202))

    def _body(self, req):
        b = req.json(required=False)
        if b is None:
            return {}
        if not isinstance(b, (dict, list)):
            raise ApiError(400, "SIM-BODY", "body must be a JSON object")
        return b

    def health(self, req):
        st = self.state
        return Response(200, {"ok": True, "uptimeS": round(time.time() - st.started_at, 1), "urls": st.urls,
                              "up": {k: v.is_up for k, v in self.listeners.items()}, "delivery": st.c("delivery"),
                              "pendingDeliveries": st.deliverer.pending(),
                              "requests": len(st.requests), "deliveries": len(st.deliveries)})

    def set_config(self, req):
        self.state.update_config(self._body(req))
        return Response(200, self.state.cfg)

    def requests(self, req):
        items = _filtered(list(self.state.requests), req, ["route", "path", "status", "server", "requestId"])
        if req.q("bodies") == "0":
            items = [{k: v for k, v in x.items() if k not in ("body", "response", "headers")} for x in items]
        return Response(200, items)

    def deliveries(self, req):
        return Response(200, _filtered(list(self.state.deliveries), req, ["kind", "path", "state", "inReplyTo",
                                                                          "requestId", "hipId"]))

    def clear(self, req):
        b = self._body(req)
        keep = set(b.get("keep", ["sessions"])) if isinstance(b, dict) else {"sessions"}
        self.state.clear(keep)
        return Response(200, {"cleared": True, "kept": sorted(keep)})

    def add_faults(self, req):
        b = self._body(req)
        rules = b if isinstance(b, list) else [b]
        return Response(200, [self.state.faults.add(r) for r in rules])

    def clear_faults(self, req):
        b = self._body(req)
        self.state.faults.clear(b.get("id") if isinstance(b, dict) else None)
        return Response(200, self.state.faults.list())

    def mint_link_token(self, req):
        b = self._body(req)
        hip = b.get("hipId") or self.state.c("default_hip_id")
        if not b.get("abhaAddress"):
            raise ApiError(400, "SIM-BODY", "abhaAddress is required")
        if b.get("abhaNumber") is not None and not str(b["abhaNumber"]).replace("-", "").isdigit():
            raise ApiError(400, "SIM-BODY", "abhaNumber must be digits")
        token, claims = self.state.link_tokens.mint(hip, b["abhaAddress"], b.get("abhaNumber"),
                                                    b.get("ttl", self.state.c("link_token_ttl_s")))
        return Response(200, {"linkToken": token, "claims": claims})

    def revoke_link_token(self, req):
        b = self._body(req)
        n = self.state.link_tokens.revoke(b.get("linkToken"), b.get("hipId"), b.get("abhaAddress"))
        return Response(200, {"revoked": n})

    def mint_bearer(self, req):
        """A gateway bearer for a test of the HIP's listener, right or wrong on purpose:
        {"claims": {...}, "header": {...}  (overrides; null deletes a member),
         "key": "gateway" | "other"  (other: an RSA key the JWKS does not hold),
         "alg": "RS256" | "RS512" | "none" | "HS256"  (how it is signed; the header says the same
                unless "header" overrides alg), "hmacKey": the public-key form HS256 is keyed with
                (spki-pem, pkcs1-pem, spki-der, jwk-json, n), "expiresIn": seconds (1200)}
        -> {"token", "header", "claims", "kid" (the JWKS key's)}."""
        b = self._body(req)
        if not isinstance(b, dict):
            raise ApiError(400, "SIM-BODY", "body must be a JSON object")
        unknown = set(b) - {"claims", "header", "key", "alg", "hmacKey", "expiresIn"}
        if unknown:
            raise ApiError(400, "SIM-BODY", f"unknown members {sorted(unknown)}")
        try:
            token, header, claims = self.state.signer.mint(
                b.get("claims"), b.get("header"), b.get("key", "gateway"), b.get("alg", "RS256"),
                b.get("hmacKey", "spki-pem"), b.get("expiresIn", 1200))
        except ValueError as exc:
            raise ApiError(400, "SIM-BODY", str(exc)) from None
        return Response(200, {"token": token, "header": header, "claims": claims, "kid": self.state.signer.kid})

    def add_abha(self, req):
        b = self._body(req)
        entries = b if isinstance(b, list) else [b]
        for e in entries:
            if not isinstance(e, dict) or not e.get("abhaAddress"):
                raise ApiError(400, "SIM-BODY", "each ABHA entry needs abhaAddress")
            if e.get("abhaNumber") is not None:
                e["abhaNumber"] = str(e["abhaNumber"]).replace("-", "")
            self.state.abha[e["abhaAddress"]] = {"status": "ACTIVE", **e}
        return Response(200, list(self.state.abha.values()))

    def links(self, req):
        out = [{"hipId": k[0], "abhaAddress": k[1], "patientReference": k[2], "careContextReference": k[3],
                "hiType": k[4], **v} for k, v in list(self.state.links.items())]
        for key in ("hipId", "abhaAddress", "patientReference"):
            v = req.q(key)
            if v is not None:
                out = [x for x in out if x[key] == v]
        return Response(200, out)

    def phr(self, req):
        """What the patient's PHR app shows for one ABHA address (phr.py)."""
        address = req.q("abhaAddress")
        if not address:
            raise ApiError(400, "SIM-QUERY", "query parameter abhaAddress is required")
        return Response(200, phr_view(self.state, address))

    def _cm(self, kind):
        method = getattr(self.cm, CM_KINDS[kind])

        def route(req):
            b = self._body(req)
            if not isinstance(b, dict):
                raise ApiError(400, "SIM-BODY", "body must be a JSON object")
            return Response(200, method(b))
        return route

    def transfers(self, req):
        full = req.q("plaintext") == "1"
        views = [transfer_view(t, full) for t in list(self.state.hiu.values())]
        if req.q("brief") == "1":   # without the per-push and per-entry lists (benchmarks)
            views = [{k: v for k, v in t.items() if k not in ("pushes", "entries")} for t in views]
        return Response(200, views)

    def key_iv_reuse(self, req):
        """Every transfer in which one AES-GCM (key, IV) encrypted two different entries."""
        found = []
        for t in list(self.state.hiu.values()):
            reuse = hiu_pages.key_iv_reuse(t)
            if reuse:
                found.append({"transactionId": t["transactionId"], "keyIvReuse": reuse})
        return Response(200, {"transfersChecked": len(self.state.hiu), "transfersWithReuse": len(found),
                              "transfers": found})

    def transfer(self, req):
        txn = req.path[len("/_sim/hiu/transfers/"):]
        t = self.state.hiu.get(txn)
        if t is None:
            raise ApiError(404, "SIM-NOT-FOUND", f"no transfer {txn!r}")
        return Response(200, transfer_view(t, req.q("plaintext", "1") == "1"))

    def _updown(self, name, up):
        def route(req):
            listener = self.listeners[name]
            if up:
                listener.up()
            else:
                listener.down()
            return Response(200, {"name": name, "up": listener.is_up, "port": listener.port})
        return route
