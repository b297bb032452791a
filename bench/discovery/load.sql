-- Discovery at scale, part 1: a facility with 1,000,000 patients and 1,500,000 care contexts in a
-- scratch database (bench/discovery/run). Not part of the test suite.
--   every patient: a unique mobile (60000xxxxx), gender, year of birth, an Indian name;
--   two in three: an ABHA address (pat<n>@sbx); one in three: an ABHA number.
\set ON_ERROR_STOP on
\timing on
CREATE EXTENSION abdm_hip;
INSERT INTO abdm_hip.facility (hip_id, name) VALUES ('IN2710000001', 'Bench General Hospital');

-- What a patient n looks like, for the load and for the requests that find them again.
CREATE FUNCTION bench_name(n int) RETURNS text LANGUAGE sql IMMUTABLE RETURN
  (ARRAY['Aarav','Vivaan','Aditya','Vihaan','Arjun','Sai','Reyansh','Ayaan','Krishna','Ishaan',
         'Ananya','Diya','Aadhya','Saanvi','Pari','Myra','Anika','Navya','Kiara','Meera',
         'Rohan','Kabir','Dev','Ira','Tara','Neha','Pooja','Rahul','Amit','Sunita'])[1 + n % 30]
  || ' ' ||
  (ARRAY['Sharma','Verma','Patel','Iyer','Nair','Reddy','Rao','Gupta','Singh','Kumar',
         'Das','Bose','Menon','Pillai','Joshi','Kulkarni','Desai','Mehta','Shah','Chopra',
         'Malhotra','Kapoor','Banerjee','Mukherjee','Chatterjee','Ghosh','Naidu','Shetty','Hegde','Jain',
         'Agarwal','Bhat','Saxena','Tiwari','Pandey','Mishra','Yadav','Chauhan','Thakur','Gill'])[1 + (n / 30) % 40];
CREATE FUNCTION bench_gender(n int) RETURNS text LANGUAGE sql IMMUTABLE RETURN CASE WHEN n % 2 = 0 THEN 'F' ELSE 'M' END;
CREATE FUNCTION bench_yob(n int) RETURNS int LANGUAGE sql IMMUTABLE RETURN 1940 + n % 70;
CREATE FUNCTION bench_mobile(n int) RETURNS text LANGUAGE sql IMMUTABLE RETURN (6000000000::bigint + n)::text;

-- History loaded as an HMIS would load it: link_pending = false, so the sender does not announce
-- a million old visits.
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile, abha_number, abha_address)
SELECT 'IN2710000001', 'MR' || lpad(n::text, 7, '0'), bench_name(n), bench_gender(n), bench_yob(n),
       CASE WHEN n % 4 = 0 THEN '+91-' ELSE '' END || bench_mobile(n),
       CASE WHEN n % 3 = 0 THEN '91' || lpad(n::text, 12, '0') END,
       CASE WHEN n % 3 <> 2 THEN 'pat' || n || '@sbx' END
FROM generate_series(1, 1000000) n;
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
SELECT 'IN2710000001', 'MR' || lpad(n::text, 7, '0'), 'MR' || lpad(n::text, 7, '0') || '-OPD1', 'OPD visit',
       '{Prescription,OPConsultation}', timestamptz '2024-01-01' + (n % 365) * interval '1 day', false
FROM generate_series(1, 1000000) n;
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
SELECT 'IN2710000001', 'MR' || lpad(n::text, 7, '0'), 'MR' || lpad(n::text, 7, '0') || '-IPD1', 'IPD admission',
       '{DischargeSummary,DiagnosticReport}', timestamptz '2024-06-01' + (n % 180) * interval '1 day', false
FROM generate_series(1, 1000000, 2) n;
VACUUM ANALYZE abdm_hip.patient;
VACUUM ANALYZE abdm_hip.care_context;
SELECT count(*) AS patients FROM abdm_hip.patient;
SELECT count(*) AS care_contexts FROM abdm_hip.care_context;

-- The discover body for patient n, found by its mobile (demographic path) or its ABHA address.
CREATE FUNCTION bench_discover(n int, by_abha boolean) RETURNS jsonb LANGUAGE sql VOLATILE RETURN
  jsonb_build_object('transactionId', gen_random_uuid(), 'patient', jsonb_build_object(
    'id', CASE WHEN by_abha THEN 'pat' || n || '@sbx' ELSE 'new' || n || '@sbx' END,
    'verifiedIdentifiers', CASE WHEN by_abha THEN '[]'::jsonb
                                ELSE jsonb_build_array(jsonb_build_object('type', 'MOBILE', 'value', '+91 ' || bench_mobile(n))) END,
    'unverifiedIdentifiers', '[]'::jsonb,
    'name', bench_name(n), 'gender', bench_gender(n), 'yearOfBirth', bench_yob(n) + 1));
CREATE FUNCTION bench_headers() RETURNS jsonb LANGUAGE sql VOLATILE RETURN
  jsonb_build_object('REQUEST-ID', gen_random_uuid()::text, 'X-HIP-ID', 'IN2710000001',
                     'TIMESTAMP', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));

-- A GRANTED consent notification for patient n's two care contexts (a new consent id each call).
CREATE FUNCTION bench_consent(n int) RETURNS jsonb LANGUAGE sql VOLATILE RETURN (
  WITH c AS (SELECT gen_random_uuid()::text AS id)
  SELECT jsonb_build_object('notification', jsonb_build_object(
    'status', 'GRANTED', 'consentId', c.id, 'signature', 'c2lnbmF0dXJl', 'grantAcknowledgement', false,
    'consentDetail', jsonb_build_object(
      'schemaVersion', 'v3', 'consentId', c.id,
      'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'patient', jsonb_build_object('id', 'bench' || n || '@sbx'),
      'careContexts', jsonb_build_array(
        jsonb_build_object('patientReference', 'MR' || lpad(n::text, 7, '0'), 'careContextReference', 'MR' || lpad(n::text, 7, '0') || '-OPD1'),
        jsonb_build_object('patientReference', 'MR' || lpad(n::text, 7, '0'), 'careContextReference', 'MR' || lpad(n::text, 7, '0') || '-IPD1')),
      'purpose', jsonb_build_object('text', 'Care Management', 'code', 'CAREMGT'),
      'hip', jsonb_build_object('id', 'IN2710000001', 'name', 'Bench General Hospital'),
      'hiu', jsonb_build_object('id', 'HIU-BENCH'),
      'consentManager', jsonb_build_object('id', 'sbx'),
      'hiTypes', jsonb_build_array('OPConsultation', 'Prescription', 'DischargeSummary'),
      'permission', jsonb_build_object('accessMode', 'VIEW',
        'dateRange', jsonb_build_object('from', '2020-01-01T00:00:00.000Z', 'to', '2026-01-01T00:00:00.000Z'),
        'dataEraseAt', '2030-01-01T00:00:00.000Z',
        'frequency', jsonb_build_object('unit', 'HOUR', 'value', 1, 'repeats', 0)))))
  FROM c);
