-- User-initiated linking through abdm_hip.receive() (NHA M2 v2.8 §5.3.6–§5.3.11): link init
-- checked against the stored discovery, an OTP kept only as a salted hash and delivered by the
-- SMS hook and NOTIFY, link confirm with its four refusals, and the links it makes. Patients
-- here are LNK-*. The test knows an OTP the way the patient does: from the SMS hook's outbox row
-- (section 7), or by setting a known one's hash as the superuser (abdm_hip_internal.otp_hash('135790')).
\set VERBOSITY terse

CREATE FUNCTION pg_temp.hdr(rid text, hip text DEFAULT 'IN2710000001') RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('REQUEST-ID', rid, 'X-HIP-ID', hip,
                            'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
$$;
CREATE FUNCTION pg_temp.answer(kind text, rid text) RETURNS jsonb LANGUAGE sql SECURITY DEFINER AS $$
  SELECT body FROM abdm_hip.outbox WHERE outbox.kind = answer.kind AND body #>> '{response,requestId}' = rid
$$;
-- An on-init with its two run-dependent values (link reference, expiry) replaced by checks.
CREATE FUNCTION pg_temp.on_init(rid text) RETURNS jsonb LANGUAGE sql SECURITY DEFINER AS $$
  SELECT CASE WHEN a ? 'link' THEN
    jsonb_set(jsonb_set(a, '{link,referenceNumber}',
      to_jsonb(CASE WHEN EXISTS (SELECT 1 FROM abdm_hip.link_request r
                                 WHERE r.link_ref::text = a #>> '{link,referenceNumber}' AND r.request_id = rid::uuid)
                    THEN '<link_ref of the new link_request>' ELSE 'UNEXPECTED ' || (a #>> '{link,referenceNumber}') END)),
      '{link,meta,communicationExpiry}',
      to_jsonb(CASE WHEN (SELECT r.otp_expires_at FROM abdm_hip.link_request r
                          WHERE r.link_ref::text = a #>> '{link,referenceNumber}')
                         = (a #>> '{link,meta,communicationExpiry}')::timestamptz
                    THEN '<otp_expires_at of the link_request>' ELSE 'UNEXPECTED ' || (a #>> '{link,meta,communicationExpiry}') END))
  ELSE a END
  FROM (SELECT pg_temp.answer('on_init', rid) AS a) s
$$;
CREATE FUNCTION pg_temp.init(tx text, abha text, patient jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('transactionId', tx, 'abhaAddress', abha, 'patient', patient)
$$;
CREATE FUNCTION pg_temp.confirm(link_ref text, otp text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('confirmation', jsonb_build_object('linkRefNumber', link_ref, 'token', otp))
$$;
-- The on-confirm's outcome in one line.
CREATE FUNCTION pg_temp.confirmed(rid text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN a ? 'error' THEN (a #>> '{error,code}') || ' ' || (a #>> '{error,message}')
         ELSE 'linked ' || (SELECT string_agg((e ->> 'hiType') || ':' || (e ->> 'count') || '[' ||
                              (SELECT string_agg(c ->> 'referenceNumber', ',') FROM jsonb_array_elements(e -> 'careContexts') c)
                              || ']', ' ' ORDER BY ord)
                            FROM jsonb_array_elements(a -> 'patient') WITH ORDINALITY x(e, ord)) END
  FROM (SELECT pg_temp.answer('on_confirm', rid) AS a) s
$$;

-- ---- 0. The SQL wrappers over the core ---------------------------------------------------
SELECT abdm_hip_internal.otp_generate() ~ '^[0-9]{6}$' AS six_digits,
       (SELECT count(DISTINCT abdm_hip_internal.otp_generate()) FROM generate_series(1, 200)) > 150 AS not_repeating;
SELECT h1 ~ '^v1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$' AS hash_shape, h1 <> h2 AS salted,
       abdm_hip_internal.otp_verify('024680', h1) AS right_otp, abdm_hip_internal.otp_verify('024681', h1) AS wrong_otp,
       abdm_hip_internal.otp_verify('024680', 'garbage') AS bad_hash
FROM (SELECT abdm_hip_internal.otp_hash('024680') AS h1, abdm_hip_internal.otp_hash('024680') AS h2) s;
SELECT abdm_hip_internal.mask_mobile('+91-9800083232') AS plus91, abdm_hip_internal.mask_mobile('098000 83232') AS zero_prefix;
SELECT abdm_hip_internal.mask_mobile('12345');
SELECT o AS case, abdm_hip_internal.check_link_confirm(otp, hash, expires, attempts, 3, now()) AS verdict
FROM (VALUES ('right', '135790', abdm_hip_internal.otp_hash('135790'), now() + interval '5 min', 0),
             ('wrong', '135791', abdm_hip_internal.otp_hash('135790'), now() + interval '5 min', 1),
             ('expired', '135790', abdm_hip_internal.otp_hash('135790'), now() - interval '1 s', 0),
             ('exhausted', '135790', abdm_hip_internal.otp_hash('135790'), now() + interval '5 min', 3),
             ('unknown', '135790', NULL, NULL, NULL)) v(o, otp, hash, expires, attempts);
SELECT abdm_hip_internal.check_link_confirm(NULL, NULL, NULL, NULL, 3, now());
-- The matching takes the discover request as inbound_check parsed it, in the same transaction
-- (receive()'s handler does exactly this); outside it there is no request to match.
WITH chk AS MATERIALIZED (
  SELECT abdm_hip_internal.inbound_check('/api/v3/hip/patient/care-context/discover',
    pg_temp.hdr('0c0c0c0c-0000-4000-8000-0000000000aa'),
    '{"transactionId": "0c0c0c0c-0000-4000-8000-000000000001", "patient": {"id": "x@sbx", "name": "Hina Patel",
      "gender": "F", "yearOfBirth": 1990, "verifiedIdentifiers": [{"type": "MOBILE", "value": "9800083232"}]}}') ->> 'ok' AS ok)
SELECT ok, abdm_hip_internal.match_patients('IN2710000001', '0c0c0c0c-0000-4000-8000-0000000000aa',
  '[{"patientRef": "P1", "name": "Heena Patel", "gender": "F", "yearOfBirth": 1992, "mobile": "+91-9800083232"},
    {"patientRef": "P2", "name": "Hina Patel", "gender": "F", "yearOfBirth": 1970, "mobile": "9800083232"}]', 5, 0.6)
  - 'nameScore' - 'ranked' AS match
FROM chk;
SELECT abdm_hip_internal.match_patients('IN2710000001', '0c0c0c0c-0000-4000-8000-0000000000aa', '[]', 5, 0.6);

-- ---- the hospital's side -----------------------------------------------------------------
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile) VALUES
  ('IN2710000001', 'LNK-MEERA', 'Meera Iyer', 'F', 1992, '+91 60000-30001'),
  ('IN2710000001', 'LNK-ARJUN', 'Arjun Nair', 'M', 1980, '6000030002');
-- Known by ABHA address only: nowhere to send an OTP.
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
VALUES ('IN2710000001', 'LNK-NOMOBILE', 'Zoya Khan', 'F', 1999, 'lnk.zoya@sbx');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at) VALUES
  ('IN2710000001', 'LNK-MEERA', 'LNK-MEERA-OPD1', 'OPD visit 10 Mar 2024', '{Prescription}', '2024-03-10'),
  ('IN2710000001', 'LNK-MEERA', 'LNK-MEERA-IPD1', 'IPD admission 02 Apr 2024', '{DischargeSummary,DiagnosticReport}', '2024-04-02'),
  ('IN2710000001', 'LNK-MEERA', 'LNK-MEERA-OPD2', 'OPD visit 20 May 2024', '{Prescription}', '2024-05-20'),
  ('IN2710000001', 'LNK-ARJUN', 'LNK-ARJUN-OPD1', 'OPD visit 21 May 2024', '{OPConsultation}', '2024-05-21'),
  ('IN2710000001', 'LNK-NOMOBILE', 'LNK-NOMOBILE-OPD1', 'OPD visit 22 May 2024', '{Prescription}', '2024-05-22');

-- Meera discovers her records (transaction 1); Arjun his (transaction 9); Zoya hers
-- (transaction 7); and a discovery that found nobody (transaction 8).
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('11c00000-0000-4000-8000-000000000001'),
  '{"transactionId": "11cc0000-0000-4000-8000-000000000001", "patient": {"id": "meera@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000030001"}], "name": "Meera Iyer", "gender": "F", "yearOfBirth": 1992}}');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('11c00000-0000-4000-8000-000000000007'),
  '{"transactionId": "11cc0000-0000-4000-8000-000000000007", "patient": {"id": "lnk.zoya@sbx",
    "verifiedIdentifiers": [], "name": "Zoya Khan", "gender": "F", "yearOfBirth": 1999}}');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('11c00000-0000-4000-8000-000000000008'),
  '{"transactionId": "11cc0000-0000-4000-8000-000000000008", "patient": {"id": "meera@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000030999"}], "name": "Meera Iyer", "gender": "F", "yearOfBirth": 1992}}');
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('11c00000-0000-4000-8000-000000000009'),
  '{"transactionId": "11cc0000-0000-4000-8000-000000000009", "patient": {"id": "arjun@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000030002"}], "name": "Arjun Nair", "gender": "M", "yearOfBirth": 1980}}');
RESET ROLE;
SELECT transaction_id, patient_ref, care_context_refs FROM abdm_hip.discovery
WHERE transaction_id::text LIKE '11cc0000-%' ORDER BY transaction_id;

-- ---- 1. Link init refused: each problem its own on-init error, nothing stored -----------------
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000001'),
  pg_temp.init('11cc0000-0000-4000-8000-0000000000ff', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}]}]'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000002'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000008', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}]}]'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000003'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000001', 'someone.else@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}]}]'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000004'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000001', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}]},
                 {"referenceNumber": "LNK-ARJUN", "careContexts": [{"referenceNumber": "LNK-ARJUN-OPD1"}]}]'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000005'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000001', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"},
                                                                   {"referenceNumber": "LNK-ARJUN-OPD1"}]}]'));
