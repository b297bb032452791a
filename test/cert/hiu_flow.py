"""The HIU's side of a share, as the HIE-CM and the HIU drive it through the simulator: a consent
is granted (the HIP acknowledges it), a health-information request follows (the HIP answers
on-request), the HIP pushes encrypted pages to the HIU, which decrypts them with its own Python
Fidelius, and notifies the gateway."""
from certlib import HIP, wait_until


def grant(c, abha_address, contexts, hi_types, date_from="2000-01-01T00:00:00.000Z",
          date_to="2030-12-31T23:59:59.000Z", **extra):
    """contexts: [(patientReference, careContextReference)]. Returns (consentId, the HIP's on-notify body)."""
    g = c.consent_notify(hipId=HIP, abhaAddress=abha_address,
                         careContexts=[{"patientReference": p, "careContextReference": r} for p, r in contexts],
                         hiTypes=hi_types, dateRange={"from": date_from, "to": date_to}, **extra)
    if g["delivery"]["status"] != 202:
        raise AssertionError(f"consent notify refused by the HIP: {g['delivery']}")
    return g["consentId"], c.wait_for_answer(g["requestId"])["body"]


def notice(c, consent_id, status):
    """REVOKED / EXPIRED / DENIED of a known consent; returns the HIP's on-notify body."""
    g = c.consent_notify(hipId=HIP, consentId=consent_id, status=status)
    if g["delivery"]["status"] != 202:
        raise AssertionError(f"{status} notice refused by the HIP: {g['delivery']}")
    return c.wait_for_answer(g["requestId"])["body"]


def request(c, consent_id, **extra):
    """Returns (transactionId, the HIP's on-request body)."""
    r = c.hi_request(consentId=consent_id, **extra)
    if r["delivery"]["status"] != 202:
        raise AssertionError(f"HI request refused by the HIP: {r['delivery']}")
    return r["transactionId"], c.wait_for_answer(r["requestId"])["body"]


def notification(c, txn, timeout=30):
    """(sessionStatus, {careContextReference: hiStatus}) of the HIP's transfer notification."""
    n = wait_until(lambda: [x for x in c.requests(route="hi-notify")
                            if x["status"] == 202 and x["body"]["notification"]["transactionId"] == txn],
                   timeout=timeout, what="hi-notify")[0]
    st = n["body"]["notification"]["statusNotification"]
    return st["sessionStatus"], {s["careContextReference"]: s["hiStatus"] for s in st["statusResponses"]}


def pushes(c, txn):
    return len([r for r in c.requests(server="hiu") if r["method"] == "POST"
                and (r.get("body") or {}).get("transactionId") == txn])
