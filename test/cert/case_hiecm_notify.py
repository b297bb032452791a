"""HIP_INIT_NOTIFY_HIECM: a patient with no ABHA address but a known mobile gets the SMS deep link
(sms/notify2); in the PHR app they discover the new care context and link it (discover, link
init, confirm with the OTP); afterwards the HMIS shows their ABHA address and number."""
import re

from certlib import HIP, accepted, add_care_context, add_patient, case, check, equal, q1, wait_until
from user_flow import discover, link_confirm, link_init, offered

ADDRESS, NUMBER = "kavita.sharma@sbx", "91-4001-4001-4001"


@case("HIP_INIT_NOTIFY_HIECM")
def sms_then_user_links(env):
    db, c = env.db, env.c
    add_patient(db, "N001", "Kavita Sharma", birth_date="1988-02-14", mobile="9800040001")
    add_care_context(db, "N001", "N001-OPD", ["OPConsultation"], visit_at="2024-05-02 12:15+05:30")
    sms = wait_until(lambda: accepted(c, "sms-notify2", lambda b: b["notification"]["phoneNo"] == "9800040001"),
                     what="sms/notify2")
    equal(sms[0]["body"]["notification"]["hip"]["id"], HIP, "the facility in the SMS")
    equal(accepted(c, "generate-token", lambda b: b.get("name") == "Kavita Sharma"), [], "token requests without an address")

    # The patient follows the link in the PHR app with their (new) ABHA address.
    txn, ans = discover(c, abhaAddress=ADDRESS, abhaNumber=NUMBER, mobile="9800040001", name="Kavita Sharma",
                        gender="F", yearOfBirth=1988)
    check(not ans.get("error"), f"on-discover error {ans.get('error')}")
    equal(offered(ans), {"N001-OPD": ["OPConsultation"]}, "care contexts offered")
    init, sms = link_init(c, txn)
    check(not init.get("error") and sms, f"on-init {init}")
    ans = link_confirm(c, txn, str(sms["otp"]))
    check(not ans.get("error"), f"on-confirm error {ans.get('error')}")
    equal([r["careContextReference"] for r in c.phr(ADDRESS)["careContexts"]], ["N001-OPD"], "the PHR app's care contexts")

    # The HMIS now knows the patient's ABHA address and number.
    link = q1(db, "SELECT abha_address, status FROM abdm_hip.care_context_link WHERE care_context_ref = 'N001-OPD'")
    equal((link or {}).get("abha_address"), ADDRESS, "care_context_link.abha_address")
    p = q1(db, "SELECT abha_address, abha_number FROM abdm_hip.patient WHERE hip_id = %s AND patient_ref = 'N001'", HIP)
    equal(p["abha_address"], ADDRESS, "patient.abha_address")
    equal(re.sub(r"\D", "", p["abha_number"] or ""), re.sub(r"\D", "", NUMBER), "patient.abha_number")
