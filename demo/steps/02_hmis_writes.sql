-- The HMIS registers its facility, patients and visits; the database checks every value.
\pset pager off
INSERT INTO abdm_hip.facility (hip_id, name) VALUES ('IN2710000001', 'City General Hospital');
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_number, abha_address)
VALUES ('IN2710000001', 'MRN-1001', 'Hina Patel', 'F', '1990-04-12', '+91 98000 83232', '91-1783-8610-1731', 'hinapatel@sbx');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
VALUES ('IN2710000001', 'MRN-1001', 'OPD-2024-05-20', 'OPD visit 20 May 2024', '{OPConsultation,Prescription}', '2024-05-20 10:00+05:30');
SELECT * FROM abdm_hip.patient;
SELECT * FROM abdm_hip.care_context;
-- A bad row is refused with a message naming the column (the demo continues past it).
\set ON_ERROR_STOP off
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, mobile)
VALUES ('IN2710000001', 'MRN-1002', 'Ravi Kumar', 'M', '12345');
\set ON_ERROR_STOP on
-- A C++ error inside the extension is an ordinary SQL error; the session goes on.
\set ON_ERROR_STOP off
SELECT abdm_hip.selftest_error_boundary('abdm_error');
\set ON_ERROR_STOP on
SELECT abdm_hip.selftest_error_boundary('live_objects') AS leaked_cpp_objects;
