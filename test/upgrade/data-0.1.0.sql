-- Data a hospital wrote under 0.1.0, through the interfaces 0.1.0 offered: the HMIS tables, the
-- FHIR builder, the client secret and a queued gateway call, and the secrets 0.1.0 kept in clear
-- (a link token, the call that carries it, an OTP waiting for its SMS). test/upgrade/run checks
-- that every row is still there, unchanged, after ALTER EXTENSION abdm_hip UPDATE, with the
-- secrets sealed.
INSERT INTO abdm_hip.facility (hip_id, name) VALUES ('IN2710000001', 'City General Hospital');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_number, abha_address)
VALUES ('IN2710000001', 'MRN-1001', 'Hina Patel', 'F', '1990-04-12', '+91 98000 83232', '91-1783-8610-1731', 'hinapatel@sbx'),
       ('IN2710000001', 'MRN-1002', 'Ravi Kumar', 'M', '1981-01-12', '9818512600', NULL, NULL);
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-2024-05-20', 'OPD visit 20 May 2024', '{OPConsultation,Prescription}', '2024-05-20 10:00+05:30'),
       ('IN2710000001', 'MRN-1002', 'OPD-2024-06-01', 'OPD visit 1 June 2024', '{Prescription}', '2024-06-01 09:00+05:30');
INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
VALUES ('IN2710000001', 'OPD-2024-05-20', 'Prescription', '2024-05-20 10:40+05:30',
        abdm_hip.fhir_document('Prescription', '{"patient": {"ref": "MRN-1001", "name": "Hina Patel", "gender": "F"},
          "practitioner": {"registration": "KMC-55012", "name": "Dr. Anita Sharma"},
          "facility": {"hfr_id": "IN2710000001", "name": "City General Hospital"},
          "document": {"date": "2024-05-20T10:40:00+05:30"},
          "medications": [{"code": "Paracetamol 500 mg tablet", "dosage": "1-1-1 for 3 days"}]}'));
SELECT abdm_hip.set_client_secret('upgrade-test-secret');
SELECT abdm_hip.enqueue('IN2710000001', 'sms_notify2',
  '{"notification": {"phoneNo": "9818512600", "hip": {"name": "City General Hospital", "id": "IN2710000001"}}}');
INSERT INTO abdm_hip.link_token (hip_id, abha_address, status, token, expires_at)
VALUES ('IN2710000001', 'hinapatel@sbx', 'valid', 'eyJhbGciOiJSUzI1NiJ9.upgrade-link-token.c2ln', '2030-01-01 00:00+00');
INSERT INTO abdm_hip.outbox (hip_id, kind, target, headers, body) VALUES
  ('IN2710000001', 'link_carecontext', '/hip/v3/link/carecontext',
   '{"X-HIP-ID": "IN2710000001", "X-LINK-TOKEN": "eyJhbGciOiJSUzI1NiJ9.upgrade-link-token.c2ln"}',
   '{"abhaAddress": "hinapatel@sbx", "patient": []}'),
  ('IN2710000001', 'otp_sms', 'https://sms.hospital.example.test/abdm-otp', '{}',
   '{"mobile": "9818512600", "otp": "493817", "hipId": "IN2710000001",
     "message": "493817 is your OTP to link your health records at City General Hospital."}');
