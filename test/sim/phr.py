"""The PHR app's view of one ABHA address: what a patient sees in the ABHA app once HIPs have
linked care contexts to it (ABDM certification case HIP_INTI_LINK_506 checks it shows the HI
types, the visit's date and time, the demographics, the ABHA number and address).

Built only from what reached the simulated gateway, as the real PHR app is built only from what
reached the real one: the HIP's generate-token (demographics, ABHA number), link/carecontext
(patient and care-context displays, HI types), context/notify (HI types added later), and for
user-initiated links the HIE-CM's own discover (the patient's verified identifiers) and the HIP's
on-confirm. A care context's display is the only place a V3 message carries the visit's date and
time, so the view shows it as the HIP sent it. Calls that failed, were faulted or were a
duplicate REQUEST-ID never count.
"""

import re

from sim_state import now_iso


def _accepted(state, route):
    return [r for r in list(state.requests)
            if r.get("route") == route and r.get("status") == 202 and not r.get("duplicate")
            and isinstance(r.get("body"), dict)]


def _digits(v):
    return re.sub(r"\D", "", str(v)) if v is not None else None


def _add(view, hip, pref, pdisplay, groups, at, via):
    """groups: the V3 `patient[]` entries of one patient (one per HI type)."""
    for g in groups:
        for cc in g.get("careContexts") or []:
            key = (hip, pref, cc.get("referenceNumber"))
            row = view.setdefault(key, {"hipId": hip, "patientReference": pref, "patientDisplay": pdisplay,
                                        "careContextReference": key[2], "display": cc.get("display"),
                                        "hiTypes": set(), "linkedAt": now_iso(at), "via": via})
            row["hiTypes"].add(g.get("hiType"))
            row["display"] = cc.get("display") or row["display"]


def phr_view(state, abha_address):
    address = abha_address.lower()
    demographics, number, contexts = None, None, {}
    for r in _accepted(state, "generate-token"):
        b = r["body"]
        if str(b.get("abhaAddress", "")).lower() == address:
            demographics = {"name": b.get("name"), "gender": b.get("gender"), "yearOfBirth": b.get("yearOfBirth"),
                            "source": "generate-token"}
            number = _digits(b.get("abhaNumber")) or number
    for r in _accepted(state, "link-carecontext"):
        b = r["body"]
        if str(b.get("abhaAddress", "")).lower() != address:
            continue
        number = _digits(b.get("abhaNumber")) or number
        hip = (r.get("headers") or {}).get("X-HIP-ID") or next(
            (v for k, v in (r.get("headers") or {}).items() if k.lower() == "x-hip-id"), None)
        patients = b.get("patient") if isinstance(b.get("patient"), list) else []
        for p in patients:
            _add(contexts, hip, p.get("referenceNumber"), p.get("display"), [p], r["time"], "hip-initiated")
    # User-initiated: the discover the HIE-CM sent carries the patient as ABDM knows them.
    for d in list(state.deliveries):
        if d.get("kind") != "discover" or not isinstance(d.get("body"), dict):
            continue
        p = d["body"].get("patient") or {}
        if str(p.get("id", "")).lower() != address:
            continue
        if demographics is None:
            demographics = {"name": p.get("name"), "gender": p.get("gender"), "yearOfBirth": p.get("yearOfBirth"),
                            "source": "discover"}
        for ident in p.get("verifiedIdentifiers") or []:
            if ident.get("type") == "ABHA_NUMBER":
                number = _digits(ident.get("value")) or number
    for r in _accepted(state, "on-confirm"):
        d = state.delivery_by_id.get(r.get("answers"))
        if d is None or str((d.get("meta") or {}).get("abhaAddress", "")).lower() != address:
            continue
        b = r["body"]
        if b.get("error") or not isinstance(b.get("patient"), list):
            continue
        for p in b["patient"]:
            _add(contexts, d.get("hipId"), p.get("referenceNumber"), p.get("display"), [p], r["time"], "user-initiated")
    # HI types a HIP added to a linked care context later.
    for r in _accepted(state, "context-notify"):
        n = r["body"].get("notification") or {}
        if str((n.get("patient") or {}).get("id", "")).lower() != address:
            continue
        cc = n.get("careContext") or {}
        row = contexts.get(((n.get("hip") or {}).get("id"), cc.get("patientReference"), cc.get("careContextReference")))
        if row is not None:
            row["hiTypes"].update(t for t in n.get("hiTypes") or [] if isinstance(t, str))
    registry = state.abha.get(abha_address) or {}
    if number is None and registry.get("abhaNumber"):
        number = _digits(registry["abhaNumber"])
    if demographics is None and registry:
        demographics = {"name": registry.get("name"), "gender": registry.get("gender"),
                        "yearOfBirth": registry.get("yearOfBirth"), "source": "abha-registry"}
    rows = sorted(contexts.values(), key=lambda x: (x["hipId"] or "", x["patientReference"] or "",
                                                   x["careContextReference"] or ""))
    for row in rows:
        row["hiTypes"] = sorted(t for t in row["hiTypes"] if t)
    return {"abhaAddress": abha_address, "abhaNumber": number, "demographics": demographics, "careContexts": rows}
