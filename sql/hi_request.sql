-- Health-information requests through abdm_hip.receive(): each refusal with its ABDM code and a
-- message naming the field, and an accepted request. The decision is the core's
-- (core/abdm/hi_request_check, called through abdm_hip_internal.check_hi_request); this test pins what the
-- gateway is told, including a consent granted to another HIP of this database (ABDM-1035, where
-- the handler once answered ABDM-1001 while the core said ABDM-1035).
\set VERBOSITY terse

CREATE FUNCTION pg_temp.call(path text, rid text, body jsonb, hip text DEFAULT 'IN2710000001') RETURNS int
LANGUAGE sql AS $$
  SELECT (abdm_hip.receive(path, jsonb_build_object('REQUEST-ID', rid, 'X-HIP-ID', hip,
            'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), body)).status
$$;
CREATE FUNCTION pg_temp.grant_consent(rid text, consent text, hip text, date_from text, date_to text, erase text)
RETURNS int LANGUAGE sql AS $$
  SELECT pg_temp.call('/api/v3/consent/request/hip/notify', rid, jsonb_build_object('notification', jsonb_build_object(
    'status', 'GRANTED', 'consentId', consent, 'consentDetail', jsonb_build_object(
      'schemaVersion', 'v3', 'consentId', consent, 'createdAt', '2024-01-01T00:00:00.000Z',
      'patient', jsonb_build_object('id', 'hina@sbx'),
      'careContexts', jsonb_build_array(jsonb_build_object('patientReference', 'HR-1', 'careContextReference', 'HR-1-OPD')),
      'purpose', jsonb_build_object('text', 'Care Management', 'code', 'CAREMGT'),
      'hip', jsonb_build_object('id', hip), 'hiu', jsonb_build_object('id', 'HIU-1'),
      'hiTypes', jsonb_build_array('Prescription'),
      'permission', jsonb_build_object('accessMode', 'VIEW',
        'dateRange', jsonb_build_object('from', date_from, 'to', date_to), 'dataEraseAt', erase,
        'frequency', jsonb_build_object('unit', 'HOUR', 'value', 1, 'repeats', 0))))), hip)
$$;
CREATE FUNCTION pg_temp.request(rid text, tx text, consent text, date_from text DEFAULT '2023-01-01T00:00:00.000Z',
  date_to text DEFAULT '2023-06-01T00:00:00.000Z', key_expiry text DEFAULT '2099-01-01T00:00:00.000Z',
  key text DEFAULT abdm_hip.fidelius_generate_key_material() ->> 'x509PublicKey')
RETURNS int LANGUAGE sql AS $$
  SELECT pg_temp.call('/api/v3/hip/health-information/request', rid, jsonb_build_object(
    'transactionId', tx, 'hiRequest', jsonb_build_object(
      'consent', jsonb_build_object('id', consent),
      'dateRange', jsonb_build_object('from', date_from, 'to', date_to),
      'dataPushUrl', 'https://hiu.example.test/data/push',
      'keyMaterial', jsonb_build_object('cryptoAlg', 'ECDH', 'curve', 'Curve25519',
        'dhPublicKey', jsonb_build_object('expiry', key_expiry, 'parameters', 'Curve25519/32byte random key', 'keyValue', key),
        'nonce', '3s2ZEfpKVq7x4mAv7Xn0M0ZvT0WvWZ2Y6sJxVtYQe6I='))))
$$;

INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, mobile)
VALUES ('IN2710000001', 'HR-1', 'Hina Rao', 'F', '9800011122');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
VALUES ('IN2710000001', 'HR-1', 'HR-1-OPD', 'OPD visit', '{Prescription}', '2023-03-01', false);

-- Consents: one granted to this HIP, one granted to the annexe (another HIP of this database),
-- one granted and then revoked, one past its dataEraseAt.
SELECT pg_temp.grant_consent('c0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000001',
       'IN2710000001', '2023-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z') AS granted;
SELECT pg_temp.grant_consent('c0000000-0000-4000-8000-000000000002', 'c1000000-0000-4000-8000-000000000002',
       'IN2710000002', '2023-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z') AS annexe;
SELECT pg_temp.grant_consent('c0000000-0000-4000-8000-000000000003', 'c1000000-0000-4000-8000-000000000003',
       'IN2710000001', '2023-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z') AS to_revoke;
SELECT pg_temp.call('/api/v3/consent/request/hip/notify', 'c0000000-0000-4000-8000-000000000004',
       '{"notification": {"status": "REVOKED", "consentId": "c1000000-0000-4000-8000-000000000003"}}') AS revoked;
SELECT pg_temp.grant_consent('c0000000-0000-4000-8000-000000000005', 'c1000000-0000-4000-8000-000000000005',
       'IN2710000001', '2023-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z') AS erased;

-- One request per case. Every one is acknowledged (202) and answered in on-request, ERRORED with
-- the reason where its content is wrong: a reversed range and a key that does not decode too, so
-- the HIU learns why (a bare 400 is for a message with no transaction to answer to). The bad key
-- is 65 bytes of base64 but no point of the curve; the short key is not a key's length.
SELECT pg_temp.request('d0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001',
                       'c1000000-0000-4000-8000-000000000001') AS accepted,
       pg_temp.request('d0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000002',
                       'c1000000-0000-4000-8000-0000000000ff') AS unknown,
       pg_temp.request('d0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000003',
                       'c1000000-0000-4000-8000-000000000002') AS other_hip,
       pg_temp.request('d0000000-0000-4000-8000-000000000004', 'a0000000-0000-4000-8000-000000000004',
                       'c1000000-0000-4000-8000-000000000003') AS revoked,
       pg_temp.request('d0000000-0000-4000-8000-000000000005', 'a0000000-0000-4000-8000-000000000005',
                       'c1000000-0000-4000-8000-000000000005') AS erased,
       pg_temp.request('d0000000-0000-4000-8000-000000000006', 'a0000000-0000-4000-8000-000000000006',
                       'c1000000-0000-4000-8000-000000000001', '2022-12-31T00:00:00.000Z') AS early,
       pg_temp.request('d0000000-0000-4000-8000-000000000007', 'a0000000-0000-4000-8000-000000000007',
                       'c1000000-0000-4000-8000-000000000001', '2023-06-01T00:00:00.000Z', '2023-01-01T00:00:00.000Z') AS reversed,
       pg_temp.request('d0000000-0000-4000-8000-000000000008', 'a0000000-0000-4000-8000-000000000008',
                       'c1000000-0000-4000-8000-000000000001', key_expiry => '2020-01-01T00:00:00.000Z') AS old_key,
       pg_temp.request('d0000000-0000-4000-8000-000000000009', 'a0000000-0000-4000-8000-000000000009',
                       'c1000000-0000-4000-8000-000000000001',
                       key => 'BEGqkwANHLGjs8R12bsAb0ynfnl5+S6JS5tCOc6CRVqxNzlr8sJRZAmtDyIHQmpsRvqMrWNanwgf1T7iyE2mNys=') AS bad_key,
       pg_temp.request('d0000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-00000000000a',
                       'c1000000-0000-4000-8000-000000000001', key => 'AAAA') AS short_key;
SELECT request_id, http_status, response #>> '{error,code}' AS code, response #>> '{error,message}' AS message
FROM abdm_hip.inbox WHERE http_status <> 202 ORDER BY request_id;

-- What each on-request said, and what was recorded.
SELECT r.transaction_id, r.status, o.body #>> '{hiRequest,sessionStatus}' AS session_status,
       o.body #>> '{error,code}' AS code, o.body #>> '{error,message}' AS message
FROM abdm_hip.hi_request r
JOIN abdm_hip.outbox o ON o.kind = 'hi_on_request' AND o.body #>> '{hiRequest,transactionId}' = r.transaction_id::text
ORDER BY r.transaction_id;

-- Every refusal is followed by a FAILED transfer notification; nothing for the accepted one yet.
SELECT body #>> '{notification,transactionId}' AS transaction_id,
       body #>> '{notification,statusNotification,sessionStatus}' AS session_status
FROM abdm_hip.outbox WHERE kind = 'hi_notify' ORDER BY 1;

-- The check itself, from SQL: arguments it cannot do without are named, and it decides only on
-- the request receive() is handling (parsed once, by receive()), never on one from elsewhere.
SELECT abdm_hip_internal.check_hi_request(NULL, NULL, NULL, NULL, NULL, NULL, NULL, now());
SELECT abdm_hip_internal.check_hi_request('IN2710000001', 'd0000000-0000-4000-8000-000000000001',
                                 NULL, NULL, NULL, NULL, NULL, now());

DELETE FROM abdm_hip.outbox; DELETE FROM abdm_hip.hi_request; DELETE FROM abdm_hip.consent;
DELETE FROM abdm_hip.inbox;
DELETE FROM abdm_hip.care_context WHERE patient_ref = 'HR-1'; DELETE FROM abdm_hip.patient WHERE patient_ref = 'HR-1';
