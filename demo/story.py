#!/usr/bin/python3
"""The demo (bash demo/run): every Milestone 2 flow of a HIP, as a hospital DBA would see it.

The HMIS only writes rows and reads views; the extension's triggers, its listener, receive() and
its background workers do the rest. The local simulator (test/sim) plays everything outside the
hospital: the ABDM gateway, which answers the HIP's calls and calls back over HTTP through the
extension's own listener with a signed bearer token (the listener verifies it against the gateway's
keys before receive() sees the call); the consent manager (discovery, linking, consents,
health-information requests); the HIU, which decrypts the push with its own Fidelius code; and the
hospital's SMS gateway for linking OTPs.

Each step shows the SQL as it runs, then what went over the wire (one line a message: who, method,
path, HTTP status, key fields; +seconds from the step's first write), then its outcome and how long
the step took. A step that does not reach its outcome stops the demo with a non-zero exit."""
import json
import os
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CLIENT_ID, CLIENT_SECRET, HIP, Env, gateway_issuer, q1  # noqa: E402
from narrate import StepFailed, Story  # noqa: E402

HISTORY_PATIENTS = 30
HISTORY_RATE = 10  # calls a second to each link endpoint, for the backfill step

# What every record of the HMIS shares: who, by whom, where (fhir_document's input, docs/fhir-record.md).
COMMON = ('{"patient": {"ref": "MRN-1001", "name": "Hina Patel", "gender": "F"}, '
          '"practitioner": {"registration": "KMC-55012", "name": "Dr. Anita Sharma"}, '
          '"facility": {"hfr_id": "IN2710000001", "name": "City General Hospital"}}')


# The HI type of a bundle, as a HIU reads it: its Composition's type (SNOMED CT, as NRCES's profiles fix it).
HI_TYPE_OF_DOCUMENT = {"Prescription record": "Prescription", "Clinical consultation report": "OPConsultation",
                       "Diagnostic studies report": "DiagnosticReport", "Discharge summary": "DischargeSummary",
                       "Immunization record": "ImmunizationRecord", "Record artifact": "HealthDocumentRecord"}


def coding_hi_type(bundle):
    """A decrypted bundle's Composition, and its HI type as the HIU reads it."""
    comp = next((e["resource"] for e in bundle.get("entry", []) if e["resource"].get("resourceType") == "Composition"), {})
    coding = (comp.get("type") or {}).get("coding") or [{}]
    display = coding[0].get("display") or comp.get("type", {}).get("text") or "?"
    return comp, HI_TYPE_OF_DOCUMENT.get(display, display)


def main():
    env = Env()  # the simulator, delivering over HTTP to the cluster's listener
    try:
        story(env)
    finally:
        env.close()


