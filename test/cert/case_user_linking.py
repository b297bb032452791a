"""USER_INIT_LINK_602 … 607: the patient finds the hospital in the PHR app and links their records.

    602  discover by ABHA address
    603  discover by mobile + demographics, with a name spelt differently (fuzzy match)
    604  discover by MR number
    605  link init: an OTP, hashed at rest, to the patient's mobile; on-init with its hint and expiry
    606  link confirm refused: a wrong OTP, an expired one, and too many tries
    607  link confirm with the right OTP, after which the records can be pulled (consent, HI request,
         the HIU decrypts them)
"""
import json

import hiu_flow
from certlib import add_care_context, add_patient, add_record, case, check, equal, fhir_errors, q, q1, wait_until
from user_flow import discover, link_confirm, link_init, offered


@case("USER_INIT_LINK_602")
def discover_by_abha_address(env):
    db, c = env.db, env.c
    add_patient(db, "U602", "Lakshmi Menon", birth_date="1983-03-03", mobile="9800060202", abha_address="lakshmi602@sbx")
    add_care_context(db, "U602", "U602-OPD", ["OPConsultation", "Prescription"], link_pending=False)
    txn, ans = discover(c, abhaAddress="lakshmi602@sbx", name="Lakshmi Menon", gender="F", yearOfBirth=1983)
    check(not ans.get("error"), f"on-discover error {ans.get('error')}")
    equal(ans["transactionId"], txn, "transactionId")
    check("ABHA_ADDRESS" in ans.get("matchedBy", []), f"matchedBy {ans.get('matchedBy')} lacks ABHA_ADDRESS")
    equal({g["referenceNumber"] for g in ans["patient"]}, {"U602"}, "patient offered")
    equal(offered(ans), {"U602-OPD": ["OPConsultation", "Prescription"]}, "care contexts offered")
    # Someone else's address finds nobody.
    _, other = discover(c, abhaAddress="nobody602@sbx", name="Lakshmi Menon", gender="F", yearOfBirth=1983)
    equal((other.get("error") or {}).get("code"), "ABDM-1010", "an unknown address's answer")


@case("USER_INIT_LINK_603")
def discover_by_mobile_and_fuzzy_name(env):
    db, c = env.db, env.c
    add_patient(db, "U603", "Priyanka Venkatesh", birth_date="1992-07-21", mobile="9800060303")
    add_care_context(db, "U603", "U603-LAB", ["DiagnosticReport"], link_pending=False)
    txn, ans = discover(c, abhaAddress="priya603@sbx", mobile="9800060303", name="Priyanka Venkatesan",
                        gender="F", yearOfBirth=1992)
    check(not ans.get("error"), f"on-discover error {ans.get('error')}")
    check("MOBILE" in ans.get("matchedBy", []), f"matchedBy {ans.get('matchedBy')} lacks MOBILE")
    equal(offered(ans), {"U603-LAB": ["DiagnosticReport"]}, "care contexts offered")
    # The same mobile with another person's name or gender is not this patient.
    _, other = discover(c, abhaAddress="rahul603@sbx", mobile="9800060303", name="Rahul Verma", gender="M", yearOfBirth=1992)
    equal((other.get("error") or {}).get("code"), "ABDM-1010", "a family member's answer (same mobile, other name)")


@case("USER_INIT_LINK_604")
def discover_by_mr_number(env):
    db, c = env.db, env.c
    add_patient(db, "MR-604-0001", "Gopal Krishnan", gender="M", birth_date="1969-12-01")
    add_care_context(db, "MR-604-0001", "U604-IPD", ["DischargeSummary"], link_pending=False)
    txn, ans = discover(c, abhaAddress="gopal604@sbx", mr="MR-604-0001", name="Gopal Krishnan", gender="M", yearOfBirth=1969)
    check(not ans.get("error"), f"on-discover error {ans.get('error')}")
    check("MR" in ans.get("matchedBy", []), f"matchedBy {ans.get('matchedBy')} lacks MR")
    equal(offered(ans), {"U604-IPD": ["DischargeSummary"]}, "care contexts offered")
    _, other = discover(c, abhaAddress="gopal604b@sbx", mr="MR-604-9999", name="Gopal Krishnan", gender="M", yearOfBirth=1969)
    equal((other.get("error") or {}).get("code"), "ABDM-1010", "an unknown MR number's answer")