-- No mobile on file for the OTP.
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000007'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000007', 'lnk.zoya@sbx',
               '[{"referenceNumber": "LNK-NOMOBILE", "careContexts": [{"referenceNumber": "LNK-NOMOBILE-OPD1"}]}]'));
-- The transaction belongs to the HIP that discovered it.
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000006', 'IN2710000002'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000001', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}]}]'));
RESET ROLE;
SELECT r AS request_id, pg_temp.answer('on_init', r) #>> '{error,code}' AS code, pg_temp.answer('on_init', r) #>> '{error,message}' AS message,
       pg_temp.answer('on_init', r) ? 'link' AS has_link
FROM unnest(ARRAY['11a00000-0000-4000-8000-000000000001', '11a00000-0000-4000-8000-000000000002',
                  '11a00000-0000-4000-8000-000000000003', '11a00000-0000-4000-8000-000000000004',
                  '11a00000-0000-4000-8000-000000000005', '11a00000-0000-4000-8000-000000000006',
                  '11a00000-0000-4000-8000-000000000007']) r;
SELECT jsonb_pretty(pg_temp.answer('on_init', '11a00000-0000-4000-8000-000000000005'));
SELECT count(*) AS link_requests FROM abdm_hip.link_request WHERE patient_ref LIKE 'LNK-%';

