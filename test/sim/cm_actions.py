"""The simulator acting as the HIE-CM: builds the messages the consent manager sends a HIP and
delivers them (control API POST /_sim/cm/<kind>).

Shapes: NHA "Sandbox Documentation (ABDM_Milestone 2)" v2.8 §5.3.2 (discover), §5.3.6 (link init),
§5.3.10 (link confirm), §6.3.1 (consent notify; the artefact fields as in the v0.5 ndhm-hip.yml
HIPConsentNotification plus hiu and requester), §6.3.3 (health-information request, with the HIU's
Fidelius key material). Every builder takes overrides so a test can send a malformed variant.
"""

import base64
import copy
import hashlib
import json
import time
import uuid

import fidelius_fast
import fidelius_py
from sim_http import ApiError
from sim_state import now_iso, parse_iso
from sim_validate import HI_TYPES

PATH_DISCOVER = "/api/v3/hip/patient/care-context/discover"
PATH_LINK_INIT = "/api/v3/hip/link/care-context/init"
PATH_LINK_CONFIRM = "/api/v3/hip/link/care-context/confirm"
PATH_CONSENT_NOTIFY = "/api/v3/consent/request/hip/notify"
PATH_HI_REQUEST = "/api/v3/hip/health-information/request"
# ABHA deactivation / deletion (v0.5 /patients/status/notify; no V3 inbound path is published, so
# the V3 analogue the extension serves).
PATH_PATIENT_STATUS = "/api/v3/patients/status/notify"