def story(env):
    db, c = env.db, env.c
    s = Story(db, c)
    port = int(q1(db, "SHOW abdm_hip.listen_port")["abdm_hip.listen_port"])
    print(f"simulator: gateway {c.gateway_url}, HIU {c.hiu_push_url}")
    print(f"the extension's listener: http://127.0.0.1:{port} (the gateway calls it; JWT verification on)")

    # ---------------------------------------------------------------------------------------------
    s.step("Install and set up the facility",
           "postgresql.conf already has shared_preload_libraries = 'abdm_hip', abdm_hip.database and "
           "abdm_hip.listen_port (demo/run wrote them before starting the server). The DBA creates the "
           "extension, points it at the gateway (here: the simulator) and registers the facility.")
    s.sql("""SELECT name, setting FROM pg_settings
             WHERE name IN ('shared_preload_libraries', 'abdm_hip.database', 'abdm_hip.listen_port', 'abdm_hip.verify_jwt')
             ORDER BY name""", clock=False)
    s.sql("CREATE EXTENSION abdm_hip")
    s.sql("ALTER SYSTEM SET abdm_hip.gateway_url = %s", c.gateway_url)
    s.sql("ALTER SYSTEM SET abdm_hip.client_id = %s", CLIENT_ID)
    s.sql("ALTER SYSTEM SET abdm_hip.jwt_issuer = %s", gateway_issuer(c))
    s.sql("ALTER SYSTEM SET abdm_hip.otp_sms_url = %s", c.urls["hooks"] + "/sms",
          note="the hospital's SMS gateway, for linking OTPs")
    s.sql("SELECT pg_reload_conf()", rows=False)
    s.sql("SELECT abdm_hip.set_client_secret(%s)", CLIENT_SECRET, rows=False, display=[(f"'{CLIENT_SECRET}'", "'********'")],
          note="in real life from a file: \\set s `cat /run/secrets/abdm_client_secret`")
    s.sql("INSERT INTO abdm_hip.facility (hip_id, name) VALUES (%s, 'City General Hospital')", HIP)
    s.outcome("the listener runs with JWT verification on",
              lambda: q1(db, "SELECT running_workers > 0 AND verify_jwt AS ok FROM abdm_hip.bridge_status")["ok"])
    time.sleep(0.2)  # the workers re-read their settings at the reload
    s.sql("SELECT listen_address, listen_port, running_workers, verify_jwt, warnings FROM abdm_hip.bridge_status",
          clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("Register the bridge URL",
           "The gateway must know where to call the hospital: the public URL of the TLS proxy in front of "
           "the listener (here the listener itself). The sender worker takes a session and sends the PATCH.")
    s.sql("SELECT abdm_hip.register_bridge_url(%s) AS request_id", f"http://127.0.0.1:{port}")
    s.outcome("bridge_status shows the registered URL",
              lambda: q1(db, "SELECT registered_url FROM abdm_hip.bridge_status")["registered_url"])
    s.wire()
    s.sql("SELECT registered_url, registered_at IS NOT NULL AS registered, verify_jwt, warnings FROM abdm_hip.bridge_status",
          clock=False)
    s.say("A caller without the gateway's signature gets 401 from the listener; receive() never sees it:")
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v3/consent/request/hip/notify", data=b"{}", method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer not.a.token"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise StepFailed("a forged call was accepted")
    except urllib.error.HTTPError as e:
        s.check(e.code == 401, f"a forged call got {e.code}, not 401")
        err = json.loads(e.read()).get("error", {})
        print(f"         forged→HIP POST /api/v3/consent/request/hip/notify {e.code}  error {err.get('code')} {err.get('message')}")
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("HIP-initiated linking: a new patient's visit",
           "The HMIS registers a patient who has an ABHA address, and a visit. The insert only marks the care "
           "context; at commit the sender asks the gateway for a link token, then links the visit, one call "
           "per patient grouped by HI type.")
    s.sql("""INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_number, abha_address)
             VALUES (%s, 'MRN-1001', 'Hina Patel', 'F', '1990-04-12', '9800083232', '91-1783-8610-1731', 'hinapatel@sbx')""", HIP)
    s.sql("""INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
             VALUES (%s, 'MRN-1001', 'OPD-2024-05-20', 'OPD visit 20 May 2024', '{OPConsultation,Prescription}', '2024-05-20 10:00+05:30')""",
          HIP)
    s.outcome("OPD-2024-05-20 linked", lambda: q1(db, """SELECT link_status = 'linked' AS ok FROM abdm_hip.link_status(%s, 'MRN-1001')
                                                        WHERE care_context_ref = 'OPD-2024-05-20'""", HIP)["ok"])
    s.wire()
    s.sql("SELECT care_context_ref, abha_address, link_status, method, token_status FROM abdm_hip.link_status(%s, 'MRN-1001')",
          HIP, clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("HIP-initiated linking: a second visit reuses the link token",
           "The link token is valid for about six months: the next visit goes straight to link/carecontext.")
    s.sql("""INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
             VALUES (%s, 'MRN-1001', 'LAB-2024-05-21', 'Lab tests 21 May 2024', '{DiagnosticReport}', '2024-05-21 09:00+05:30')""",
          HIP)
    s.outcome("LAB-2024-05-21 linked", lambda: q1(db, """SELECT link_status = 'linked' AS ok FROM abdm_hip.link_status(%s, 'MRN-1001')
                                                        WHERE care_context_ref = 'LAB-2024-05-21'""", HIP)["ok"])
    msgs = s.wire()
    s.check(not [m for m in msgs if m["route"] == "generate-token"], "a second link token was asked for")
    s.check([m for m in msgs if m["route"] == "link-carecontext"], "no link/carecontext for the second visit")
    s.say("No generate-token this time: the token from the first visit was sent as X-LINK-TOKEN.")
    s.say("The database keeps that token, and the client secret, only sealed (AES-256-GCM under the "
          "key file abdm_hip_secret.key in the data directory): a pg_dump or a replica holds nothing "
          "that can call the gateway. Only the sender opens them, as it sends.")
    s.sql("""SELECT 'client secret' AS what, left(value, 46) || '...' AS stored FROM abdm_hip.secret
             UNION ALL
             SELECT 'link token of ' || abha_address, left(token, 46) || '...' FROM abdm_hip.link_token""",
                   clock=False)
    s.sql("SELECT abdm_hip.secret_key_id()", clock=False, note="the same on every node")
    s.check(q1(db, """SELECT bool_and(v LIKE 'abdm-sealed:1:%%') AS ok FROM (SELECT value AS v FROM abdm_hip.secret
                      UNION ALL SELECT token FROM abdm_hip.link_token WHERE token IS NOT NULL) x""")["ok"],
            "a secret is stored in clear")
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("A new kind of record on a linked visit: context/notify",
           "The HMIS files the OPD visit's bill, built with abdm_hip.fhir_document() from its own JSON. The visit "
           "was linked for OPConsultation and Prescription only: the gateway is told the new HI type.")
    s.sql("""INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
             VALUES (%s, 'OPD-2024-05-20', 'Invoice', '2024-05-20 11:00+05:30',
                     abdm_hip.fhir_document('Invoice', %s::jsonb || '{"document": {"date": "2024-05-20T11:00:00+05:30"},
                       "invoice": {"number": "INV-2024-0520-17", "type": "00",
                                   "line_items": [{"category": "00", "product": "OPD consultation", "quantity": 1, "rate": 300}]}}'))""",
          HIP, COMMON, display=[(COMMON.replace("'", "''"), '$common')])
    n = s.outcome("context/notify sent with the new HI type",
                  lambda: [m for m in s.messages() if m["route"] == "context-notify" and m["status"] == 202])
    s.check("Invoice" in n[0]["body"]["notification"]["hiTypes"], "context/notify without Invoice")
    s.wire()
    s.say("($common: the record's patient, practitioner and facility, the same in every record of this demo: "
          + COMMON + ")")
    s.sql("SELECT care_context_ref, hi_types, link_status FROM abdm_hip.link_activity WHERE patient_ref = 'MRN-1001' ORDER BY 1",
          clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("A patient without an ABHA address: the SMS deep link (sms/notify2)",
           "Without an ABHA address nothing can be linked yet; the gateway texts the patient a link to the "
           "PHR app (once per patient per abdm_hip.sms_notify_interval).")
    s.sql("""INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
             VALUES (%s, 'MRN-1002', 'Ravi Kumar', 'M', 1985, '+91 98765 43210')""", HIP)
    s.sql("""INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
             VALUES (%s, 'MRN-1002', 'OPD-2024-06-01', 'OPD visit 1 Jun 2024', '{Prescription}', '2024-06-01 10:00+05:30')""", HIP)
    s.outcome("sms/notify2 sent and answered",
              lambda: q1(db, "SELECT sms_status = 'acknowledged' AS ok FROM abdm_hip.link_activity WHERE patient_ref = 'MRN-1002'")["ok"]
              and [m for m in s.messages() if m["route"] == "sms-on-notify"])
    s.wire()
    s.sql("SELECT patient_ref, care_context_ref, link_status, sms_status FROM abdm_hip.link_activity WHERE patient_ref = 'MRN-1002'",
          clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("User-initiated linking: discovery, link init with an OTP, confirm",
           "Ravi got the SMS of step 6, makes an ABHA address and looks for his records at City General Hospital in "
           "his PHR app. The HMIS does nothing: the "
           "extension matches him (mobile + gender + year of birth + a fuzzy name: he typed 'Ravi Kumaar'), offers the unlinked visit, texts an "
           "OTP through the hospital's SMS gateway (hashed at rest) and links on the right OTP.")
    s.start_clock()
    d = c.discover(hipId=HIP, abhaAddress="ravi.kumar@sbx", name="Ravi Kumaar", gender="M", yearOfBirth=1985,
                   mobile="9876543210")
    s.check(d["delivery"]["status"] == 202, f"discover answered {d['delivery']['status']}")
    disc = s.outcome("on-discover offers the visit",
                     lambda: [m for m in s.messages() if m["route"] == "on-discover"])[0]["body"]
    s.check("patient" in disc, f"no match: {disc}")
    c.link_init(transactionId=d["transactionId"])
    hook = s.outcome("the OTP texted", lambda: [m for m in s.messages() if m["route"] == "hook"])[0]["body"]
    s.outcome("on-init", lambda: [m for m in s.messages() if m["route"] == "on-init"])
    c.link_confirm(transactionId=d["transactionId"], token=hook["otp"])
    conf = s.outcome("on-confirm: OPD-2024-06-01 linked to ravi.kumar@sbx",
                     lambda: [m for m in s.messages() if m["route"] == "on-confirm"])[0]["body"]
    s.check("patient" in conf, f"confirm failed: {conf}")
    s.wire()
    s.sql("SELECT care_context_ref, abha_address, link_status, method FROM abdm_hip.link_status(%s, 'MRN-1002')", HIP,
          clock=False)
    s.check(q1(db, "SELECT link_status FROM abdm_hip.link_status(%s, 'MRN-1002')", HIP)["link_status"] == "linked",
            "MRN-1002 not linked after on-confirm")
    s.say("The HMIS sees the ABHA address the visit is linked to in link_status(); the patient row itself is the HMIS's "
          "and is not changed.")
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("Consent GRANTED",
           "The HMIS has written Hina's records as usual. A doctor elsewhere (the HIU) asks for her prescriptions, "
           "consultations and lab reports; she grants it in her PHR app, and the consent manager tells the HIP. "
           "The extension stores the artefact and acknowledges it.")
    s.sql("""INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
             SELECT %s, cc, t, at::timestamptz, abdm_hip.fhir_document(t, %s::jsonb || r::jsonb)
             FROM (VALUES
               ('OPD-2024-05-20', 'OPConsultation', '2024-05-20 10:35+05:30',
                '{"document": {"date": "2024-05-20T10:35:00+05:30", "title": "OPD consultation, General Medicine"},
                  "visit": {"class": "AMB", "start": "2024-05-20T10:05:00+05:30"}, "chief_complaints": [{"code": "Fever"}]}'),
               ('OPD-2024-05-20', 'Prescription', '2024-05-20 10:40+05:30',
                '{"document": {"date": "2024-05-20T10:40:00+05:30"},
                  "medications": [{"code": "Paracetamol 500 mg tablet", "dosage": "1-1-1 for 3 days"}]}'),
               ('LAB-2024-05-21', 'DiagnosticReport', '2024-05-21 17:20+05:30',
                '{"document": {"date": "2024-05-21T17:20:00+05:30"},
                  "report": {"kind": "lab", "code": "Complete blood count", "conclusion": "Within normal limits.",
                             "results": [{"code": "Haemoglobin", "value": 13.1, "unit": "g/dL"}]}}')
             ) AS v(cc, t, at, r)""", HIP, COMMON, display=[(COMMON.replace("'", "''"), '$common')], clock=False)
    s.start_clock()
    g = c.consent_notify(hipId=HIP, abhaAddress="hinapatel@sbx", hiTypes=["OPConsultation", "Prescription", "DiagnosticReport"],
                         careContexts=[{"patientReference": "MRN-1001", "careContextReference": r}
                                       for r in ("OPD-2024-05-20", "LAB-2024-05-21")])
    s.check(g["delivery"]["status"] == 202, f"consent notify answered {g['delivery']['status']}")
    s.outcome("the artefact stored and acknowledged",
              lambda: [m for m in s.messages() if m["route"] == "consent-on-notify" and m["status"] == 202])
    s.wire()
    s.sql("""SELECT consent_id, status, abha_address, hiu_id, hi_types, date_from::date, date_to::date, data_erase_at::date,
                    (SELECT count(*) FROM abdm_hip.consent_care_context x WHERE x.consent_id = c.consent_id) AS care_contexts
             FROM abdm_hip.consent c""", clock=False)
    s.done()
    consent_id = g["consentId"]

    # ---------------------------------------------------------------------------------------------
    s.step("Health-information request: paged, encrypted push; the HIU decrypts; notify",
           "The HIU asks for the data with its public key. The extension checks consent, date range, HI types "
           "and key; the transfer worker builds the FHIR bundles, encrypts each page with its own key pair "
           "and nonce (Fidelius), pushes the pages to the HIU's dataPushUrl and notifies the gateway.")
    s.start_clock()
    r = c.hi_request(consentId=consent_id)
    s.check(r["delivery"]["status"] == 202, f"hi-request answered {r['delivery']['status']}")
    t = s.outcome("pushed, decrypted by the HIU, notified TRANSFERRED",
                  lambda: (lambda x: x if x["summary"]["notified"] and x.get("complete") else None)(
                      c.hiu_transfer(r["transactionId"], plaintext=True)))
    s.wire()
    notify = [m for m in s.messages(0) if m["route"] == "hi-notify"][-1]["body"]["notification"]["statusNotification"]
    s.check(notify["sessionStatus"] == "TRANSFERRED", f"notify says {notify['sessionStatus']}")
    ents = t["entries"]
    s.check(t["allOk"], f"the HIU found problems: {t.get('pageProblems')}")
    s.check(all(e["ok"] and e["checksumOk"] for e in ents), "an entry did not decrypt or its checksum differs")
    kinds = []
    print()
    print(f"    the HIU decrypted {len(ents)} records in {len(t['pushes'])} pages "
          f"(every checksum ok, {t['keyIvPairs']} distinct AES-GCM key/IV pairs):")
    for e in sorted(ents, key=lambda e: (e["careContextReference"], e.get("plaintextBytes", 0))):
        b = json.loads(e["plaintext"])
        comp, hi = coding_hi_type(b)
        kinds.append(hi)
        print(f"         {e['careContextReference']:<15} {hi:<17} {b['resourceType']} ({b.get('type')}) of "
              f"{len(b.get('entry', []))} resources, Composition {comp.get('title')!r}, {e['plaintextBytes']} bytes")
    s.check(len(ents) == 3, f"{len(ents)} records pushed, 3 consented")
    s.say(f"HI types received: {', '.join(sorted(set(kinds)))}. The bill (Invoice) on OPD-2024-05-20 was not consented and "
          "was not sent.")
    s.sql("""SELECT page_number, page_count, status, records, bytes, entries_share_key FROM abdm_hip.transfer_pages
             ORDER BY page_number""", clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("Consent REVOKED: what is deleted",
           "Hina revokes the consent. The artefact, her ABHA address on it and its care-context list are deleted; a "
           "tombstone (id, status, time) stays so a later request is refused precisely. Her records stay: they "
           "are the hospital's.")
    consent_q = """SELECT consent_id, status, abha_address, hi_types, artefact IS NOT NULL AS artefact,
                          (SELECT count(*) FROM abdm_hip.consent_care_context x WHERE x.consent_id = c.consent_id) AS care_contexts
                   FROM abdm_hip.consent c WHERE consent_id = %s"""
    s.say("before:")
    s.sql(consent_q, consent_id, clock=False)
    s.start_clock()
    c.consent_notify(status="REVOKED", consentId=consent_id, hipId=HIP)
    s.outcome("the artefact deleted, acknowledged",
              lambda: [m for m in s.messages() if m["route"] == "consent-on-notify"]
              and q1(db, "SELECT status = 'REVOKED' AND artefact IS NULL AS ok FROM abdm_hip.consent WHERE consent_id = %s",
                     consent_id)["ok"])
    s.say("after:")
    s.sql(consent_q, consent_id, clock=False)
    s.say("A request under the revoked consent is refused:")
    r2 = c.hi_request(consentId=consent_id)
    s.outcome("hi on-request refused", lambda: [m for m in s.messages() if m["route"] == "hi-on-request"
                                                and (m["body"].get("hiRequest") or {}).get("transactionId") == r2["transactionId"]
                                                and "error" in m["body"]])
    s.wire()
    s.sql("SELECT count(*) AS records_kept FROM abdm_hip.health_record WHERE care_context_ref IN ('OPD-2024-05-20', 'LAB-2024-05-21')",
          clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("Consent EXPIRED",
           "A second consent, for the lab report only, reaches its end: the consent manager says EXPIRED and the "
           "same is deleted. (A consent past its dataEraseAt is also ended by abdm_hip.expire_consents(), which "
           "the sender runs hourly, even if no notice comes.)")
    g2 = c.consent_notify(hipId=HIP, abhaAddress="hinapatel@sbx", hiTypes=["DiagnosticReport"],
                          careContexts=[{"patientReference": "MRN-1001", "careContextReference": "LAB-2024-05-21"}])
    s.check(q1(db, "SELECT status FROM abdm_hip.consent WHERE consent_id = %s", g2["consentId"])["status"] == "GRANTED",
            "the second consent was not stored")
    s.say("before:")
    s.sql(consent_q, g2["consentId"], clock=False)
    s.wire(label="wire (the grant)")
    s.start_clock()
    c.consent_notify(status="EXPIRED", consentId=g2["consentId"], hipId=HIP)
    s.outcome("the artefact deleted, acknowledged",
              lambda: [m for m in s.messages() if m["route"] == "consent-on-notify"]
              and q1(db, "SELECT status = 'EXPIRED' AND artefact IS NULL AS ok FROM abdm_hip.consent WHERE consent_id = %s",
                     g2["consentId"])["ok"])
    s.wire()
    s.say("after:")
    s.sql(consent_q, g2["consentId"], clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("Linking the hospital's history: abdm_hip.announce_history() and its progress",
           f"Years of past visits were loaded with link_pending = false, so nothing was announced. The DBA announces "
           f"them in one call; the sender links them within ABDM's rate limits (here {HISTORY_RATE} calls a second "
           f"per endpoint), new visits first, and history_progress shows how far it has come.")
    s.sql("ALTER SYSTEM SET abdm_hip.rate_limit_generate_token = %s", str(HISTORY_RATE), clock=False)
    s.sql("ALTER SYSTEM SET abdm_hip.rate_limit_link_carecontext = %s", str(HISTORY_RATE), clock=False)
    s.sql("SELECT pg_reload_conf()", rows=False, clock=False)
    s.sql("""INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
             SELECT %s, 'OLD-' || i, 'Patient ' || i, 'F', 1950 + i, 'old.patient' || i || '@sbx'
             FROM generate_series(1, %s) i""", HIP, HISTORY_PATIENTS, clock=False)
    s.sql("""INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
             SELECT %s, 'OLD-' || i, 'OLD-' || i || '-OPD', 'OPD visit 2019', '{Prescription}', '2019-06-01', false
             FROM generate_series(1, %s) i""", HIP, HISTORY_PATIENTS, clock=False)
    time.sleep(0.3)  # the sender has re-read its rate limits
    s.sql("SELECT abdm_hip.announce_history(%s) AS announced", HIP)
    progress_q = """SELECT announced, queued, in_progress, linked, failed, blocked, rate, time_left
                    FROM abdm_hip.history_progress WHERE hip_id = %s"""
    samples = []

    def sample():
        row = q1(db, progress_q, HIP)
        if not samples or time.monotonic() - samples[-1][0] >= 1.0 or row["linked"] == HISTORY_PATIENTS:
            samples.append((time.monotonic(), row))
        return row
    while time.monotonic() - s.t0 < 1.0:
        sample()
        time.sleep(0.05)
    s.say("A second into the backfill Hina comes back for a follow-up; her new visit does not wait behind the history:")
    t_new = time.monotonic()
    s.sql("""INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
             VALUES (%s, 'MRN-1001', 'OPD-2024-06-10', 'OPD follow-up 10 Jun 2024', '{Prescription}', '2024-06-10 09:30+05:30')""",
          HIP, clock=False)
    s.outcome("the new visit linked", lambda: sample() and q1(
        db, "SELECT link_status = 'linked' AS ok FROM abdm_hip.link_status(%s, 'MRN-1001') WHERE care_context_ref = 'OPD-2024-06-10'",
        HIP)["ok"], since=t_new, timeout=15)
    waiting = sample()
    s.outcomes[-1] += f" (past visits still queued or in progress then: {waiting['queued'] + waiting['in_progress']})"
    print()
    with db.cursor() as cur:
        print(f"    sql> {' '.join(cur.mogrify(progress_q, (HIP,)).decode().split())}   -- every second:")

    def done_yet():
        row = sample()
        return row["linked"] == HISTORY_PATIENTS and row
    final = s.outcome(f"{HISTORY_PATIENTS} past visits linked, from announce_history()", done_yet, timeout=60, interval=0.1)
    rows = [dict(at=f"+{t - s.t0:.1f} s", **row) for t, row in samples]
    s.table(rows)
    s.check((final["failed"], final["blocked"]) == (0, 0), f"history: {final['failed']} failed, {final['blocked']} blocked")
    s.say("Each endpoint's rate as the sender holds it (an ABDM-1022 would show as 'slowed' and count in throttles):")
    s.sql("""SELECT endpoint_kind, configured_per_s, current_per_s, state, throttles, last_throttled_at
             FROM abdm_hip.rate_limits ORDER BY endpoint_kind""", clock=False)
    s.outcome(f"link tokens asked for at {HISTORY_RATE}/s, no throttle answer",
              lambda: q1(db, """SELECT configured_per_s = %s AND state = 'full' AND throttles = 0 AS ok
                                  FROM abdm_hip.rate_limits WHERE endpoint_kind = 'generate_token'""",
                         HISTORY_RATE)["ok"], timeout=5)
    s.wire()
    s.sql("ALTER SYSTEM RESET abdm_hip.rate_limit_generate_token", clock=False)
    s.sql("ALTER SYSTEM RESET abdm_hip.rate_limit_link_carecontext", clock=False)
    s.sql("SELECT pg_reload_conf()", rows=False, clock=False)
    s.done()

    # ---------------------------------------------------------------------------------------------
    s.step("What the operator sees",
           "The views a DBA keeps an eye on: the outbox (every call to ABDM, its state and why it failed), the links, "
           "the transfers, and the share ledger (every disclosure to a HIU, kept when a consent ends).")
    s.start_clock()
    s.sql("""SELECT kind, status, count(*) AS calls, max(attempts) AS max_attempts,
                    round(avg(extract(epoch FROM delivery_time)) * 1000) AS avg_ms, max(last_error) AS last_error
             FROM abdm_hip.outbox_status GROUP BY kind, status ORDER BY min(id)""", limit=20)
    s.sql("""SELECT patient_ref, care_context_ref, abha_address, link_status, method, token_status, sms_status
             FROM abdm_hip.link_activity WHERE patient_ref LIKE 'MRN-%' ORDER BY patient_ref, care_context_ref""")
    s.sql("""SELECT transaction_id, request_status, care_context_ref, care_context_status, entries,
                    pages_pushed || '/' || pages AS pages, duration, error
             FROM abdm_hip.transfer_status ORDER BY received_at, care_context_ref""")
    s.sql("""SELECT shared_at::time(0) AS shared_at, patient_ref, hiu_id, consent_id, page_number || '/' || page_count AS page, care_context_refs,
                    entries, bytes, outcome
             FROM abdm_hip.shares ORDER BY shared_at""")
    s.outcome("every call to ABDM delivered, three records in the share ledger",
              lambda: q1(db, """SELECT (SELECT count(*) FROM abdm_hip.outbox WHERE status <> 'sent') = 0
                                   AND (SELECT sum(cardinality(entry_checksums)) FROM abdm_hip.share_ledger) = 3 AS ok""")["ok"],
              timeout=15)
    s.done()

    s.summary()


if __name__ == "__main__":
    try:
        main()
    except StepFailed as e:
        print(f"\nDEMO FAILED: {e}", file=sys.stderr)
        sys.exit(1)
