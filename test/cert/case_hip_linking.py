"""HIP_INTI_LINK_501 … 506 (ABDM spells them "INTI"): HIP-initiated linking with demographic
authentication, driven by what the HMIS writes.

    501  a care context is created; the link token is asked for once and reused for the patient's next one
    502  link/carecontext: one call per patient, grouped by HI type, acknowledged by on_carecontext
    503  context/notify when a linked care context gains an HI type (by the HMIS, or by a new record)
    504  sms/notify2 when the patient has no ABHA address
    505  linking from a backend batch, for new records and for legacy ones (announce_history)
    506  the PHR app shows the HI types, the visit's date and time, demographics, ABHA number and address
"""
import re
import time

from certlib import (HIP, accepted, add_care_context, add_patient, add_record, case, check, equal, link_states, q, q1,
                     wait_linked, wait_until)


def header(r, name):
    return next((v for k, v in r["headers"].items() if k.lower() == name.lower()), None)


@case("HIP_INTI_LINK_501")
def link_token_asked_once_and_reused(env):
    db, c = env.db, env.c
    addr = "sunita.rao501@sbx"
    add_patient(db, "L501", "Sunita Rao", birth_date="1979-08-02", mobile="9800050101", abha_address=addr)
    add_care_context(db, "L501", "L501-OPD-1", ["OPConsultation"])
    equal(link_states(db, "L501"), {"L501-OPD-1": "requested"}, "link state right after the insert")
    wait_linked(db, "L501", ["L501-OPD-1"])
    tok = q1(db, "SELECT status, expires_at > now() + interval '150 days' AS long_lived FROM abdm_hip.link_token "
                 "WHERE hip_id = %s AND abha_address = %s", HIP, addr)
    check(tok and tok["status"] == "valid" and tok["long_lived"], f"link token not kept valid for months: {tok}")
    add_care_context(db, "L501", "L501-LAB-2", ["DiagnosticReport"], visit_at="2024-03-20 09:00+05:30")
    wait_linked(db, "L501", ["L501-OPD-1", "L501-LAB-2"])
    tokens = accepted(c, "generate-token", lambda b: b.get("abhaAddress") == addr)
    equal(len(tokens), 1, "generate-token calls for the patient (the token is reused)")
    equal((tokens[0]["body"]["name"], tokens[0]["body"]["gender"], tokens[0]["body"]["yearOfBirth"]),
          ("Sunita Rao", "F", 1979), "demographics sent with the token request")
    links = accepted(c, "link-carecontext", lambda b: b.get("abhaAddress") == addr)
    equal(len(links), 2, "link/carecontext calls (one per new care context)")
    equal(len({header(r, "X-LINK-TOKEN") for r in links}), 1, "the same link token on both calls")


