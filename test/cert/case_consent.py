"""HIP_INIT_GRANT_CONSENT, HIP_INIT_REVOKE_CONSENT, HIP_INIT_EXPIRE_CONSENT and
HIP_INIT_ABHA_OPTOUT_DEACTIVATE: the consent artefacts the HIE-CM notifies, kept while granted
and deleted when ABDM says so (revocation, expiry, the patient deactivating their ABHA address)."""
import time

import hiu_flow
from certlib import (HIP, add_care_context, add_patient, add_record, case, check, equal, q, q1, wait_linked,
                     wait_until)
from sim_state import now_iso


def linked_patient(db, ref, name, addr):
    add_patient(db, ref, name, birth_date="1980-10-10", mobile="9800070000", abha_address=addr)
    add_care_context(db, ref, f"{ref}-OPD", ["Prescription"], visit_at="2024-03-10 10:00+05:30")
    add_record(db, f"{ref}-OPD", "Prescription", ref, "2024-03-10T10:30:00+05:30")
    wait_linked(db, ref, [f"{ref}-OPD"])


def consent_row(db, cid):
    return q1(db, "SELECT status, artefact IS NOT NULL AS has_artefact, hi_types, abha_address, "
                  "(SELECT count(*) FROM abdm_hip.consent_care_context cc WHERE cc.consent_id = c.consent_id) AS contexts "
                  "FROM abdm_hip.consent c WHERE consent_id = %s", cid)


def assert_ended(db, c, cid, status, what):
    row = consent_row(db, cid)
    equal((row["status"], row["has_artefact"], row["contexts"], row["abha_address"]), (status, False, 0, None),
          f"{what}: consent row (status, artefact kept, care contexts kept, patient kept)")
    txn, ans = hiu_flow.request(c, cid)
    check((ans.get("error") or {}).get("code"), f"{what}: a request under the ended consent was not refused: {ans}")
    equal(hiu_flow.notification(c, txn)[0], "FAILED", f"{what}: transfer notification")
    equal(hiu_flow.pushes(c, txn), 0, f"{what}: pages pushed")


@case("HIP_INIT_GRANT_CONSENT")
def grant(env):
    db, c = env.db, env.c
    linked_patient(db, "C701", "Rekha Pillai", "rekha701@sbx")
    cid, ack = hiu_flow.grant(c, "rekha701@sbx", [("C701", "C701-OPD")], ["Prescription", "DiagnosticReport"],
                              date_from="2024-01-01T00:00:00.000Z", date_to="2024-12-31T23:59:59.000Z")
    equal(ack.get("acknowledgement"), {"status": "OK", "consentId": cid}, "the HIP's acknowledgement")
    equal((c.consents() and next(x for x in c.consents() if x["consentId"] == cid)["acknowledged"] or {}).get("status"),
          "OK", "the gateway's record of the acknowledgement")
    row = q1(db, "SELECT status, abha_address, hi_types, date_from, date_to, data_erase_at > now() AS erase_later, "
                 "artefact ->> 'consentId' AS artefact_id FROM abdm_hip.consent WHERE consent_id = %s", cid)
    equal((row["status"], row["abha_address"], sorted(row["hi_types"]), row["artefact_id"]),
          ("GRANTED", "rekha701@sbx", ["DiagnosticReport", "Prescription"], cid), "stored consent")
    equal((row["date_from"].year, row["date_to"].year, row["erase_later"]), (2024, 2024, True), "stored permission")
    equal([r["care_context_ref"] for r in q(db, "SELECT care_context_ref FROM abdm_hip.consent_care_context WHERE consent_id = %s", cid)],
          ["C701-OPD"], "care contexts of the consent")
    # A consent meant for another HIP is acknowledged with an error and not kept.
    other, ack = hiu_flow.grant(c, "rekha701@sbx", [("C701", "C701-OPD")], ["Prescription"],
                                detailOverrides={"hip": {"id": "IN9999999999"}})
    equal((ack.get("error") or {}).get("code"), "ABDM-1035", "answer to a consent for another HIP")
    equal(consent_row(db, other), None, "a consent for another HIP stored")


@case("HIP_INIT_REVOKE_CONSENT")
def revoke(env):
    db, c = env.db, env.c
    linked_patient(db, "C702", "Suresh Nair", "suresh702@sbx")
    cid, _ = hiu_flow.grant(c, "suresh702@sbx", [("C702", "C702-OPD")], ["Prescription"])
    equal(consent_row(db, cid)["status"], "GRANTED", "consent before the revocation")
    ack = hiu_flow.notice(c, cid, "REVOKED")
    equal(ack.get("acknowledgement"), {"status": "OK", "consentId": cid}, "the HIP's acknowledgement of the revocation")
    assert_ended(db, c, cid, "REVOKED", "revoked")


