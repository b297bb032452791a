-- User-initiated discovery through abdm_hip.receive() (NHA M2 v2.8 §5.3.2–§5.3.3): who matches,
-- which care contexts are offered, and the exact on-discover body. The gateway role calls
-- receive(); everything else is inspected as the superuser. Patients here are DSC-*, with mobiles
-- and ABHA addresses no other test uses.
\set VERBOSITY terse

-- Headers of a gateway call made now.
CREATE FUNCTION pg_temp.hdr(rid text, hip text DEFAULT 'IN2710000001') RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('REQUEST-ID', rid, 'X-HIP-ID', hip,
                            'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
$$;
-- A discover body.
CREATE FUNCTION pg_temp.discover(tx text, abha text, verified jsonb, unverified jsonb, name text, gender text, yob int)
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('transactionId', tx, 'patient', jsonb_build_object(
    'id', abha, 'verifiedIdentifiers', verified, 'unverifiedIdentifiers', unverified,
    'name', name, 'gender', gender, 'yearOfBirth', yob))
$$;
-- The on-discover queued in answer to REQUEST-ID rid.
CREATE FUNCTION pg_temp.answer(rid text) RETURNS jsonb LANGUAGE sql SECURITY DEFINER AS $$
  SELECT body FROM abdm_hip.outbox WHERE kind = 'on_discover' AND body #>> '{response,requestId}' = rid
$$;
-- Its outcome in one line: matchedBy and the offered care contexts per HI type, or the error.
CREATE FUNCTION pg_temp.summary(rid text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN a ? 'error' THEN (a #>> '{error,code}') || ' ' || (a #>> '{error,message}')
         ELSE 'matchedBy=' || (a ->> 'matchedBy') || ' patient=' || (a #>> '{patient,0,referenceNumber}') || ' ' ||
              (SELECT string_agg((e ->> 'hiType') || ':' || (e ->> 'count') || '[' ||
                        (SELECT string_agg(c ->> 'referenceNumber', ',') FROM jsonb_array_elements(e -> 'careContexts') c)
                        || ']', ' ' ORDER BY ord)
               FROM jsonb_array_elements(a -> 'patient') WITH ORDINALITY x(e, ord)) END
  FROM (SELECT pg_temp.answer(rid) AS a) s
$$;

-- The hospital's patients. Hina has ABHA address and number; Ravi only a mobile; the Sharma
-- twins share a mobile; Kiran's only care context is already linked; Nila has none.
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile, abha_number, abha_address) VALUES
  ('IN2710000001', 'DSC-HINA',  'Hina Patel',   'F', 1990, '+91-6000010001', '91-1111-2222-3301', 'dsc.hina@sbx'),
  ('IN2710000001', 'DSC-RAVI',  'Ravi Kumar',   'M', 1985, '6000010002', NULL, NULL),
  ('IN2710000001', 'DSC-ANIL1', 'Anil Sharma',  'M', 2000, '6000010003', NULL, NULL),
  ('IN2710000001', 'DSC-ANIL2', 'Anil Sharma',  'M', 2001, '6000010003', NULL, NULL),
  ('IN2710000001', 'DSC-KIRAN', 'Kiran Rao',    'O', 1970, '6000010004', NULL, NULL),
  ('IN2710000001', 'DSC-NILA',  'Nila Menon',   'F', 1995, '6000010005', NULL, NULL),
  ('IN2710000002', 'DSC-RAVI-ANNEXE', 'Ravi Kumar', 'M', 1985, '6000010002', NULL, NULL);
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at) VALUES
  ('IN2710000001', 'DSC-HINA', 'DSC-HINA-OPD1', 'OPD visit 03 Oct 2023', '{Prescription}', '2023-10-03'),
  ('IN2710000001', 'DSC-HINA', 'DSC-HINA-IPD1', 'IPD admission 05 Nov 2023', '{DischargeSummary,DiagnosticReport}', '2023-11-05'),
  ('IN2710000001', 'DSC-HINA', 'DSC-HINA-OPD2', 'OPD visit 12 Jan 2024', '{OPConsultation,Prescription}', '2024-01-12'),
  ('IN2710000001', 'DSC-RAVI', 'DSC-RAVI-OPD1', 'OPD visit 01 Feb 2024', '{OPConsultation}', '2024-02-01'),
  ('IN2710000001', 'DSC-ANIL1', 'DSC-ANIL1-OPD1', 'OPD visit 02 Feb 2024', '{Prescription}', '2024-02-02'),
  ('IN2710000001', 'DSC-ANIL2', 'DSC-ANIL2-OPD1', 'OPD visit 03 Feb 2024', '{Prescription}', '2024-02-03'),
  ('IN2710000001', 'DSC-KIRAN', 'DSC-KIRAN-OPD1', 'OPD visit 04 Feb 2024', '{WellnessRecord}', '2024-02-04'),
  ('IN2710000002', 'DSC-RAVI-ANNEXE', 'DSC-RAVI-ANNEXE-OPD1', 'Annexe OPD visit', '{Prescription}', '2024-02-05');
-- Hina's first OPD visit is already linked to her address (the care-context trigger has queued
-- HIP-initiated links for her: 'requested', not linked); Kiran's visit to dsc.kiran@sbx.
INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, status, method, linked_at)
VALUES ('IN2710000001', 'DSC-HINA-OPD1', 'dsc.hina@sbx', 'linked', 'hip_initiated', now()),
       ('IN2710000001', 'DSC-KIRAN-OPD1', 'dsc.kiran@sbx', 'linked', 'hip_initiated', now())