def deep_merge(base, patch):
    """Overrides: a dict merges into a dict, None deletes the key, anything else replaces."""
    out = copy.deepcopy(base)
    for k, v in (patch or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _need(p, key):
    if p.get(key) in (None, ""):
        raise ApiError(400, "SIM-CM", f"parameter {key!r} is required")
    return p[key]


class HieCm:
    def __init__(self, state):
        self.state = state

    def _hip(self, p):
        return p.get("hipId") or self.state.c("default_hip_id")

    def _send(self, kind, path, hip, body, p, meta=None):
        body = deep_merge(body, p.get("overrides"))
        rec = self.state.deliverer.new_message(kind, path, hip, body, extra_headers=p.get("headers"))
        rec["meta"] = meta or {}
        if p.get("async"):
            self.state.deliverer.schedule(rec, p.get("delay_ms", 0))
        else:
            self.state.deliverer.deliver(rec, body_text=p.get("body_text"))
        return {"requestId": rec["requestId"], "path": path, "hipId": hip, "headers": rec["headers"],
                "body": body, **(meta or {}),
                "delivery": {k: rec.get(k) for k in ("state", "mode", "status", "response", "error", "elapsedMs")}}

    # -- discovery and linking -----------------------------------------------------------------
    def discover(self, p):
        hip = self._hip(p)
        txn = p.get("transactionId") or str(uuid.uuid4())
        patient = p.get("patient")
        if patient is None:
            verified, unverified = [], []
            if p.get("mobile"):
                verified.append({"type": "MOBILE", "value": p["mobile"]})
            if p.get("abhaNumber"):
                verified.append({"type": "ABHA_NUMBER", "value": str(p["abhaNumber"])})
            if p.get("mr"):
                unverified.append({"type": "MR", "value": p["mr"]})
            patient = {"id": _need(p, "abhaAddress"), "verifiedIdentifiers": verified,
                       "unverifiedIdentifiers": unverified, "name": _need(p, "name"),
                       "gender": _need(p, "gender"), "yearOfBirth": _need(p, "yearOfBirth")}
        self.state.transactions[txn] = {"hipId": hip, "abhaAddress": patient.get("id"), "createdAt": time.time()}
        return self._send("discover", PATH_DISCOVER, hip, {"transactionId": txn, "patient": patient}, p,
                          {"transactionId": txn, "abhaAddress": patient.get("id")})

    def link_init(self, p):
        txn = _need(p, "transactionId")
        t = self.state.transactions.get(txn, {})
        hip = p.get("hipId") or t.get("hipId") or self.state.c("default_hip_id")
        address = p.get("abhaAddress") or t.get("abhaAddress")
        patient = p.get("patient")
        if patient is None:
            # Default: link everything the HIP offered in its on-discover (optionally a subset).
            offered = t.get("offered")
            if not offered:
                raise ApiError(400, "SIM-CM", f"no on-discover with care contexts for {txn}; pass 'patient'")
            only = set(p.get("careContexts") or [])
            patient = []
            for pref, ht, refs in offered:
                refs = [r for r in refs if not only or r in only]
                if refs:
                    patient.append({"referenceNumber": pref, "careContexts": [{"referenceNumber": r} for r in refs],
                                    "hiType": ht, "count": len(refs)})
        body = {"transactionId": txn, "abhaAddress": address, "patient": patient}
        return self._send("link-init", PATH_LINK_INIT, hip, body, p,
                          {"transactionId": txn, "abhaAddress": address})

    def link_confirm(self, p):
        txn = p.get("transactionId")
        t = self.state.transactions.get(txn, {}) if txn else {}
        ref = p.get("linkRefNumber") or t.get("linkRefNumber")
        if not ref:
            raise ApiError(400, "SIM-CM", "linkRefNumber is required (or a transactionId whose on-init gave one)")
        hip = p.get("hipId") or t.get("hipId") or self.state.c("default_hip_id")
        body = {"confirmation": {"linkRefNumber": ref, "token": str(_need(p, "token"))}}
        return self._send("link-confirm", PATH_LINK_CONFIRM, hip, body, p,
                          {"transactionId": txn, "linkRefNumber": ref,
                           "abhaAddress": p.get("abhaAddress") or t.get("abhaAddress")})

    # -- consent -------------------------------------------------------------------------------
    def consent_notify(self, p):
        st = self.state
        status = p.get("status", "GRANTED")
        if status not in ("GRANTED", "REVOKED", "EXPIRED", "DENIED"):
            raise ApiError(400, "SIM-CM", "status is GRANTED | REVOKED | EXPIRED | DENIED")
        cid = p.get("consentId") or (str(uuid.uuid4()) if status == "GRANTED" else None)
        if not cid:
            raise ApiError(400, "SIM-CM", f"consentId is required for {status}")
        prev = st.consents.get(cid)
        hip = p.get("hipId") or (prev or {}).get("hipId") or st.c("default_hip_id")
        if prev and status != "GRANTED" and not p.get("careContexts"):
            detail = copy.deepcopy(prev["detail"])
        else:
            now = time.time()
            detail = {
                "schemaVersion": "v3",
                "consentId": cid,
                "createdAt": now_iso(now),
                "patient": {"id": _need(p, "abhaAddress")},
                "careContexts": [{"patientReference": c["patientReference"],
                                  "careContextReference": c["careContextReference"]}
                                 for c in _need(p, "careContexts")],
                "purpose": {"text": "Care Management", "code": "CAREMGT",
                            "refUri": "http://terminology.hl7.org/ValueSet/v3-PurposeOfUse"},
                "hip": {"id": hip, "name": p.get("hipName", hip)},
                "hiu": {"id": st.c("hiu_id"), "name": st.c("hiu_name")},
                "requester": {"name": "Dr. Sim Requester",
                              "identifier": {"type": "REGNO", "value": "MH1001",
                                             "system": "https://www.mciindia.org"}},
                "consentManager": {"id": st.c("cm_id")},
                "hiTypes": p.get("hiTypes") or list(HI_TYPES),
                "permission": {
                    "accessMode": "VIEW",
                    "dateRange": p.get("dateRange") or {"from": "2000-01-01T00:00:00.000Z",
                                                        "to": now_iso(now + 86400)},
                    "dataEraseAt": p.get("dataEraseAt") or now_iso(now + 30 * 86400),
                    "frequency": {"unit": "HOUR", "value": 1, "repeats": 0},
                },
            }
        detail = deep_merge(detail, p.get("detailOverrides"))
        notification = {"status": status, "consentId": cid, "consentDetail": detail,
                        "signature": self._sign(detail), "grantAcknowledgement": False}
        if p.get("includeDetail") is False:
            del notification["consentDetail"]
            del notification["signature"]
        st.consents[cid] = {"consentId": cid, "status": status, "hipId": hip, "detail": detail,
                            "updatedAt": time.time(), "acknowledged": None}
        return self._send("consent-notify", PATH_CONSENT_NOTIFY, hip, {"notification": notification}, p,
                          {"consentId": cid, "status": status})

    def _sign(self, detail):
        # The real signature algorithm is not published; an RS256 JWS-like value over the artefact
        # keeps the field realistic without pretending to be verifiable by the HIP.
        digest = hashlib.sha256(json.dumps(detail, sort_keys=True).encode()).hexdigest()
        return base64.b64encode(self.state.signer.sign({"consentDigest": digest}).encode()).decode()

    # -- health information --------------------------------------------------------------------
    def hi_request(self, p):
        st = self.state
        cid = _need(p, "consentId")
        consent = st.consents.get(cid, {})
        hip = p.get("hipId") or consent.get("hipId") or st.c("default_hip_id")
        txn = p.get("transactionId") or str(uuid.uuid4())
        # The HIU's key pair for this transaction (fidelius_fast computes the same point faster).
        keys = fidelius_fast.key_material() if st.c("hiu_crypto") == "x25519" else fidelius_py.KeyMaterial()
        date_range = p.get("dateRange") or (consent.get("detail") or {}).get("permission", {}).get("dateRange") \
            or {"from": "2000-01-01T00:00:00.000Z", "to": now_iso()}
        expiry = p.get("keyExpiry") or now_iso(time.time() + p.get("keyExpiresIn", st.c("hiu_key_expiry_s")))
        key_material = {
            "cryptoAlg": "ECDH",
            "curve": "Curve25519",
            "dhPublicKey": {"expiry": expiry, "parameters": "Curve25519/32byte random key",
                            "keyValue": keys.x509_public_key if p.get("keyEncoding") == "x509" else keys.public_key},
            "nonce": keys.nonce_b64,
        }
        key_material = deep_merge(key_material, p.get("keyMaterialOverrides"))
        push_url = p.get("dataPushUrl") or st.urls["hiu_push"]
        body = {"transactionId": txn,
                "hiRequest": {"consent": {"id": cid}, "dateRange": date_range,
                              "dataPushUrl": push_url, "keyMaterial": key_material}}
        with st.lock:
            st.hiu[txn] = {"transactionId": txn, "consentId": cid, "hipId": hip, "requestedAt": time.time(),
                           "keys": keys, "keyExpiry": parse_iso(expiry), "dateRange": date_range,
                           "pushes": [], "entries": [], "acknowledgement": None, "notifications": []}
        return self._send("hi-request", PATH_HI_REQUEST, hip, body, p, {"transactionId": txn, "consentId": cid})

    # -- ABHA status ---------------------------------------------------------------------------
    def patient_status_notify(self, p):
        """The patient deactivated (opted out of) or deleted their ABHA address, or reactivated it:
        the HIP must drop what ABDM says and answer on-deactivate."""
        status = p.get("status", "DEACTIVATED")
        if status not in ("DEACTIVATED", "REACTIVATED", "DELETED"):
            raise ApiError(400, "SIM-CM", "status is DEACTIVATED | REACTIVATED | DELETED")
        address = _need(p, "abhaAddress")
        entry = self.state.abha.get(address)
        if entry is not None:
            entry["status"] = "ACTIVE" if status == "REACTIVATED" else status
        body = {"timestamp": now_iso(), "notification": {"status": status, "patient": {"id": address}}}
        return self._send("patient-status-notify", PATH_PATIENT_STATUS, self._hip(p), body, p,
                          {"abhaAddress": address, "status": status})

    # -- anything ------------------------------------------------------------------------------
    def send(self, p):
        """A raw message: any path, body and headers (None removes a default header)."""
        path = _need(p, "path")
        body = p.get("body") if "body" in p else {}
        return self._send(p.get("kind", "raw"), path, self._hip(p), body, p)
