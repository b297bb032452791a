"""The gateway (HIE-CM) endpoints a HIP calls, V3 paths after the base URL.

Sources for paths, headers, bodies and error codes: NHA "Sandbox Documentation (ABDM_Milestone 2)"
v2.8 §3.2 (sessions, certs, bridge), §4.3.1-4.3.9 (link token, carecontext, context notify, SMS),
§5.3 (discovery and linking answers), §6.3 (consent, health information); NHA's V3 Postman
collection for header sets. Every accepted business call answers 202; its result travels as a
separate callback to the HIP (see delivery.py).
"""

import functools
import re
import time

import sim_validate as V
from sim_http import ApiError, Response
from sim_state import now_iso, parse_iso

# Callback paths on the HIP's bridge (NHA M2 doc §8 "API Listing").
CB_ON_GENERATE_TOKEN = "/api/v3/hip/token/on-generate-token"
CB_ON_CARECONTEXT = "/api/v3/link/on_carecontext"
CB_CONTEXT_ON_NOTIFY = "/api/v3/links/context/on-notify"
CB_SMS_ON_NOTIFY = "/api/v3/patients/sms/on-notify"

PHONE_RE = re.compile(r"^(?:\+91-|91)?[6-9]\d{9}$")


def gateway_call(need_hip=False):
    """Header checks, then REQUEST-ID idempotency: a repeated REQUEST-ID that was accepted before
    gets the first reply again and triggers nothing (or 400 ABDM-1064 "request id already exists"
    when duplicate_request_id = reject)."""
    def deco(fn):
        @functools.wraps(fn)
        def wrapped(self, req):
            rid = V.check_headers(req, self.state, need_hip=need_hip)
            req.record["requestId"] = rid
            key = (req.route, rid)
            with self.state.lock:
                prev = self.state.replies.get(key)
                if prev is None:
                    self.state.replies[key] = (202, None, True)   # reserved while in progress
            if prev is not None:
                req.record["duplicate"] = True
                if self.state.c("duplicate_request_id") == "reject":
                    raise ApiError(400, "ABDM-1064", f"request id already exists: {rid}")
                return Response(prev[0], prev[1])
            try:
                resp = fn(self, req, rid)
            except BaseException:
                with self.state.lock:
                    self.state.replies.pop(key, None)
                raise
            with self.state.lock:
                if 200 <= resp.status < 300:
                    self.state.replies[key] = (resp.status, resp.body, False)
                else:
                    self.state.replies.pop(key, None)
            return resp
        return wrapped
    return deco