-- ---- 2. Link init accepted (one care context listed under two HI types, as V3 sends it) -------
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000010'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000001', 'meera@sbx',
    '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}], "hiType": "Prescription", "count": 1},
      {"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-IPD1"}], "hiType": "DischargeSummary", "count": 1},
      {"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-IPD1"}], "hiType": "DiagnosticReport", "count": 1}]'));
RESET ROLE;
SELECT jsonb_pretty(pg_temp.on_init('11a00000-0000-4000-8000-000000000010'));
-- The link request: the OTP only as a salted hash, 10 minutes, 3 attempts; no column holds it in clear.
SELECT transaction_id, abha_address, patient_ref, care_context_refs, otp_hash ~ '^v1\$' AS hashed,
       round(extract(epoch FROM otp_expires_at - created_at)) AS valid_for_s, attempts, max_attempts, status
FROM abdm_hip.link_request WHERE request_id = '11a00000-0000-4000-8000-000000000010';
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'abdm_hip' AND table_name = 'link_request' AND column_name LIKE '%otp%' ORDER BY 1;
-- No SMS hook configured (unless the cluster running this test has one): no otp_sms row (the
-- NOTIFY alone carries the OTP).
SELECT count(*) = CASE WHEN current_setting('abdm_hip.otp_sms_url') = '' THEN 0 ELSE 1 END AS otp_sms_rows_as_configured
FROM abdm_hip.outbox WHERE kind = 'otp_sms';
-- The patient's phone receives 135790 (the test sets the hash of a known OTP).
UPDATE abdm_hip.link_request SET otp_hash = abdm_hip_internal.otp_hash('135790') WHERE request_id = '11a00000-0000-4000-8000-000000000010';
SELECT link_ref AS lref1 FROM abdm_hip.link_request WHERE request_id = '11a00000-0000-4000-8000-000000000010' \gset