ON CONFLICT (hip_id, care_context_ref, abha_address) DO UPDATE SET status = 'linked', linked_at = now();

SET ROLE regress_gateway;

-- 1. Verified ABHA address (patient.id) and mobile: the exact V3 body, care contexts grouped by HI
--    type, the linked OPD visit left out.
SELECT * FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000001'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000001', 'dsc.hina@sbx',
                   '[{"type": "MOBILE", "value": "+91 60000-10001"}]', '[]', 'Hina Patel', 'F', 1990));
SELECT jsonb_pretty(pg_temp.answer('d1500000-0000-4000-8000-000000000001'));

-- 2. The ABHA number alone identifies her (any case of the address, other demographics ignored:
--    a verified ABHA identity is enough, NHA sandbox discovery flowchart); the visit already
--    linked to dsc.hina@sbx is not offered to this second address.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000002'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000002', 'dsc.hina.new@sbx',
                   '[{"type": "ABHA_NUMBER", "value": "91-1111-2222-3301"}]', '[]', 'H. Patel', 'F', 1979));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000002');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000003'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000003', 'DSC.Hina@SBX', '[]', '[]', 'Hina Patel', 'F', 1990));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000003');

-- 3. Mobile + gender + year of birth within ±5 + similar name (spelling and order differ).
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000004'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000004', 'ravi.k@sbx',
                   '[{"type": "MOBILE", "value": "+91-6000010002"}]', '[]', 'Kumar Ravi', 'M', 1989));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000004');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000005'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000005', 'ravi.k@sbx',
                   '[{"type": "MOBILE", "value": "06000010002"}]', '[]', 'Ravee Kumar', 'M', 1985));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000005');

-- 4. The same mobile with one demographic wrong: no match (ABDM-1010) each time.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000006'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000006', 'ravi.k@sbx',
                   '[{"type": "MOBILE", "value": "6000010002"}]', '[]', 'Ravi Kumar', 'M', 1979));  -- 6 years off
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000006');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000007'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000007', 'ravi.k@sbx',
                   '[{"type": "MOBILE", "value": "6000010002"}]', '[]', 'Ravi Kumar', 'F', 1985));  -- gender
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000007');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000008'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000008', 'ravi.k@sbx',
                   '[{"type": "MOBILE", "value": "6000010002"}]', '[]', 'Suresh Iyer', 'M', 1985));  -- name
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000008');
-- A mobile only as an UNVERIFIED identifier does not count.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000009'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000009', 'ravi.k@sbx',
                   '[]', '[{"type": "MOBILE", "value": "6000010002"}]', 'Ravi Kumar', 'M', 1985));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000009');
-- Nobody at all.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-00000000000a'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000a', 'nobody@sbx',
                   '[{"type": "MOBILE", "value": "6000019999"}]', '[]', 'No Body', 'M', 1985));
SELECT pg_temp.summary('d1500000-0000-4000-8000-00000000000a');

-- 5. MR number (an unverified identifier) + demographics.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-00000000000b'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000b', 'ravi.k@sbx',
                   '[]', '[{"type": "MR", "value": "DSC-RAVI"}]', 'Ravi Kumar', 'M', 1986));
SELECT pg_temp.summary('d1500000-0000-4000-8000-00000000000b');

-- 6. Twins on one mobile: ambiguous (ABDM-1010, nothing offered) ...
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-00000000000c'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000c', 'anil@sbx',
                   '[{"type": "MOBILE", "value": "6000010003"}]', '[]', 'Anil Sharma', 'M', 2000));
SELECT pg_temp.summary('d1500000-0000-4000-8000-00000000000c');
-- ... until the MR number ranks one of them first (two identifiers beat one).
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-00000000000d'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000d', 'anil@sbx',
                   '[{"type": "MOBILE", "value": "6000010003"}]', '[{"type": "MR", "value": "DSC-ANIL2"}]',
                   'Anil Sharma', 'M', 2000));
SELECT pg_temp.summary('d1500000-0000-4000-8000-00000000000d');

