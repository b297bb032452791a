"""The patient's side of user-initiated linking, as the PHR app and the HIE-CM drive it through
the simulator: discover → the HIP's on-discover; link init → the OTP at the HIP's SMS hook and
the HIP's on-init; link confirm → the HIP's on-confirm. Each returns the HIP's answer body as the
gateway received it, over HTTP from the sender."""
from certlib import wait_until


def discover(c, **patient):
    """patient: abhaAddress, name, gender, yearOfBirth, and mobile / abhaNumber / mr as wanted.
    Returns (transactionId, on-discover body)."""
    d = c.discover(**patient)
    if d["delivery"]["status"] != 202:
        raise AssertionError(f"discover refused by the HIP: {d['delivery']}")
    return d["transactionId"], c.wait_for_answer(d["requestId"])["body"]


def link_init(c, txn, **extra):
    """Returns (on-init body, the OTP the HIP's SMS hook received or None)."""
    seen = {r["seq"] for r in c.requests(route="hook")}
    d = c.link_init(transactionId=txn, **extra)
    if d["delivery"]["status"] != 202:
        raise AssertionError(f"link init refused by the HIP: {d['delivery']}")
    answer = c.wait_for_answer(d["requestId"])["body"]
    if answer.get("error"):
        return answer, None
    ref = answer["link"]["referenceNumber"]
    sms = wait_until(lambda: [r for r in c.requests(route="hook") if r["seq"] not in seen
                              and isinstance(r.get("body"), dict) and r["body"].get("linkRefNumber") == ref],
                     what="the OTP at the SMS hook")
    return answer, sms[0]["body"]


def link_confirm(c, txn, otp):
    d = c.link_confirm(transactionId=txn, token=otp)
    if d["delivery"]["status"] != 202:
        raise AssertionError(f"link confirm refused by the HIP: {d['delivery']}")
    return c.wait_for_answer(d["requestId"])["body"]


def offered(on_discover):
    """{care context reference: [HI types]} of an on-discover answer."""
    out = {}
    for g in on_discover.get("patient") or []:
        for cc in g["careContexts"]:
            out.setdefault(cc["referenceNumber"], []).append(g["hiType"])
    return out