-- The same init again (its on-init lost): the same link reference, no second request or OTP.
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000011'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000001', 'meera@sbx',
    '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD1"}], "hiType": "Prescription", "count": 1},
      {"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-IPD1"}], "hiType": "DischargeSummary", "count": 1},
      {"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-IPD1"}], "hiType": "DiagnosticReport", "count": 1}]'));
RESET ROLE;
SELECT pg_temp.answer('on_init', '11a00000-0000-4000-8000-000000000011') #>> '{link,referenceNumber}' = :'lref1' AS same_link_ref,
       (SELECT count(*) FROM abdm_hip.link_request WHERE transaction_id = '11cc0000-0000-4000-8000-000000000001') AS link_requests;

-- ---- 3. Link confirm refused ------------------------------------------------------------
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000001'),
  pg_temp.confirm('11ffffff-0000-4000-8000-000000000001', '135790'));    -- no such link reference
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000002'),
  pg_temp.confirm('LINK-REF-1', '135790'));                               -- not even a UUID
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000003', 'IN2710000002'),
  pg_temp.confirm(:'lref1', '135790'));                                   -- another HIP's reference
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000004'),
  pg_temp.confirm(:'lref1', '135791'));                                   -- wrong OTP
RESET ROLE;
SELECT r AS request_id, pg_temp.confirmed(r) AS answer
FROM unnest(ARRAY['11f00000-0000-4000-8000-000000000001', '11f00000-0000-4000-8000-000000000002',
                  '11f00000-0000-4000-8000-000000000003', '11f00000-0000-4000-8000-000000000004']) r;
SELECT jsonb_pretty(pg_temp.answer('on_confirm', '11f00000-0000-4000-8000-000000000004'));
-- The wrong OTP was counted (the handler returned normally, so the count committed).
SELECT attempts, status FROM abdm_hip.link_request WHERE link_ref = :'lref1';
SELECT count(*) AS links FROM abdm_hip.care_context_link WHERE abha_address = 'meera@sbx';

-- ---- 4. Link confirm with the right OTP -------------------------------------------------
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000005'),
  pg_temp.confirm(:'lref1', '135790'));
RESET ROLE;
SELECT jsonb_pretty(pg_temp.answer('on_confirm', '11f00000-0000-4000-8000-000000000005'));
SELECT care_context_ref, abha_address, status, method, hi_types_notified, linked_at IS NOT NULL AS has_linked_at
FROM abdm_hip.care_context_link WHERE abha_address = 'meera@sbx' ORDER BY care_context_ref;
SELECT attempts, status, confirmed_at IS NOT NULL AS confirmed FROM abdm_hip.link_request WHERE link_ref = :'lref1';
-- The HMIS had no ABHA address for Meera: it now has the one she linked with (this discovery
-- carried no ABHA number, so none is filled).
SELECT patient_ref, abha_address, abha_number FROM abdm_hip.patient WHERE patient_ref = 'LNK-MEERA';
-- The OTP the patient typed is not kept in the inbox.
SELECT DISTINCT body #>> '{confirmation,token}' AS stored_token FROM abdm_hip.inbox
WHERE kind = 'link_confirm' AND request_id::text LIKE '11f00000-%';