-- 7. Matched, but nothing left to offer: every care context linked, or none at all.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-00000000000e'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000e', 'dsc.kiran@sbx',
                   '[{"type": "MOBILE", "value": "6000010004"}]', '[]', 'Kiran Rao', 'O', 1970));
SELECT pg_temp.summary('d1500000-0000-4000-8000-00000000000e');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-00000000000f'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000f', 'nila@sbx',
                   '[{"type": "MOBILE", "value": "6000010005"}]', '[]', 'Nila Menon', 'F', 1995));
SELECT pg_temp.summary('d1500000-0000-4000-8000-00000000000f');
-- Kiran's visit is linked to dsc.kiran@sbx: another address that matches on mobile and
-- demographics (a relative sharing the phone) is not offered it — ABDM-1010.
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000010'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000010', 'kiran.other@sbx',
                   '[{"type": "MOBILE", "value": "6000010004"}]', '[]', 'Kiran Rao', 'O', 1970));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000010');

-- 8. Each facility sees only its own patients (X-HIP-ID).
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000011', 'IN2710000002'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000011', 'ravi.k@sbx',
                   '[{"type": "MOBILE", "value": "6000010002"}]', '[]', 'Ravi Kumar', 'M', 1985));
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000011');

RESET ROLE;

-- What was stored for the link request that follows (errors keep no patient; an ambiguous
-- discovery keeps the identifiers that matched several patients).
SELECT transaction_id, abha_address, patient_ref, care_context_refs, matched_by
FROM abdm_hip.discovery WHERE transaction_id::text LIKE 'd15c0000-%' ORDER BY transaction_id;

-- 9. The same transaction again (new REQUEST-ID): answered from the stored discovery, not
--    re-matched — even though Hina's IPD admission has been linked in between.
INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, status, method, linked_at)
VALUES ('IN2710000001', 'DSC-HINA-IPD1', 'dsc.hina@sbx', 'linked', 'hip_initiated', now())
ON CONFLICT (hip_id, care_context_ref, abha_address) DO UPDATE SET status = 'linked', linked_at = now();
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000012'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000001', 'dsc.hina@sbx',
                   '[{"type": "MOBILE", "value": "+91 60000-10001"}]', '[]', 'Hina Patel', 'F', 1990));
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000013'),
  pg_temp.discover('d15c0000-0000-4000-8000-00000000000c', 'anil@sbx',
                   '[{"type": "MOBILE", "value": "6000010003"}]', '[]', 'Anil Sharma', 'M', 2000));
RESET ROLE;
SELECT pg_temp.answer('d1500000-0000-4000-8000-000000000012') - 'response'
     = pg_temp.answer('d1500000-0000-4000-8000-000000000001') - 'response' AS same_answer_as_first,
       pg_temp.answer('d1500000-0000-4000-8000-000000000013') - 'response'
     = pg_temp.answer('d1500000-0000-4000-8000-00000000000c') - 'response' AS same_error_as_first;
SELECT count(*) AS discoveries_of_tx1 FROM abdm_hip.discovery WHERE transaction_id = 'd15c0000-0000-4000-8000-000000000001';
-- A new transaction sees only what is still unlinked (the OPD visit of January).
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000014'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000014', 'dsc.hina@sbx', '[]', '[]', 'Hina Patel', 'F', 1990));
RESET ROLE;
SELECT pg_temp.summary('d1500000-0000-4000-8000-000000000014');

-- 10. More than 20 care contexts of one HI type: entries of at most 20, exact counts.
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
VALUES ('IN2710000001', 'DSC-MANY', 'Lata Desai', 'F', 1960, '6000010006');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
SELECT 'IN2710000001', 'DSC-MANY', 'DSC-MANY-' || lpad(i::text, 2, '0'), 'OPD visit ' || i, '{Prescription}',
       timestamptz '2024-01-01' + i * interval '1 day'
FROM generate_series(1, 23) i;
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('d1500000-0000-4000-8000-000000000015'),
  pg_temp.discover('d15c0000-0000-4000-8000-000000000015', 'lata@sbx',
                   '[{"type": "MOBILE", "value": "6000010006"}]', '[]', 'Lata Desai', 'F', 1960));
RESET ROLE;
SELECT e ->> 'hiType' AS hi_type, (e ->> 'count')::int AS count, jsonb_array_length(e -> 'careContexts') AS listed,
       e #>> '{careContexts,0,referenceNumber}' AS first
FROM jsonb_array_elements(pg_temp.answer('d1500000-0000-4000-8000-000000000015') -> 'patient') e;

-- Every answer went to the V3 on-discover path, one per discover call that was accepted.
SELECT target, count(*) FROM abdm_hip.outbox WHERE kind = 'on_discover' AND body #>> '{response,requestId}' LIKE 'd1500000-%'
GROUP BY target;