@case("HIP_INTI_LINK_502")
def link_carecontext_grouped_by_hi_type(env):
    db, c = env.db, env.c
    addr = "arjun.mehta502@sbx"
    add_patient(db, "L502", "Arjun Mehta", gender="M", birth_date="1985-11-30", mobile="9800050202",
                abha_address=addr, abha_number="91-5020-5020-5020")
    # Two visits in one statement, three HI types between them.
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at) VALUES
             (%s, 'L502', 'L502-OPD', 'OPD visit 02 Feb 2024 11:30', '{OPConsultation,Prescription}', '2024-02-02 11:30+05:30'),
             (%s, 'L502', 'L502-IPD', 'IPD stay 05 Feb 2024 08:00', '{DischargeSummary,Prescription}', '2024-02-05 08:00+05:30')""",
      HIP, HIP)
    wait_linked(db, "L502", ["L502-OPD", "L502-IPD"])
    links = accepted(c, "link-carecontext", lambda b: b.get("abhaAddress") == addr)
    equal(len(links), 1, "link/carecontext calls for the patient's two visits")
    body = links[0]["body"]
    equal(body.get("abhaNumber"), "91502050205020", "abhaNumber (digits, as sent for the token)")
    groups = {g["hiType"]: g for g in body["patient"]}
    equal(set(groups), {"OPConsultation", "Prescription", "DischargeSummary"}, "one entry per HI type")
    for ht, g in groups.items():
        equal(g["referenceNumber"], "L502", f"{ht}: patient reference")
        equal(g["display"], "Arjun Mehta", f"{ht}: patient display")
        equal(g["count"], len(g["careContexts"]), f"{ht}: count")
    equal(sorted(cc["referenceNumber"] for cc in groups["Prescription"]["careContexts"]), ["L502-IPD", "L502-OPD"],
          "Prescription's care contexts")
    equal(header(links[0], "X-HIP-ID"), HIP, "X-HIP-ID")
    # The gateway's own record and its callback agree with the HMIS's view.
    linked = {l["careContextReference"] for l in c.links(hipId=HIP, abhaAddress=addr)}
    equal(linked, {"L502-OPD", "L502-IPD"}, "care contexts the gateway linked")
    cb = c.wait_for_deliveries(kind="on-carecontext", inReplyTo=header(links[0], "REQUEST-ID"))
    equal(cb[0]["status"], 202, "the HIP's answer to on_carecontext")
    rows = q(db, "SELECT method, linked_at IS NOT NULL AS at FROM abdm_hip.care_context_link WHERE abha_address = %s", addr)
    equal({(r["method"], r["at"]) for r in rows}, {("hip_initiated", True)}, "care_context_link rows")


@case("HIP_INTI_LINK_503")
def context_notify_on_new_hi_type(env):
    db, c = env.db, env.c
    addr = "neha.iyer503@sbx"
    add_patient(db, "L503", "Neha Iyer", birth_date="1992-06-18", mobile="9800050303", abha_address=addr)
    add_care_context(db, "L503", "L503-IPD", ["DischargeSummary"])
    wait_linked(db, "L503", ["L503-IPD"])
    equal(accepted(c, "context-notify", lambda b: b["notification"]["patient"]["id"] == addr), [],
          "context/notify before any new type")
    # The HMIS adds a type to the linked visit ...
    q(db, "UPDATE abdm_hip.care_context SET hi_types = hi_types || '{DiagnosticReport}' WHERE hip_id = %s AND reference = 'L503-IPD'", HIP)
    first = wait_until(lambda: accepted(c, "context-notify", lambda b: b["notification"]["patient"]["id"] == addr),
                       what="context/notify")
    n = first[0]["body"]["notification"]
    equal(n["hiTypes"], ["DiagnosticReport"], "HI types notified (only the new one)")
    equal(n["careContext"], {"patientReference": "L503", "careContextReference": "L503-IPD"}, "care context notified")
    equal(n["hip"]["id"], HIP, "hip.id")
    # ... and a record of yet another type arrives: notified as well.
    add_record(db, "L503-IPD", "Invoice", "L503", "2024-03-15T12:00:00+05:30")
    both = wait_until(lambda: (lambda r: r if len(r) >= 2 else None)(
        accepted(c, "context-notify", lambda b: b["notification"]["patient"]["id"] == addr)), what="second context/notify")
    equal(both[1]["body"]["notification"]["hiTypes"], ["Invoice"], "HI types of the record's notification")
    for r in both:
        cb = c.wait_for_deliveries(kind="context-on-notify", inReplyTo=header(r, "REQUEST-ID"))
        equal(cb[0]["status"], 202, "the HIP's answer to context on-notify")
    # Nothing new, nothing sent.
    q(db, "UPDATE abdm_hip.care_context SET display = 'IPD stay, ward 3' WHERE hip_id = %s AND reference = 'L503-IPD'", HIP)
    time.sleep(0.4)
    equal(len(accepted(c, "context-notify", lambda b: b["notification"]["patient"]["id"] == addr)), 2,
          "context/notify calls after a change that adds no type")
    notified = q1(db, "SELECT hi_types_notified FROM abdm_hip.care_context_link WHERE care_context_ref = 'L503-IPD'")
    equal(sorted(notified["hi_types_notified"]), ["DiagnosticReport", "DischargeSummary", "Invoice"], "types the gateway knows of")


@case("HIP_INTI_LINK_504")
def sms_notify_without_abha_address(env):
    db, c = env.db, env.c
    add_patient(db, "L504", "Farhan Ali", gender="M", birth_date="1975-01-05", mobile="+91 98000 50404")
    add_care_context(db, "L504", "L504-OPD", ["Prescription"])
    sms = wait_until(lambda: accepted(c, "sms-notify2", lambda b: b["notification"]["phoneNo"] == "9800050404"),
                     what="sms/notify2")
    n = sms[0]["body"]["notification"]
    equal((n["hip"]["id"], n["hip"].get("name")), (HIP, "City General Hospital"), "the facility in the SMS")
    wait_until(lambda: (q1(db, "SELECT status FROM abdm_hip.sms_notification WHERE patient_ref = 'L504'") or {})
               .get("status") == "acknowledged", what="sms on-notify recorded")
    equal(link_states(db, "L504"), {"L504-OPD": "no_abha_address"}, "link state")
    equal(accepted(c, "generate-token", lambda b: b.get("name") == "Farhan Ali"), [], "token requests for a patient with no ABHA address")


@case("HIP_INTI_LINK_505")
def backend_batch_new_and_legacy(env):
    db, c = env.db, env.c
    # New records in one batch statement: three patients at once, each linked.
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
             SELECT %s, 'L505-N' || i, 'Batch Patient ' || i, 'M', 1960 + i, 'batch.new' || i || '@sbx'
             FROM generate_series(1, 3) i""", HIP)
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
             SELECT %s, 'L505-N' || i, 'L505-N' || i || '-OPD', 'OPD visit 01 Mar 2024 10:00', '{Prescription}', '2024-03-01 10:00+05:30'
             FROM generate_series(1, 3) i""", HIP)
    # Legacy records, loaded without announcing them (link_pending = false), from 2015.
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
             SELECT %s, 'L505-L' || i, 'Legacy Patient ' || i, 'F', 1950 + i, 'batch.legacy' || i || '@sbx'
             FROM generate_series(1, 4) i""", HIP)
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
             SELECT %s, 'L505-L' || i, 'L505-L' || i || '-OPD', 'OPD visit 10 Jun 2015 09:30', '{OPConsultation}', '2015-06-10 09:30+05:30', false
             FROM generate_series(1, 4) i""", HIP)
    for i in range(1, 4):
        wait_linked(db, f"L505-N{i}", [f"L505-N{i}-OPD"])
    time.sleep(0.3)
    equal(accepted(c, "generate-token", lambda b: str(b.get("abhaAddress", "")).startswith("batch.legacy")), [],
          "legacy records announced before the batch ran")
    n = q1(db, "SELECT abdm_hip.announce_history(%s, since => '2015-01-01', until => '2016-01-01') AS n", HIP)["n"]
    equal(n, 4, "care contexts the history batch announced")
    equal(q1(db, "SELECT abdm_hip.announce_history(%s, since => '2015-01-01', until => '2016-01-01') AS n", HIP)["n"], 0,
          "announced again by a second run")
    for i in range(1, 5):
        wait_linked(db, f"L505-L{i}", [f"L505-L{i}-OPD"])
    legacy = {l["abhaAddress"] for l in c.links(hipId=HIP) if l["abhaAddress"].startswith("batch.legacy")}
    equal(len(legacy), 4, "legacy patients the gateway linked")
    prog = q1(db, "SELECT * FROM abdm_hip.history_progress WHERE hip_id = %s", HIP)
    check(prog and prog["linked"] >= 4, f"history_progress does not show the legacy links: {prog}")


@case("HIP_INTI_LINK_506")
def phr_shows_what_was_linked(env):
    db, c = env.db, env.c
    addr, number = "kiran.desai506@sbx", "91-5060-5060-5061"
    # ABDM's own record of the account: the gateway refuses a token whose demographics differ.
    c.register_abha({"abhaAddress": addr, "abhaNumber": number, "name": "Kiran Desai", "gender": "F", "yearOfBirth": 1988})
    add_patient(db, "L506", "Kiran Desai", birth_date="1988-09-09", mobile="9800050606", abha_address=addr, abha_number=number)
    add_care_context(db, "L506", "L506-OPD", ["OPConsultation", "Prescription"], visit_at="2024-04-22 16:45+05:30")
    wait_linked(db, "L506", ["L506-OPD"])
    view = c.phr(addr)
    equal(view["abhaAddress"], addr, "ABHA address shown")
    equal(view["abhaNumber"], re.sub(r"\D", "", number), "ABHA number shown")
    demo = view["demographics"] or {}
    equal((demo.get("name"), demo.get("gender"), demo.get("yearOfBirth")), ("Kiran Desai", "F", 1988), "demographics shown")
    rows = [r for r in view["careContexts"] if r["careContextReference"] == "L506-OPD"]
    equal(len(rows), 1, "care contexts shown")
    row = rows[0]
    equal(row["hiTypes"], ["OPConsultation", "Prescription"], "HI types shown")
    equal(row["patientDisplay"], "Kiran Desai", "patient shown")
    visit = q1(db, "SELECT to_char(visit_at AT TIME ZONE 'Asia/Kolkata', 'DD Mon YYYY') AS d, "
                   "to_char(visit_at AT TIME ZONE 'Asia/Kolkata', 'HH24:MI') AS t FROM abdm_hip.care_context "
                   "WHERE hip_id = %s AND reference = 'L506-OPD'", HIP)
    check(visit["d"] in (row["display"] or "") and visit["t"] in (row["display"] or ""),
          f"visit date and time {visit['d']} {visit['t']} not shown: display {row['display']!r}")