-- The same confirm again (new REQUEST-ID, its on-confirm lost): the same answer, nothing new;
-- with another OTP: refused as a used reference.
SELECT count(*) AS outbox_before FROM abdm_hip.outbox \gset
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000006'),
  pg_temp.confirm(:'lref1', '135790'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000007'),
  pg_temp.confirm(:'lref1', '000000'));
-- And the very same delivery again (same REQUEST-ID): the same reply, nothing queued.
SELECT status, body FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000005'),
  pg_temp.confirm(:'lref1', '135790'));
RESET ROLE;
SELECT pg_temp.answer('on_confirm', '11f00000-0000-4000-8000-000000000006') - 'response'
     = pg_temp.answer('on_confirm', '11f00000-0000-4000-8000-000000000005') - 'response' AS same_answer,
       pg_temp.confirmed('11f00000-0000-4000-8000-000000000007') AS other_otp,
       (SELECT count(*) FROM abdm_hip.outbox) - :outbox_before AS queued;
SELECT count(*) AS links, count(*) FILTER (WHERE status = 'linked') AS linked
FROM abdm_hip.care_context_link WHERE abha_address = 'meera@sbx';

-- A new discovery now offers only the care context not yet linked.
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('11c00000-0000-4000-8000-000000000002'),
  '{"transactionId": "11cc0000-0000-4000-8000-000000000002", "patient": {"id": "meera@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000030001"}], "name": "Meera Iyer", "gender": "F", "yearOfBirth": 1992}}');
RESET ROLE;
SELECT care_context_refs FROM abdm_hip.discovery WHERE transaction_id = '11cc0000-0000-4000-8000-000000000002';

-- ---- 5. Too many attempts: the third wrong OTP locks the request; even the right one is refused
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000020'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000002', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD2"}]}]'));
RESET ROLE;
UPDATE abdm_hip.link_request SET otp_hash = abdm_hip_internal.otp_hash('246800') WHERE request_id = '11a00000-0000-4000-8000-000000000020';
SELECT link_ref AS lref2 FROM abdm_hip.link_request WHERE request_id = '11a00000-0000-4000-8000-000000000020' \gset
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000021'), pg_temp.confirm(:'lref2', '111111'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000022'), pg_temp.confirm(:'lref2', '222222'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000023'), pg_temp.confirm(:'lref2', '333333'));
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000024'), pg_temp.confirm(:'lref2', '246800'));
RESET ROLE;
SELECT r AS request_id, pg_temp.confirmed(r) AS answer
FROM unnest(ARRAY['11f00000-0000-4000-8000-000000000021', '11f00000-0000-4000-8000-000000000022',
                  '11f00000-0000-4000-8000-000000000023', '11f00000-0000-4000-8000-000000000024']) r;
SELECT attempts, status FROM abdm_hip.link_request WHERE link_ref = :'lref2';
-- A locked request is not re-used by a repeated init: a new link reference and OTP.
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000030'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000002', 'meera@sbx',
               '[{"referenceNumber": "LNK-MEERA", "careContexts": [{"referenceNumber": "LNK-MEERA-OPD2"}]}]'));
RESET ROLE;
SELECT pg_temp.answer('on_init', '11a00000-0000-4000-8000-000000000030') #>> '{link,referenceNumber}' <> :'lref2' AS new_link_ref,
       (SELECT count(*) FROM abdm_hip.link_request WHERE transaction_id = '11cc0000-0000-4000-8000-000000000002') AS link_requests;

-- ---- 6. Expired OTP -------------------------------------------------------------------------
UPDATE abdm_hip.link_request SET otp_hash = abdm_hip_internal.otp_hash('864200'), otp_expires_at = now() - interval '1 second'
WHERE request_id = '11a00000-0000-4000-8000-000000000030';
SELECT link_ref AS lref3 FROM abdm_hip.link_request WHERE request_id = '11a00000-0000-4000-8000-000000000030' \gset
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000031'), pg_temp.confirm(:'lref3', '864200'));
RESET ROLE;
SELECT pg_temp.confirmed('11f00000-0000-4000-8000-000000000031') AS answer;
SELECT attempts, status FROM abdm_hip.link_request WHERE link_ref = :'lref3';
SELECT count(*) AS opd2_links FROM abdm_hip.care_context_link WHERE care_context_ref = 'LNK-MEERA-OPD2';