def patient_for_otp(db, ref, name, mobile, cc):
    add_patient(db, ref, name, gender="M", birth_date="1977-05-05", mobile=mobile)
    add_care_context(db, ref, cc, ["Prescription"], link_pending=False)


@case("USER_INIT_LINK_605")
def link_init_sends_an_otp(env):
    db, c = env.db, env.c
    patient_for_otp(db, "U605", "Imran Shaikh", "9800060505", "U605-OPD")
    txn, ans = discover(c, abhaAddress="imran605@sbx", mobile="9800060505", name="Imran Shaikh", gender="M", yearOfBirth=1977)
    check(not ans.get("error"), f"on-discover error {ans.get('error')}")
    init, sms = link_init(c, txn)
    check(not init.get("error"), f"on-init error {init.get('error')}")
    link = init["link"]
    equal(link["meta"]["communicationMedium"], "MOBILE", "communicationMedium")
    hint = link["meta"]["communicationHint"]
    check(hint.startswith("98") and hint.endswith("05") and "0060" not in hint, f"hint {hint!r} is not the masked mobile")
    check(sms and sms["mobile"] == "9800060505" and len(str(sms["otp"])) == 6, f"OTP SMS {sms}")
    row = q1(db, "SELECT otp_hash, otp_expires_at > now() AS live, status FROM abdm_hip.link_request WHERE link_ref = %s",
             link["referenceNumber"])
    check(row and row["status"] == "pending" and row["live"], f"link request {row}")
    check(str(sms["otp"]) not in row["otp_hash"], "the OTP is stored in clear")
    kept = wait_until(lambda: q1(db, "SELECT body FROM abdm_hip.outbox WHERE kind = 'otp_sms' AND status = 'sent' "
                                     "AND body ->> 'linkRefNumber' = %s", link["referenceNumber"]), what="the OTP SMS sent")
    check("otp" not in kept["body"], "the OTP stays in the outbox after the SMS went")


@case("USER_INIT_LINK_606")
def link_confirm_refuses_wrong_expired_and_too_many(env):
    db, c = env.db, env.c
    patient_for_otp(db, "U606", "Deepak Joshi", "9800060606", "U606-OPD")
    who = dict(mobile="9800060606", name="Deepak Joshi", gender="M", yearOfBirth=1977)

    def fresh_link(addr):
        txn, ans = discover(c, abhaAddress=addr, **who)
        check(not ans.get("error"), f"on-discover error {ans.get('error')}")
        init, sms = link_init(c, txn)
        check(not init.get("error"), f"on-init error {init.get('error')}")
        return txn, init["link"]["referenceNumber"], str(sms["otp"])

    def wrong(otp):
        return f"{(int(otp) + 1) % 1000000:06d}"

    # Wrong OTP: refused, one try used, still pending.
    txn, ref, otp = fresh_link("deepak606@sbx")
    ans = link_confirm(c, txn, wrong(otp))
    check(ans.get("error") and "Incorrect OTP" in ans["error"]["message"], f"wrong OTP answer {ans}")
    row = q1(db, "SELECT status, attempts FROM abdm_hip.link_request WHERE link_ref = %s", ref)
    equal((row["status"], row["attempts"]), ("pending", 1), "link request after a wrong OTP")

    # Expired: the OTP's lifetime (abdm_hip.otp_expiry, at least a minute) is over. Only the
    # clock is shortened here: the expiry is moved into the past; the right OTP is then refused.
    q(db, "UPDATE abdm_hip.link_request SET otp_expires_at = now() - interval '1 second' WHERE link_ref = %s", ref)
    ans = link_confirm(c, txn, otp)
    check(ans.get("error") and "expired" in ans["error"]["message"].lower(), f"expired OTP answer {ans}")
    equal(q1(db, "SELECT status FROM abdm_hip.link_request WHERE link_ref = %s", ref)["status"], "expired",
          "link request after an expired OTP")

    # Too many tries: abdm_hip.otp_max_attempts wrong OTPs lock it; the right one is then refused.
    limit = int(q1(db, "SHOW abdm_hip.otp_max_attempts")["abdm_hip.otp_max_attempts"])
    txn, ref, otp = fresh_link("deepak606b@sbx")
    for _ in range(limit):
        link_confirm(c, txn, wrong(otp))
    equal(q1(db, "SELECT status FROM abdm_hip.link_request WHERE link_ref = %s", ref)["status"], "locked",
          f"link request after {limit} wrong OTPs")
    ans = link_confirm(c, txn, otp)
    check(ans.get("error") and "attempts" in ans["error"]["message"].lower(), f"answer to the right OTP once locked {ans}")
    equal(q1(db, "SELECT count(*) AS n FROM abdm_hip.care_context_link WHERE care_context_ref = 'U606-OPD'")["n"], 0,
          "links made by refused confirmations")


