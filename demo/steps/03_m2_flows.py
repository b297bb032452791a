#!/usr/bin/python3
"""Every Milestone 2 flow against the local ABDM gateway/HIU simulator, narrated.

The HMIS only writes rows; the extension's triggers, receive() and background workers do the rest.
The simulator plays the gateway (answers and callbacks, POSTed to the extension's own listener
with a signed bearer token, which the listener verifies against the gateway's keys before
receive() sees the call),
the consent manager (discovery, linking, consents, health-information requests) and the HIU
(which decrypts the push with its own independent Fidelius code)."""
import json
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
from harness import HIP, Env, q, q1, wait_until  # noqa: E402


def say(text):
    print(f"\n--- {text}")


def show(rows):
    for r in rows:
        print("   ", json.dumps({k: (str(v) if v is not None and not isinstance(v, (int, float, bool, list, dict, str)) else v)
                                 for k, v in r.items()}, ensure_ascii=False))


def main():
    env = Env()
    try:
        env.fresh()
        db, c = env.db, env.c
        print(f"simulator: gateway {c.gateway_url}")

        say("0. The DBA registers the listener's URL at the gateway (PATCH /gateway/v3/bridge/url)")
        port = int(q1(db, "SHOW abdm_hip.listen_port")["abdm_hip.listen_port"])
        q(db, "SELECT abdm_hip.register_bridge_url(%s)", f"http://127.0.0.1:{port}")
        wait_until(lambda: q1(db, "SELECT registered_url FROM abdm_hip.bridge_status")["registered_url"],
                   what="the bridge URL registered")
        show(q(db, """SELECT listen_address, listen_port, running_workers, verify_jwt, registered_url, warnings
                      FROM abdm_hip.bridge_status"""))
        print("    every call of the gateway below reaches the database through that listener, with a verified JWT")

        say("1. HIP-initiated linking (V3): the HMIS inserts a patient with an ABHA address and two visits")
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_number, abha_address)
                 VALUES (%s, 'MRN-1001', 'Hina Patel', 'F', '1990-04-12', '9800083232', '91-1783-8610-1731', 'hinapatel@sbx')""", HIP)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at) VALUES
                 (%s, 'MRN-1001', 'OPD-2024-05-20', 'OPD visit 20 May 2024', '{OPConsultation,Prescription}', '2024-05-20'),
                 (%s, 'MRN-1001', 'LAB-2024-05-21', 'Lab tests 21 May 2024', '{DiagnosticReport}', '2024-05-21')""", HIP, HIP)
        wait_until(lambda: all(r["link_status"] == "linked" for r in q(db, "SELECT * FROM abdm_hip.link_status(%s, 'MRN-1001')", HIP)),
                   what="linked")
        print("    gateway saw:", [r["route"] for r in c.requests() if r.get("route") in ("sessions", "generate-token", "link-carecontext")])
        show(q(db, "SELECT care_context_ref, link_status, token_status, last_call_status FROM abdm_hip.link_status(%s, 'MRN-1001')", HIP))

        say("2. A new record type on a linked visit: context/notify")
        q(db, "UPDATE abdm_hip.care_context SET hi_types = hi_types || '{Invoice}' WHERE reference = 'OPD-2024-05-20'")
        n = c.wait_for_requests("context-notify")[0]["body"]["notification"]
        print("    notified:", n["careContext"], n["hiTypes"])

        say("3. A patient with no ABHA address but a mobile: the SMS deep link (sms/notify2)")
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
                 VALUES (%s, 'MRN-1002', 'Ravi Kumar', 'M', 1985, '+91 98765 43210')""", HIP)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                 VALUES (%s, 'MRN-1002', 'OPD-2024-06-01', 'OPD visit 1 Jun 2024', '{Prescription}')""", HIP)
        print("    sms/notify2:", c.wait_for_requests("sms-notify2")[0]["body"]["notification"])

        say("4. User-initiated discovery and linking (the patient's PHR app finds the visit and confirms with an OTP)")
        d = c.discover(hipId=HIP, abhaAddress="ravi.kumar@sbx", name="Ravi Kumar", gender="M", yearOfBirth=1985,
                       mobile="9876543210")
        print("    the listener answered", d["delivery"]["status"], d["delivery"].get("response"))
        answer = wait_until(lambda: c.requests(route="on-discover"), what="on-discover", timeout=15)[0]["body"]
        print("    on-discover:", json.dumps(answer)[:300])
        if "patient" in answer:
            init = c.link_init(transactionId=d["transactionId"])
            print("    link init → the listener:", init["delivery"]["status"])
            hook = wait_until(lambda: c.requests(route="hook"), what="OTP SMS", timeout=15)
            otp = hook[0]["body"].get("otp")
            print("    the hospital's SMS hook received:", hook[0]["body"]["message"])
            on_init = wait_until(lambda: c.requests(route="on-init"), what="on-init", timeout=15)[0]["body"]
            print("    on-init:", json.dumps(on_init["link"]))
            confirm = c.link_confirm(transactionId=d["transactionId"], token=otp)
            print("    link confirm → the listener:", confirm["delivery"]["status"])
            print("    on-confirm:", json.dumps(wait_until(lambda: c.requests(route="on-confirm"), what="on-confirm")[0]["body"])[:300])

        say("5. Consent granted for the first patient's visits, then a health-information request")
        rec = json.load(open(os.path.join(ROOT, "test", "data", "fhir", "records", "Prescription.json")))
        rec["patient"]["ref"] = "MRN-1001"
        q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                 VALUES (%s, 'OPD-2024-05-20', 'Prescription', '2024-05-20T10:00:00Z', abdm_hip.fhir_document('Prescription', %s::jsonb))""",
          HIP, json.dumps(rec))
        g = c.consent_notify(hipId=HIP, abhaAddress="hinapatel@sbx", hiTypes=["Prescription", "DiagnosticReport"],
                             careContexts=[{"patientReference": "MRN-1001", "careContextReference": r}
                                           for r in ("OPD-2024-05-20", "LAB-2024-05-21")])
        print("    consent notify → the listener:", g["delivery"]["status"])
        show(q(db, "SELECT consent_id, status, hi_types, date_from, date_to, data_erase_at FROM abdm_hip.consent"))
        r = c.hi_request(consentId=g["consentId"])
        t = c.wait_for_transfer(r["transactionId"])
        e = c.hiu_transfer(r["transactionId"], plaintext=True)["entries"]
        print(f"    HIU received {len(e)} entr{'y' if len(e) == 1 else 'ies'}; checksums ok: {all(x['checksumOk'] for x in e)}")
        for x in e:
            b = json.loads(x["plaintext"])
            print(f"      {x['careContextReference']}: FHIR {b['resourceType']} {b['type']}, "
                  f"{len(b['entry'])} resources, Composition '{b['entry'][0]['resource'].get('title')}'")
        show(q(db, "SELECT care_context_ref, care_context_status, entries, bytes, error FROM abdm_hip.transfer_status"))
        print("    one page per record, each with its own key pair and nonce (abdm_hip.transfer_pages):")
        show(q(db, "SELECT page_number, page_count, status, records, bytes, entries_share_key FROM abdm_hip.transfer_pages ORDER BY page_number"))
        print("    gateway notified:", json.dumps(c.requests(route="hi-notify")[0]["body"]["notification"]["statusNotification"]))

        say("6. The consent is revoked: its artefact is deleted and a new request is refused")
        c.consent_notify(status="REVOKED", consentId=g["consentId"], hipId=HIP)
        show(q(db, "SELECT consent_id, status, artefact IS NULL AS artefact_deleted FROM abdm_hip.consent"))
        r2 = c.hi_request(consentId=g["consentId"])
        ack = wait_until(lambda: [a for a in c.requests(route="hi-on-request") if a["body"]["hiRequest"]["transactionId"] == r2["transactionId"]],
                         what="refusal")[0]["body"]
        print("    on-request:", json.dumps(ack))

        say("7. A caller without the gateway's signature is refused (401) and leaves only a trace")
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/api/v3/consent/request/hip/notify", body="{}",
                     headers={"Content-Type": "application/json", "Authorization": "Bearer not.a.token"})
        resp = conn.getresponse()
        print("    forged call →", resp.status, resp.read().decode())
        conn.close()
        show(q(db, """SELECT path, http_status, error ->> 'message' AS reason FROM abdm_hip.inbox_status
                      WHERE http_status = 401 ORDER BY id DESC LIMIT 1"""))

        say("What an operator sees")
        # Once the sender has delivered what is still in flight (the refusal's notify, say).
        wait_until(lambda: q1(db, "SELECT count(*) = 0 AS done FROM abdm_hip.outbox WHERE status = 'pending'")["done"],
                   what="the outbox delivered", timeout=30)
        show(q(db, "SELECT kind, status, attempts, last_http_status, delivery_time FROM abdm_hip.outbox_status ORDER BY id"))
        show(q(db, "SELECT path, http_status, count(*) AS calls FROM abdm_hip.inbox GROUP BY 1, 2 ORDER BY 1, 2"))
    finally:
        env.close()


if __name__ == "__main__":
    main()
