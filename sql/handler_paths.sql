-- The handlers read the parsed message through JSON paths (msg ->> 'transactionId'); nothing in
-- PL/pgSQL checks those names against the core's normalised form (core/abdm/inbound_json.cpp).
-- This test does: it takes every path the handlers, and the functions they pass the message to,
-- read from `msg`, and looks each up in the normalised message inbound_check makes of a complete
-- example of its kind. A path renamed on one side only shows up here as found = false.
\set VERBOSITY terse

CREATE TEMP TABLE example (kind text, body jsonb);
INSERT INTO example VALUES
('discover', '{"transactionId": "5042908f-6f2c-4d5e-9c1a-0b1c2d3e4f50", "patient": {"id": "hina@sbx",
   "verifiedIdentifiers": [{"type": "MOBILE", "value": "9800083232"}, {"type": "ABHA_NUMBER", "value": "91-6248-4106-1234"}],
   "unverifiedIdentifiers": [{"type": "MR", "value": "MRN-1001"}], "name": "Hina Patel", "gender": "F", "yearOfBirth": 1990}}'),
('link_init', '{"transactionId": "5042908f-6f2c-4d5e-9c1a-0b1c2d3e4f50", "abhaAddress": "hina@sbx",
   "patient": [{"referenceNumber": "MRN-1001", "careContexts": [{"referenceNumber": "OPD-1"}], "hiType": "Prescription", "count": 1}]}'),
('link_confirm', '{"confirmation": {"token": "123456", "linkRefNumber": "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99"}}'),
('consent_notify', '{"notification": {"status": "GRANTED", "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
   "consentDetail": {"schemaVersion": "", "consentId": "1876f659-bb20-4000-88dc-b45f97252901", "createdAt": "2024-05-20T11:29:00.000Z",
     "patient": {"id": "hina@sbx"}, "careContexts": [{"patientReference": "MRN-1001", "careContextReference": "OPD-1"}],
     "purpose": {"text": "Care Management", "code": "CAREMGT"}, "hip": {"id": "IN2710000001"}, "hiu": {"id": "HIU-1"},
     "consentManager": {"id": "sbx"}, "hiTypes": ["Prescription"],
     "permission": {"accessMode": "VIEW", "dateRange": {"from": "2020-01-01T00:00:00.000Z", "to": "2024-01-01T00:00:00.000Z"},
       "dataEraseAt": "2099-01-01T00:00:00.000Z", "frequency": {"unit": "HOUR", "value": 1, "repeats": 0}}}}}'),
('hi_request', '{"transactionId": "a1b2c3d4-1111-4222-8333-444455556666", "hiRequest": {
   "consent": {"id": "1876f659-bb20-4000-88dc-b45f97252901"},
   "dateRange": {"from": "2023-01-01T00:00:00.000Z", "to": "2024-05-20T00:00:00.000Z"},
   "dataPushUrl": "https://hiu.example.test/data/push",
   "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
     "dhPublicKey": {"expiry": "2099-01-01T00:00:00.000Z", "parameters": "Curve25519/32byte random key",
       "keyValue": "BAheD5rUqTy4V5xR4/6HWmYpopu5CO+KO8BECS0udNqUTSNo91TIqIIy1A4Vh+F94c+n9vAcwXU2bGcfsI5f69Y="},
     "nonce": "6uj1RdDUbcpI3lVMZvijkMC8Te20O4Bcyz0SyivX8Eg="}}}'),
-- Callbacks: one success and one error each, so that both branches' paths are there.
('on_generate_token', '{"abhaAddress": "hina@sbx", "response": {"requestId": "0b000000-0000-4000-8000-000000000001"},
   "linkToken": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjQxMDI0NDQ4MDAsImhpcElkIjoiSU4yNzEwMDAwMDAxIiwiYWJoYU51bWJlciI6IjkxNjI0ODQxMDYxMjM0In0.c2ln"}'),
('on_generate_token', '{"error": {"code": "ABDM-1092", "message": "no such ABHA"}, "response": {"requestId": "0b000000-0000-4000-8000-000000000001"}}'),
('on_carecontext', '{"abhaAddress": "hina@sbx", "status": "Successfully Linked care context", "response": {"requestId": "0b000000-0000-4000-8000-000000000002"}}'),
('on_carecontext', '{"error": {"code": "ABDM-1056", "message": "already linked"}, "response": {"requestId": "0b000000-0000-4000-8000-000000000002"}}'),
('context_on_notify', '{"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": "0b000000-0000-4000-8000-000000000003"}}'),
('context_on_notify', '{"error": {"code": "ABDM-9999", "message": "x"}, "response": {"requestId": "0b000000-0000-4000-8000-000000000003"}}'),
('sms_on_notify', '{"status": "ACKNOWLEDGED", "resp": {"requestId": "0b000000-0000-4000-8000-000000000004"}}'),
('sms_on_notify', '{"error": {"code": "ABDM-9999", "message": "x"}, "resp": {"requestId": "0b000000-0000-4000-8000-000000000004"}}'),
('patient_status_notify', '{"requestId": "0b000000-0000-4000-8000-000000000005",
   "notification": {"status": "DEACTIVATED", "patient": {"id": "hina@sbx"}}}');

-- Every kind has an example, and every example is accepted.
CREATE TEMP TABLE normal AS
SELECT e.kind, abdm_hip_internal.inbound_check(k.path, jsonb_build_object('REQUEST-ID', gen_random_uuid(),
         'X-HIP-ID', 'IN2710000001', 'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
         e.body) AS chk
FROM example e JOIN abdm_hip_internal.message_kinds() k ON k.name = e.kind;
SELECT k.name AS kind_without_example FROM abdm_hip_internal.message_kinds() k
WHERE NOT EXISTS (SELECT FROM normal n WHERE n.kind = k.name);
SELECT kind, chk -> 'error' AS refused FROM normal WHERE NOT (chk ->> 'ok')::boolean;

-- Each path read from `msg`, by the function that reads it, and whether the message has it.
-- (The handlers are named by the kinds' table; discovery_candidates reads the discover message.)
WITH readers AS (
  SELECT p.oid, p.proname, coalesce(k.name, CASE p.proname WHEN 'discovery_candidates' THEN 'discover' END) AS kind
  FROM pg_proc p LEFT JOIN abdm_hip_internal.message_kinds() k ON k.handler = 'abdm_hip_internal.' || p.proname
  WHERE p.pronamespace = 'abdm_hip_internal'::regnamespace AND 'msg' = ANY (p.proargnames)),
paths AS (
  SELECT DISTINCT r.proname, r.kind, m[2] AS path,
         CASE WHEN m[1] IN ('->', '->>') THEN ARRAY[m[2]] ELSE m[2]::text[] END AS keys
  FROM readers r, regexp_matches(pg_get_functiondef(r.oid), 'msg\s*(->>|->|#>>|#>)\s*''([^'']+)''', 'g') m)
SELECT p.proname AS reader, p.kind, p.path,
       EXISTS (SELECT FROM normal n WHERE n.kind = p.kind AND n.chk -> 'message' #> p.keys IS NOT NULL) AS found
FROM paths p ORDER BY p.proname, p.path;