@case("USER_INIT_LINK_607")
def link_confirm_then_records_pulled(env):
    db, c = env.db, env.c
    patient_for_otp(db, "U607", "Harish Patil", "9800060707", "U607-OPD")
    add_record(db, "U607-OPD", "Prescription", "U607", "2024-03-14T10:40:00+05:30")
    txn, ans = discover(c, abhaAddress="harish607@sbx", mobile="9800060707", name="Harish Patil", gender="M", yearOfBirth=1977)
    check(not ans.get("error"), f"on-discover error {ans.get('error')}")
    init, sms = link_init(c, txn)
    check(not init.get("error"), f"on-init error {init.get('error')}")
    ans = link_confirm(c, txn, str(sms["otp"]))
    check(not ans.get("error"), f"on-confirm error {ans.get('error')}")
    equal({cc["referenceNumber"] for g in ans["patient"] for cc in g["careContexts"]}, {"U607-OPD"}, "care contexts confirmed")
    link = q1(db, "SELECT status, method FROM abdm_hip.care_context_link WHERE care_context_ref = 'U607-OPD' AND abha_address = 'harish607@sbx'")
    equal((link or {}).get("status"), "linked", "care_context_link status")
    equal(link["method"], "user_initiated", "care_context_link method")
    # Discovery no longer offers what is linked.
    _, again = discover(c, abhaAddress="harish607@sbx", mobile="9800060707", name="Harish Patil", gender="M", yearOfBirth=1977)
    check("U607-OPD" not in offered(again), "a linked care context is offered again")

    # The records can now be pulled by a HIU the patient consents to.
    cid, ack = hiu_flow.grant(c, "harish607@sbx", [("U607", "U607-OPD")], ["Prescription"])
    equal((ack.get("acknowledgement") or {}).get("status"), "OK", "consent acknowledgement")
    txn, on_req = hiu_flow.request(c, cid)
    equal(on_req["hiRequest"]["sessionStatus"], "ACKNOWLEDGED", "on-request")
    t = c.wait_for_transfer(txn)
    check(t["allOk"] and len(t["entries"]) == 1, f"HIU transfer {t['summary']} {t.get('pageProblems')}")
    stored = q1(db, "SELECT bundle::text AS b FROM abdm_hip.health_record WHERE care_context_ref = 'U607-OPD'")["b"]
    equal(json.loads(t["entries"][0]["plaintext"]), json.loads(stored), "the bundle the HIU decrypted")
    check(not fhir_errors(db, t["entries"][0]["plaintext"]), "the decrypted bundle is not valid FHIR")
