-- The schema refuses bad rows with a message that names the table and column, and keeps good ones.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET ROLE regress_hmis;

-- A good patient and two care contexts.
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_number, abha_address)
VALUES ('IN2710000001', 'MRN-1001', 'Hina Patel', 'F', '1990-04-12', '+91 98000 83232', '91-1783-8610-1731', 'hinapatel@sbx');
SELECT patient_ref, year_of_birth, abdm_hip.normalize_mobile(mobile) AS mobile FROM abdm_hip.patient WHERE patient_ref LIKE 'MRN-%';
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-2024-05-20', 'OPD visit 20 May 2024', '{OPConsultation,Prescription}', '2024-05-20 10:00+05:30');

-- Bad rows: each message names the column.
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'X');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender) VALUES ('IN2710000001', 'MRN-1002', '  ', 'M');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, mobile) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'M', '12345');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, mobile) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'M', '5987654321');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, abha_number) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'M', '1234567890123');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, abha_address) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'M', 'ab@gmail.com');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, year_of_birth) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'M', '1990-01-01', 1991);
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth) VALUES ('IN2710000001', 'MRN-1002', 'A B', 'M', 1700);
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender) VALUES ('NO-SUCH-HIP', 'MRN-1002', 'A B', 'M');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-X', 'OPD visit', '{OPConsult}');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-X', 'OPD visit', '{}');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-X', '', '{Prescription}');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
VALUES ('IN2710000001', 'MRN-404', 'OPD-X', 'OPD visit', '{Prescription}');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-2024-05-20', 'again', '{Prescription}');
INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
VALUES ('IN2710000001', 'OPD-2024-05-20', 'Prescription', now(), '{"resourceType": "Patient"}');
INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
VALUES ('IN2710000001', 'OPD-2024-05-20', 'Lab', now(), '{"resourceType": "Bundle", "type": "document"}');

-- Nothing of the refused rows was kept.
SELECT count(*) AS patients FROM abdm_hip.patient WHERE patient_ref LIKE 'MRN-%';
SELECT count(*) AS care_contexts FROM abdm_hip.care_context WHERE patient_ref LIKE 'MRN-%';

-- Domains refuse bad values too (for function arguments and wire-filled tables).
SELECT 'abc@sbx'::abdm_hip.abha_address;
SELECT 'hinapatel@sbx'::abdm_hip.abha_address, 'Invoice'::abdm_hip.hi_type, '9800083232'::abdm_hip.mobile;
SELECT 'Lab'::abdm_hip.hi_type;
SELECT '12'::abdm_hip.abha_number;
SELECT abdm_hip.normalize_mobile(m) FROM unnest(ARRAY['+91-98000-83232', '919800083232', '09800083232', '98000 83232', '1800083232']) AS m;
RESET ROLE;