class Gateway:
    def __init__(self, state):
        self.state = state

    def register(self, router, base):
        r = router.add
        r("POST", base + "/gateway/v3/sessions", "sessions", self.sessions)
        r("GET", base + "/gateway/v3/certs", "certs", self.certs)
        r("GET", base + "/gateway/v3/.well-known/openid-configuration", "openid", self.openid)
        r("PATCH", base + "/gateway/v3/bridge/url", "bridge-url", self.bridge_url)
        r("GET", base + "/gateway/v3/bridge-services", "bridge-services", self.bridge_services)
        r("POST", base + "/v3/token/generate-token", "generate-token", self.generate_token)
        r("POST", base + "/hip/v3/link/carecontext", "link-carecontext", self.link_carecontext)
        r("POST", base + "/hip/v3/link/context/notify", "context-notify", self.context_notify)
        r("POST", base + "/hip/v3/link/patient/links/sms/notify2", "sms-notify2", self.sms_notify)
        r("POST", base + "/user-initiated-linking/v3/patient/care-context/on-discover", "on-discover",
          self.on_discover)
        r("POST", base + "/user-initiated-linking/v3/link/care-context/on-init", "on-init", self.on_init)
        r("POST", base + "/user-initiated-linking/v3/link/care-context/on-confirm", "on-confirm",
          self.on_confirm)
        r("POST", base + "/consent/v3/request/hip/on-notify", "consent-on-notify", self.consent_on_notify)
        r("POST", base + "/data-flow/v3/health-information/hip/on-request", "hi-on-request",
          self.hi_on_request)
        r("POST", base + "/data-flow/v3/health-information/notify", "hi-notify", self.hi_notify)
        r("POST", base + "/hip/v3/link/patient/links/hip/on-deactivate", "patient-status-on-notify",
          self.patient_status_on_notify)

    # -- callbacks -----------------------------------------------------------------------------
    def _callback(self, req, kind, path, hip_id, build):
        """Queue the asynchronous answer. build(error) returns the body (error is None for the
        normal answer); a fault's callback settings can drop it, delay it or turn it into an error."""
        cb = (req.fault or {}).get("callback") or {}
        error = cb.get("error") or req.record.pop("callback_error", None)
        rec = self.state.deliverer.new_message(kind, path, hip_id, build(error), in_reply_to=req.record.get("requestId"))
        if "requestId" in rec["body"] and rec["body"]["requestId"] is None:
            rec["body"]["requestId"] = rec["requestId"]   # V3 bodies that still carry their own id
        req.record.setdefault("callbacks", []).append(rec["requestId"])
        if cb.get("drop"):
            rec["state"] = "dropped"
            return rec
        self.state.deliverer.schedule(rec, cb.get("delay_ms"))
        return rec

    # -- sessions, certs, bridge ---------------------------------------------------------------
    def sessions(self, req):
        V.check_headers(req, self.state, need_auth=False)
        body = V.obj(req.json(), "body")
        req.record["body"] = {k: ("***" if k == "clientSecret" else v) for k, v in body.items()}
        grant = body.get("grantType") or "client_credentials"
        if grant == "refresh_token":
            client = self.state.sessions.use_refresh(V.get(body, "refreshToken", ""))
            if client is None:
                raise ApiError(401, "900901", "Invalid or expired refresh token")
        elif grant == "client_credentials":
            client = V.get(body, "clientId", "")
            secret = V.get(body, "clientSecret", "")
            if self.state.c("clients").get(client) != secret:
                raise ApiError(401, "900901", "Invalid client credentials")
        else:
            V.bad("grantType", f"{grant!r} not one of client_credentials, refresh_token")
        exp, rexp = self.state.c("expires_in"), self.state.c("refresh_expires_in")
        access, refresh = self.state.sessions.create(client, exp, rexp)
        req.record["clientId"] = client
        return Response(self.state.c("session_status"),
                        {"accessToken": access, "expiresIn": exp, "refreshExpiresIn": rexp,
                         "refreshToken": refresh, "tokenType": "bearer"})

    def certs(self, req):
        if self.state.c("certs_require_auth"):
            V.check_headers(req, self.state)
        return Response(200, self.state.signer.jwks)

    def openid(self, req):
        return Response(200, {"issuer": self.state.signer.issuer,
                              "jwks_uri": self.state.urls["gateway"] + "/gateway/v3/certs"})

    @gateway_call()
    def bridge_url(self, req, rid):
        url = V.get(V.obj(req.json(), "body"), "url", "")
        self.state.bridge["url"] = url
        return Response(202)

    def bridge_services(self, req):
        V.check_headers(req, self.state)
        hips = self.state.c("hip_ids") or [self.state.c("default_hip_id")]
        client = next(iter(self.state.c("clients")), "SBX_SIM")
        return Response(200, {
            "bridge": {"id": client, "name": "abdm_sim bridge", "url": self.state.bridge["url"],
                       "active": True, "blocklisted": False},
            "services": [{"id": h, "name": h, "types": ["HIP"], "endpoints": {}, "active": True} for h in hips]})

    # -- HIP-initiated linking -----------------------------------------------------------------
    def _abha_number(self, v, field):
        if v is None:
            return None
        text = str(v) if isinstance(v, int) and not isinstance(v, bool) else v
        if not isinstance(text, str) or not re.fullmatch(r"\d{14}", text):
            V.bad(field, f"ABHA number must be 14 digits, got {v!r}")
        return text

    def _abha_address(self, v, field):
        if v is None:
            return None
        if not isinstance(v, str) or not V.ABHA_ADDRESS_RE.match(v):
            V.bad(field, f"invalid ABHA address {v!r}")
        if not v.endswith("@" + self.state.c("cm_id")):
            V.bad(field, f"ABHA address {v!r} does not belong to consent manager {self.state.c('cm_id')!r}")
        return v

    @gateway_call(need_hip=True)
    def generate_token(self, req, rid):
        """NHA M2 doc §4.3.1-4.3.2."""
        st = self.state
        body = V.obj(req.json(), "body")
        number = self._abha_number(body.get("abhaNumber"), "abhaNumber")
        address = self._abha_address(body.get("abhaAddress"), "abhaAddress")
        if number is None and address is None:
            V.bad("abhaNumber/abhaAddress", "ABHA number and ABHA address both null", code="ABDM-1125")
        name = V.get(body, "name", "")
        gender = V.enum(body, "gender", "", {"M", "F", "O"})
        yob = V.get(body, "yearOfBirth", "", int)
        if not 1900 <= yob <= time.gmtime().tm_year:
            V.bad("yearOfBirth", f"{yob} out of range")
        hip = req.header("X-HIP-ID").strip()

        entry = st.abha.get(address) if address else next(
            (e for e in st.abha.values() if e.get("abhaNumber") == number), None)
        if address is None:
            address = entry["abhaAddress"] if entry else f"{number}@{st.c('cm_id')}"
        if number is None and entry and entry.get("abhaNumber"):
            number = entry["abhaNumber"]

        now = time.time()
        with st.lock:
            times = [t for t in st.token_requests[(hip, address)] if t > now - 86400]
            if times and now - times[-1] < st.c("generate_token_dup_window_s"):
                raise ApiError(400, "ABDM-1092", "Duplicate link token request: a token for this ABHA "
                                                 "address and HIP was requested moments ago")
            times.append(now)
            st.token_requests[(hip, address)] = times
        if len(times) > st.c("generate_token_daily_limit"):
            req.record["callback_error"] = {"code": "ABDM-1027: ",
                                            "message": "You are blocked. Please try again after 24 hours."}
        elif entry is not None:
            problem = demographic_mismatch(entry, name, gender, yob, number)
            if problem:
                req.record["callback_error"] = {"code": "ABDM-1207: ", "message": f"Demographic details invalid: {problem}"}
            elif entry.get("status", "ACTIVE") != "ACTIVE":
                req.record["callback_error"] = {"code": "ABDM-1031", "message": "ABHA address deactivated"}

        def build(error):
            out = {"abhaAddress": address}
            if error:
                out["error"] = error
            else:
                token, claims = st.link_tokens.mint(hip, address, number, st.c("link_token_ttl_s"))
                out["linkToken"] = token
            out["response"] = {"requestId": rid}
            return out

        self._callback(req, "on-generate-token", CB_ON_GENERATE_TOKEN, hip, build)
        return Response(202)

    @gateway_call(need_hip=True)
    def link_carecontext(self, req, rid):
        """NHA M2 doc §4.3.3-4.3.4."""
        st = self.state
        hip = req.header("X-HIP-ID").strip()
        token = (req.header("X-LINK-TOKEN") or "").strip()
        if not token:
            V.bad("X-LINK-TOKEN", "header missing", code="ABDM-1066")
        verdict, claims = st.link_tokens.verify(token)
        if verdict == "invalid":
            V.bad("X-LINK-TOKEN", f"Invalid JWT: {claims}", code="ABDM-1066")
        if verdict == "expired":
            V.bad("X-LINK-TOKEN", "Invalid link token: expired or revoked", code="ABDM-1026")
        body = V.obj(req.json(), "body")
        address = self._abha_address(V.get(body, "abhaAddress", ""), "abhaAddress")
        number = self._abha_number(body.get("abhaNumber"), "abhaNumber")
        if claims["hipId"] != hip:
            V.bad("X-HIP-ID", f"HIP id {hip!r} does not match the link token's {claims['hipId']!r}", code="ABDM-1063")
        if claims["abhaAddress"] != address:
            V.bad("abhaAddress", f"{address!r} does not match the link token", code="ABDM-1038")
        if number is not None and str(claims.get("abhaNumber")) != number:
            V.bad("abhaNumber", f"{number!r} does not match the link token", code="ABDM-1062")
        entry = st.abha.get(address)
        if entry and entry.get("status", "ACTIVE") != "ACTIVE":
            V.bad("abhaAddress", "ABHA address deactivated", code="ABDM-1031")
        groups, mismatch = V.care_context_groups(body.get("patient"), "patient", exact_count=False)
        if mismatch:
            req.record["callback_error"] = {"code": "ABDM-1037", "message": f"Counter and care context count mismatch: {mismatch}"}
        else:
            fresh = []
            with st.lock:
                for pref, ht, refs in groups:
                    for ref in refs:
                        k = (hip, address, pref, ref, ht)
                        if k not in st.links:
                            fresh.append(k)
                for k in fresh:
                    st.links[k] = {"linkedAt": time.time(), "requestId": rid}
            if not fresh:
                req.record["callback_error"] = {"code": "ABDM-1056", "message": "This care context has been already linked"}
            req.record["linked"] = len(fresh)

        def build(error):
            out = {"abhaAddress": address}
            if error:
                out["error"] = error
            else:
                out["status"] = "Successfully Linked care context"
            out["response"] = {"requestId": rid}
            return out

        self._callback(req, "on-carecontext", CB_ON_CARECONTEXT, hip, build)
        return Response(202)

    @gateway_call(need_hip=True)
    def context_notify(self, req, rid):
        """NHA M2 doc §4.3.6-4.3.7: an already linked care context gained HI types."""
        hip = req.header("X-HIP-ID").strip()
        n = V.obj(V.get(V.obj(req.json(), "body"), "notification", "", dict), "notification")
        V.get(V.obj(V.get(n, "patient", "notification", dict), "notification.patient"), "id", "notification.patient")
        cc = V.obj(V.get(n, "careContext", "notification", dict), "notification.careContext")
        V.get(cc, "patientReference", "notification.careContext")
        V.get(cc, "careContextReference", "notification.careContext")
        types = V.get(n, "hiTypes", "notification", list)
        for i, t in enumerate(types):
            V.hi_type(t, f"notification.hiTypes[{i}]")
        V.timestamp(n, "date", "notification")
        nhip = V.get(V.obj(V.get(n, "hip", "notification", dict), "notification.hip"), "id", "notification.hip")
        if nhip != hip:
            V.bad("notification.hip.id", f"{nhip!r} differs from X-HIP-ID {hip!r}", code="ABDM-1035")

        def build(error):
            out = {"requestId": None, "timestamp": now_iso()}
            if error:
                out["error"] = error
            else:
                out["acknowledgement"] = {"status": "SUCCESS"}
            out["response"] = {"requestId": rid}
            return out

        self._callback(req, "context-on-notify", CB_CONTEXT_ON_NOTIFY, hip, build)
        return Response(202)

    @gateway_call()
    def sms_notify(self, req, rid):
        """NHA M2 doc §4.3.8-4.3.9 (note `resp`, not `response`, in the callback)."""
        n = V.obj(V.get(V.obj(req.json(), "body"), "notification", "", dict), "notification")
        phone = V.get(n, "phoneNo", "notification")
        if not PHONE_RE.match(phone):
            V.bad("notification.phoneNo", f"{phone!r} is not a mobile number (10 digits, 91…, or +91-…)")
        h = V.obj(V.get(n, "hip", "notification", dict), "notification.hip")
        hip = V.get(h, "id", "notification.hip")
        V.get(h, "name", "notification.hip", str, required=False, nonempty=False)
        V.check_hip_id(self.state, hip, "notification.hip.id")
        xhip = (req.header("X-HIP-ID") or "").strip()
        if xhip and xhip != hip:
            V.bad("notification.hip.id", f"{hip!r} differs from X-HIP-ID {xhip!r}", code="ABDM-1035")

        def build(error):
            out = {"requestId": None, "timestamp": now_iso()}
            if error:
                out["status"] = "ERRORED"
                out["error"] = error
            else:
                out["status"] = "SUCCESS"
            out["resp"] = {"requestId": rid}
            return out

        self._callback(req, "sms-on-notify", CB_SMS_ON_NOTIFY, hip, build)
        return Response(202)

    # -- the HIP's answers to HIE-CM requests --------------------------------------------------
    def _answer(self, req, d):
        """Tie an answer to the message it answers; a second answer to the same message is refused
        with `dup_code` by the caller."""
        with self.state.lock:
            first = not d["answers"]
            d["answers"].append(req.record["seq"])
        req.record["answers"] = d["requestId"]
        return first

    @gateway_call()
    def on_discover(self, req, rid):
        """NHA M2 doc §5.3.3."""
        body = V.obj(req.json(), "body")
        d = V.response_ref(body, self.state, ["discover"])
        txn = V.get(body, "transactionId", "")
        if txn != d["body"].get("transactionId"):
            V.bad("transactionId", f"{txn!r} is not the transaction of the discover request")
        if "error" in body and body["error"] is not None:
            V.error_object(body["error"], "error")
        else:
            groups, _ = V.care_context_groups(body.get("patient"), "patient")
            matched = V.get(body, "matchedBy", "", list)
            if not all(isinstance(m, str) and m for m in matched):
                V.bad("matchedBy", "must be a list of identifier types")
            self.state.transactions.setdefault(txn, {})["offered"] = groups
        if not self._answer(req, d):
            raise ApiError(400, "ABDM-1106", "Duplicate on-discover for this discover request")
        self.state.transactions.setdefault(txn, {})["onDiscover"] = body
        return Response(202)

    @gateway_call()
    def on_init(self, req, rid):
        """NHA M2 doc §5.3.7 (authenticationType MEDIATE in NHA's text, DIRECT in its Postman)."""
        body = V.obj(req.json(), "body")
        d = V.response_ref(body, self.state, ["link-init"])
        txn = V.get(body, "transactionId", "")
        if txn != d["body"].get("transactionId"):
            V.bad("transactionId", f"{txn!r} is not the transaction of the link init request")
        if "error" in body and body["error"] is not None:
            V.error_object(body["error"], "error")
        else:
            link = V.obj(V.get(body, "link", "", dict), "link")
            ref = V.get(link, "referenceNumber", "link")
            V.enum(link, "authenticationType", "link", {"MEDIATE", "DIRECT"})
            meta = V.obj(V.get(link, "meta", "link", dict), "link.meta")
            V.enum(meta, "communicationMedium", "link.meta", {"MOBILE", "EMAIL"})
            V.get(meta, "communicationHint", "link.meta")
            exp = V.timestamp(meta, "communicationExpiry", "link.meta")
            if parse_iso(exp) <= time.time():
                V.bad("link.meta.communicationExpiry", f"{exp!r} is in the past")
            self.state.transactions.setdefault(txn, {})["linkRefNumber"] = ref
        if not self._answer(req, d):
            raise ApiError(400, "ABDM-9999", "Duplicate on-init for this link init request")
        self.state.transactions.setdefault(txn, {})["onInit"] = body
        return Response(202)

    @gateway_call()
    def on_confirm(self, req, rid):
        """NHA M2 doc §5.3.11."""
        body = V.obj(req.json(), "body")
        d = V.response_ref(body, self.state, ["link-confirm"])
        if "error" in body and body["error"] is not None:
            V.error_object(body["error"], "error")
        else:
            groups, _ = V.care_context_groups(body.get("patient"), "patient")
            address = (d.get("meta") or {}).get("abhaAddress")
            with self.state.lock:
                for pref, ht, refs in groups:
                    for ref in refs:
                        self.state.links.setdefault((d["hipId"], address, pref, ref, ht),
                                                    {"linkedAt": time.time(), "requestId": rid, "via": "user-initiated"})
        if not self._answer(req, d):
            raise ApiError(400, "ABDM-9999", "Duplicate on-confirm for this link confirm request")
        return Response(202)

    @gateway_call()
    def consent_on_notify(self, req, rid):
        """NHA M2 doc §6.3.2."""
        body = V.obj(req.json(), "body")
        d = V.response_ref(body, self.state, ["consent-notify"])
        sent_id = d["body"]["notification"].get("consentId")
        if "error" in body and body["error"] is not None:
            V.error_object(body["error"], "error")
        else:
            ack = V.obj(V.get(body, "acknowledgement", "", dict), "acknowledgement")
            V.enum(ack, "status", "acknowledgement", {"OK", "UNKNOWN"})
            cid = V.get(ack, "consentId", "acknowledgement")
            if cid != sent_id:
                V.bad("acknowledgement.consentId", f"{cid!r} is not the notified consent {sent_id!r}")
        if not self._answer(req, d):
            raise ApiError(400, "ABDM-9999", "Duplicate on-notify for this consent notification")
        c = self.state.consents.get(sent_id)
        if c is not None:
            c["acknowledged"] = body.get("acknowledgement") or body.get("error")
        return Response(202)

    @gateway_call()
    def hi_on_request(self, req, rid):
        """NHA M2 doc §6.3.4."""
        body = V.obj(req.json(), "body")
        d = V.response_ref(body, self.state, ["hi-request"])
        txn_sent = d["body"].get("transactionId")
        if "error" in body and body["error"] is not None:
            V.error_object(body["error"], "error")
            status = "ERRORED"
        else:
            hr = V.obj(V.get(body, "hiRequest", "", dict), "hiRequest")
            txn = V.get(hr, "transactionId", "hiRequest")
            if txn != txn_sent:
                V.bad("hiRequest.transactionId", f"{txn!r} is not the transaction {txn_sent!r}")
            status = V.enum(hr, "sessionStatus", "hiRequest", {"ACKNOWLEDGED", "ERRORED"})
        if not self._answer(req, d):
            raise ApiError(400, "ABDM-9999", "Duplicate on-request for this health-information request")
        t = self.state.hiu.get(txn_sent)
        if t is not None:
            t["acknowledgement"] = {"sessionStatus": status, "error": body.get("error"), "at": time.time()}
        return Response(202)

    @gateway_call()
    def hi_notify(self, req, rid):
        """NHA M2 doc §6.3.6; v0.5 ndhm-hip.yml HealthInformationNotification."""
        n = V.obj(V.get(V.obj(req.json(), "body"), "notification", "", dict), "notification")
        cid = V.get(n, "consentId", "notification")
        txn = V.get(n, "transactionId", "notification")
        V.timestamp(n, "doneAt", "notification")
        notifier = V.obj(V.get(n, "notifier", "notification", dict), "notification.notifier")
        V.enum(notifier, "type", "notification.notifier", {"HIP"})
        nid = V.get(notifier, "id", "notification.notifier")
        sn = V.obj(V.get(n, "statusNotification", "notification", dict), "notification.statusNotification")
        V.enum(sn, "sessionStatus", "notification.statusNotification", {"TRANSFERRED", "FAILED"})
        hip = V.get(sn, "hipId", "notification.statusNotification")
        if hip != nid:
            V.bad("notification.statusNotification.hipId", f"{hip!r} differs from notifier.id {nid!r}")
        srs = V.get(sn, "statusResponses", "notification.statusNotification", list, nonempty=False)
        for i, s in enumerate(srs):
            f = f"notification.statusNotification.statusResponses[{i}]"
            V.obj(s, f)
            V.get(s, "careContextReference", f)
            V.enum(s, "hiStatus", f, {"DELIVERED", "ERRORED"})
            V.get(s, "description", f, str, required=False, nonempty=False)
        t = self.state.hiu.get(txn)
        if t is None:
            V.bad("notification.transactionId", f"{txn!r} is not a health-information transaction of this gateway")
        if t["consentId"] != cid:
            V.bad("notification.consentId", f"{cid!r} is not the consent of transaction {txn!r}")
        with self.state.lock:
            t.setdefault("notifications", []).append({"seq": req.record["seq"], "at": time.time(), "notification": n})
        return Response(202, {"status": "Notification is Accepted"})


    @gateway_call()
    def patient_status_on_notify(self, req, rid):
        """The HIP's answer to an ABHA status notice (NHA M2 v2.8 §8 lists this V3 path)."""
        body = V.obj(req.json(), "body")
        d = V.response_ref(body, self.state, ["patient-status-notify"])
        if "error" in body and body["error"] is not None:
            V.error_object(body["error"], "error")
        else:
            ack = V.obj(V.get(body, "acknowledgement", "", dict), "acknowledgement")
            V.enum(ack, "status", "acknowledgement", {"OK"})
        if not self._answer(req, d):
            raise ApiError(400, "ABDM-9999", "Duplicate on-deactivate for this status notice")
        return Response(202)


def _norm_name(s):
    return " ".join(str(s).lower().split())


def demographic_mismatch(entry, name, gender, yob, number):
    """The gateway compares the HIP's demographics with the ABHA record; year of birth may differ
    by 2 (NHA M2 doc §4.3.1 error table)."""
    if entry.get("name") and _norm_name(entry["name"]) != _norm_name(name):
        return "name"
    if entry.get("gender") and entry["gender"] != gender:
        return "gender"
    if entry.get("yearOfBirth") and abs(int(entry["yearOfBirth"]) - yob) > 2:
        return "yearOfBirth"
    if number and entry.get("abhaNumber") and entry["abhaNumber"] != number:
        return "abhaNumber"
    return None