-- ---- 7. The SMS hook: the sender posts the OTP to abdm_hip.otp_sms_url; once sent, the row
--         forgets it. (A reloadable setting: set for this test only, then put back.)
SELECT current_setting('abdm_hip.otp_sms_url') AS saved_sms_url, current_setting('abdm_hip.otp_sms_url') = '' AS sms_url_unset \gset
-- A URL without a scheme is refused when it is set (the setting's check), not when an OTP needs it.
ALTER SYSTEM SET abdm_hip.otp_sms_url = 'sms.hospital.example.test/abdm-otp';
ALTER SYSTEM SET abdm_hip.otp_sms_url = 'https://sms.hospital.example.test/abdm-otp';
SELECT pg_reload_conf();
SELECT pg_sleep(1);
SHOW abdm_hip.otp_sms_url;
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr('11a00000-0000-4000-8000-000000000090'),
  pg_temp.init('11cc0000-0000-4000-8000-000000000009', 'arjun@sbx',
               '[{"referenceNumber": "LNK-ARJUN", "careContexts": [{"referenceNumber": "LNK-ARJUN-OPD1"}]}]'));
RESET ROLE;
SELECT pg_temp.on_init('11a00000-0000-4000-8000-000000000090') #>> '{link,meta,communicationHint}' AS hint;
SELECT o.hip_id, o.target, o.status, o.headers, o.body ->> 'mobile' AS mobile, o.body ->> 'hipId' AS hip,
       o.body ->> 'linkRefNumber' = r.link_ref::text AS link_ref_matches,
       -- The OTP and the message that holds it wait for the sender sealed (17_sealed_secrets.sql);
       -- only the sender opens them, as it calls the hook (test/cert USER_INIT_LINK_605 sees
       -- the digits arrive).
       o.body ->> 'otp' LIKE 'abdm-sealed:1:otp:%' AS otp_sealed,
       o.body ->> 'message' LIKE 'abdm-sealed:1:otp:%' AS message_sealed
FROM abdm_hip.outbox o JOIN abdm_hip.link_request r ON r.request_id = '11a00000-0000-4000-8000-000000000090'
WHERE o.kind = 'otp_sms' AND o.target = 'https://sms.hospital.example.test/abdm-otp';
-- The patient confirms, sent as ABDM's examples send an OTP: a JSON number, whose leading zeros
-- are restored. No SQL opens the sealed OTP, so the test gives this link request an OTP of its
-- own, one with a leading zero, and confirms with 12345 for 012345.
SELECT body ->> 'linkRefNumber' AS lref4 FROM abdm_hip.outbox
WHERE kind = 'otp_sms' AND target = 'https://sms.hospital.example.test/abdm-otp' \gset
UPDATE abdm_hip.link_request SET otp_hash = abdm_hip_internal.otp_hash('012345') WHERE link_ref = :'lref4';
SET ROLE regress_gateway;
SELECT status FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr('11f00000-0000-4000-8000-000000000091'),
  jsonb_build_object('confirmation', jsonb_build_object('linkRefNumber', :'lref4', 'token', 12345)));
RESET ROLE;
SELECT pg_temp.confirmed('11f00000-0000-4000-8000-000000000091') AS answer;
-- The sender reports the SMS sent: the OTP and the message leave the row.
SELECT abdm_hip_internal.outbox_record_batch(jsonb_agg(jsonb_build_object('id', id, 'hip_id', hip_id,
         'outcome', 'sent', 'http_status', 200, 'response', '{"accepted": true}'::jsonb, 'delay_ms', 0)))
FROM abdm_hip.outbox WHERE kind = 'otp_sms' AND target = 'https://sms.hospital.example.test/abdm-otp';
SELECT status, body ? 'otp' AS has_otp, body ? 'message' AS has_message, body - 'linkRefNumber' AS body
FROM abdm_hip.outbox WHERE kind = 'otp_sms' AND target = 'https://sms.hospital.example.test/abdm-otp';
\if :sms_url_unset
ALTER SYSTEM RESET abdm_hip.otp_sms_url;
\else
ALTER SYSTEM SET abdm_hip.otp_sms_url = :'saved_sms_url';
\endif
SELECT pg_reload_conf();
