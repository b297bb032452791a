"""Health_RECORD_CREATION_101: a record of every HI type becomes a valid FHIR document bundle."""
import json

from certlib import (HI_TYPES, HIP, add_care_context, add_patient, case, check, equal, fhir_errors, q, q1,
                     record_input)


@case("Health_RECORD_CREATION_101")
def record_of_every_hi_type(env):
    db = env.db
    add_patient(db, "R101", "Ravi Kumar", gender="M", birth_date="1981-01-12", mobile="9818512600")
    add_care_context(db, "R101", "R101-OPD", ["OPConsultation"], link_pending=False)
    for hi_type in HI_TYPES:
        rec = record_input(hi_type, "R101", "2024-03-14T10:35:00+05:30")
        bundle = q1(db, "SELECT abdm_hip.fhir_document(%s, %s::jsonb) AS b", hi_type, json.dumps(rec))["b"]
        equal((bundle.get("resourceType"), bundle.get("type")), ("Bundle", "document"), f"{hi_type}: bundle kind")
        first = (bundle.get("entry") or [{}])[0].get("resource", {})
        equal(first.get("resourceType"), "Composition", f"{hi_type}: first entry")
        # The bundle says which HI type it is (the Composition's type), as the extension reads it back.
        equal(q1(db, "SELECT abdm_hip_internal.fhir_hi_type(%s::jsonb) AS t", json.dumps(bundle))["t"], hi_type,
              f"{hi_type}: HI type of the bundle")
        patients = [e["resource"] for e in bundle["entry"] if e["resource"].get("resourceType") == "Patient"]
        name = rec["patient"]["name"]
        check(patients and any(n.get("text") == name for n in patients[0].get("name", [])),
              f"{hi_type}: the bundle's Patient is not the record's patient {name!r}: {patients[:1]}")
        check(any(i.get("value") == "R101" for i in patients[0].get("identifier", [])),
              f"{hi_type}: the bundle's Patient lacks the hospital's patient reference R101")
        errors = fhir_errors(db, json.dumps(bundle))
        check(not errors, f"{hi_type}: fhir_check errors {errors[:3]}")
        # The HMIS can store it: health_record refuses a bundle fhir_check finds errors in.
        q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                 VALUES (%s, 'R101-OPD', %s, '2024-03-14T10:35:00+05:30', %s::jsonb)""", HIP, hi_type, json.dumps(bundle))
    equal(q1(db, "SELECT count(DISTINCT hi_type) AS n FROM abdm_hip.health_record WHERE care_context_ref = 'R101-OPD'")["n"],
          len(HI_TYPES), "HI types stored")

    # The check is not a formality: a bundle without its Composition is found wrong and refused.
    rec = record_input("Prescription", "R101", "2024-03-14T10:35:00+05:30")
    broken = q1(db, "SELECT abdm_hip.fhir_document('Prescription', %s::jsonb) AS b", json.dumps(rec))["b"]
    broken["entry"] = broken["entry"][1:]
    check(fhir_errors(db, json.dumps(broken)), "fhir_check found nothing wrong with a bundle without its Composition")
    try:
        q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                 VALUES (%s, 'R101-OPD', 'Prescription', now(), %s::jsonb)""", HIP, json.dumps(broken))
    except Exception:
        pass
    else:
        raise AssertionError("health_record stored a bundle without its Composition")
