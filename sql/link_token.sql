-- A refused link-token request, both ways it can be refused, ends in the same state: the core's
-- rule (abdm_hip_internal.link_token_refusal: ABDM-1027 blocked a day, ABDM-1092 the setting
-- abdm_hip.link_token_duplicate_window, ABDM-1022 a minute, each asked again while fewer than 3
-- refusals; anything else an hour, and the links fail) applied by abdm_hip_internal.refuse_link_token,
-- whether the refusal came in the on-generate-token callback or as the answer to the
-- generate-token call (outbox_failed).
SELECT c AS code, abdm_hip_internal.link_token_refusal(c) AS rule
FROM unnest(ARRAY['ABDM-1027', 'ABDM-1092', 'ABDM-1022', 'ABDM-9999', NULL]) c;
-- The third refusal in a row is the last.
SELECT abdm_hip_internal.link_token_refusal('ABDM-1027', 3) ->> 'tryAgain' AS third_1027_tries_again;

INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, abha_address)
VALUES ('IN2710000001', 'LT-1', 'Token One', 'F', 'token.one@sbx'),
       ('IN2710000001', 'LT-2', 'Token Two', 'M', 'token.two@sbx');
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
VALUES ('IN2710000001', 'LT-1', 'LT-1-OPD', 'OPD', '{Prescription}', '2024-01-01', false),
       ('IN2710000001', 'LT-2', 'LT-2-OPD', 'OPD', '{Prescription}', '2024-01-01', false);
INSERT INTO abdm_hip.link_token (hip_id, abha_address, request_id) VALUES
  ('IN2710000001', 'token.one@sbx', 'a1000000-0000-4000-8000-000000000001'),
  ('IN2710000001', 'token.two@sbx', 'a1000000-0000-4000-8000-000000000002');
INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, method) VALUES
  ('IN2710000001', 'LT-1-OPD', 'token.one@sbx', 'hip_initiated'),
  ('IN2710000001', 'LT-2-OPD', 'token.two@sbx', 'hip_initiated');

-- One: the callback says ABDM-1027.
SELECT (abdm_hip.receive('/api/v3/hip/token/on-generate-token',
  jsonb_build_object('REQUEST-ID', 'a2000000-0000-4000-8000-000000000001', 'X-HIP-ID', 'IN2710000001',
                     'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  '{"abhaAddress": "token.one@sbx", "error": {"code": "ABDM-1027", "message": "blocked for 24 hours"},
    "response": {"requestId": "a1000000-0000-4000-8000-000000000001"}}')).status;
-- Two: the generate-token call itself was answered ABDM-1027 and failed for good.
INSERT INTO abdm_hip.outbox (hip_id, kind, target, request_id, body, status, response, last_error)
VALUES ('IN2710000001', 'generate_token', abdm_hip_internal.outbound_path('generate_token'), 'a1000000-0000-4000-8000-000000000002',
        '{}', 'failed', '{"error": {"code": "ABDM-1027", "message": "blocked for 24 hours"}}', 'ABDM-1027: blocked for 24 hours');
SELECT abdm_hip_internal.outbox_failed(o) FROM abdm_hip.outbox o WHERE o.request_id = 'a1000000-0000-4000-8000-000000000002';

SELECT abha_address, status, retry_after - now() BETWEEN interval '23 hours 59 minutes' AND interval '24 hours' AS waits_a_day,
       last_error
FROM abdm_hip.link_token WHERE hip_id = 'IN2710000001' AND abha_address LIKE 'token.%' ORDER BY 1;
-- The links wait for the next request (a day later), they do not fail.
SELECT care_context_ref, status, last_error FROM abdm_hip.care_context_link
WHERE care_context_ref LIKE 'LT-%' ORDER BY 1;
SELECT abha_address, blocked_now, refusals, waiting_links FROM abdm_hip.link_blocks ORDER BY 1;

DELETE FROM abdm_hip.outbox; DELETE FROM abdm_hip.inbox; DELETE FROM abdm_hip.care_context_link;
DELETE FROM abdm_hip.link_token;

-- A token sealed under another server's key (a restore elsewhere, a lost key file): the sender
-- cannot open it and fails the call, saying so. Its links wait again and a new token is asked
-- for; when it comes, they go with it. LT-2 has no year of birth, so no token can be asked for
-- it: its link fails, saying why, and recording the outcomes does not.
UPDATE abdm_hip.patient SET year_of_birth = 1980 WHERE patient_ref = 'LT-1';
INSERT INTO abdm_hip.link_token (hip_id, abha_address, status, token, expires_at)
SELECT 'IN2710000001', a, 'valid', 'abdm-sealed:1:link_token:0123456789abcdef:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
       now() + interval '90 days'
FROM unnest(ARRAY['token.one@sbx', 'token.two@sbx']) a;
INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, method) VALUES
  ('IN2710000001', 'LT-1-OPD', 'token.one@sbx', 'hip_initiated'),
  ('IN2710000001', 'LT-2-OPD', 'token.two@sbx', 'hip_initiated');
SELECT abdm_hip_internal.send_pending_links('IN2710000001', a) AS calls
FROM unnest(ARRAY['token.one@sbx', 'token.two@sbx']) a;
SELECT abdm_hip_internal.outbox_record_batch(jsonb_agg(jsonb_build_object('id', id, 'hip_id', hip_id,
         'outcome', 'failed', 'error', 'sealed value: X-LINK-TOKEN: sealed under key 0123456789abcdef, but this '
                                       'server''s key (abdm_hip.secret_key_file) is 5436b6e51b15097c: copy that key file here, or set the secret again',
         'delay_ms', 0)))
FROM abdm_hip.outbox WHERE kind = 'link_carecontext';
SELECT abha_address, status, token IS NULL AS token_forgotten, request_id IS NOT NULL AS asked_again
FROM abdm_hip.link_token ORDER BY 1;
SELECT care_context_ref, status, request_id IS NULL AS waits_for_a_token, last_error LIKE '%no new link token could be asked for: %' AS says_why
FROM abdm_hip.care_context_link ORDER BY 1;
SELECT kind, status, body ->> 'abhaAddress' AS abha_address FROM abdm_hip.outbox ORDER BY id;
SELECT (abdm_hip.receive('/api/v3/hip/token/on-generate-token',
  jsonb_build_object('REQUEST-ID', 'a2000000-0000-4000-8000-000000000003', 'X-HIP-ID', 'IN2710000001',
                     'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  jsonb_build_object('abhaAddress', 'token.one@sbx', 'linkToken', 'eyJhbGciOiJSUzI1NiJ9.bmV3.c2ln',
                     'response', jsonb_build_object('requestId',
                       (SELECT request_id FROM abdm_hip.link_token WHERE abha_address = 'token.one@sbx'))))).status;
SELECT kind, status, body ->> 'abhaAddress' AS abha_address,
       headers ->> 'X-LINK-TOKEN' LIKE 'abdm-sealed:1:link_token:%' AS sealed_token FROM abdm_hip.outbox ORDER BY id;

DELETE FROM abdm_hip.outbox; DELETE FROM abdm_hip.inbox; DELETE FROM abdm_hip.care_context_link;
DELETE FROM abdm_hip.link_token; DELETE FROM abdm_hip.care_context WHERE patient_ref LIKE 'LT-%';
DELETE FROM abdm_hip.patient WHERE patient_ref LIKE 'LT-%';