@case("HIP_INIT_EXPIRE_CONSENT")
def expire(env):
    db, c = env.db, env.c
    linked_patient(db, "C703", "Anita Ghosh", "anita703@sbx")
    # A consent whose data must be erased six seconds from now (room for a loaded machine):
    # usable until then, not after.
    cid, _ = hiu_flow.grant(c, "anita703@sbx", [("C703", "C703-OPD")], ["Prescription"],
                            dataEraseAt=now_iso(time.time() + 6))
    txn, ans = hiu_flow.request(c, cid)
    equal(ans["hiRequest"]["sessionStatus"], "ACKNOWLEDGED", "a request while the consent lasts")
    equal(hiu_flow.notification(c, txn)[0], "TRANSFERRED", "the transfer while the consent lasts")
    wait_until(lambda: q1(db, "SELECT data_erase_at < now() AS past FROM abdm_hip.consent WHERE consent_id = %s", cid)["past"],
               timeout=10, what="the erase time to pass")
    # The sender runs this hourly; the case calls it rather than wait an hour.
    check(q1(db, "SELECT abdm_hip.expire_consents() AS n")["n"] >= 1, "expire_consents() ended nothing")
    assert_ended(db, c, cid, "EXPIRED", "past its erase time")
    # And the HIE-CM's own EXPIRED notice ends a consent the same way.
    cid2, _ = hiu_flow.grant(c, "anita703@sbx", [("C703", "C703-OPD")], ["Prescription"])
    ack = hiu_flow.notice(c, cid2, "EXPIRED")
    equal(ack.get("acknowledgement"), {"status": "OK", "consentId": cid2}, "the HIP's acknowledgement of EXPIRED")
    assert_ended(db, c, cid2, "EXPIRED", "notified EXPIRED")


@case("HIP_INIT_ABHA_OPTOUT_DEACTIVATE")
def abha_deactivated(env):
    db, c = env.db, env.c
    addr = "vikram704@sbx"
    linked_patient(db, "C704", "Vikram Singh", addr)
    cid, _ = hiu_flow.grant(c, addr, [("C704", "C704-OPD")], ["Prescription"])
    records = q1(db, "SELECT count(*) AS n FROM abdm_hip.health_record WHERE care_context_ref = 'C704-OPD'")["n"]
    d = c.patient_status_notify(hipId=HIP, abhaAddress=addr, status="DEACTIVATED")
    equal(d["delivery"]["status"], 202, "the HIP's reply to the status notice")
    answer = c.wait_for_answer(d["requestId"])
    equal((answer["status"], answer["body"].get("acknowledgement")), (202, {"status": "OK"}), "the HIP's on-deactivate")
    # What ABDM says must go: the consents, the links and the link token of the address.
    row = consent_row(db, cid)
    equal((row["status"], row["has_artefact"], row["contexts"]), ("REVOKED", False, 0), "the address's consent")
    equal(q1(db, "SELECT count(*) AS n FROM abdm_hip.care_context_link WHERE abha_address = %s", addr)["n"], 0, "links kept")
    equal(q1(db, "SELECT count(*) AS n FROM abdm_hip.link_token WHERE abha_address = %s", addr)["n"], 0, "link tokens kept")
    txn, ans = hiu_flow.request(c, cid)
    check((ans.get("error") or {}).get("code"), f"a request under the deactivated address's consent was not refused: {ans}")
    # The hospital's own clinical records stay.
    equal(q1(db, "SELECT count(*) AS n FROM abdm_hip.health_record WHERE care_context_ref = 'C704-OPD'")["n"], records,
          "health records after the deactivation")
    # A deleted address is also forgotten on the patient, so new visits do not try to link to it.
    addr2 = "vikram704b@sbx"
    linked_patient(db, "C705", "Vikram Singh", addr2)
    d = c.patient_status_notify(hipId=HIP, abhaAddress=addr2, status="DELETED")
    c.wait_for_answer(d["requestId"])
    equal(q1(db, "SELECT abha_address FROM abdm_hip.patient WHERE hip_id = %s AND patient_ref = 'C705'", HIP)["abha_address"],
          None, "patient.abha_address after DELETED")
