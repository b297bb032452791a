-- What abdm_hip.receive() answers to a call it must refuse, for every inbound V3 path: a bad
-- REQUEST-ID, a stale or future TIMESTAMP, an unknown X-HIP-ID, a body missing a required field
-- (the answer names it), an unknown path (404); a refused call changes nothing but the inbox.
-- And a re-delivered REQUEST-ID gets the same reply and queues nothing new.
\set VERBOSITY terse

CREATE FUNCTION pg_temp.hdr(rid text, hip text DEFAULT 'IN2710000001', at timestamptz DEFAULT now()) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT jsonb_build_object('REQUEST-ID', rid, 'X-HIP-ID', hip,
                            'TIMESTAMP', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
$$;
-- Row counts of every table a handler may change (the inbox aside).
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
  SELECT format('outbox=%s discovery=%s link_request=%s care_context_link=%s consent=%s hi_request=%s link_token=%s',
    (SELECT count(*) FROM abdm_hip.outbox), (SELECT count(*) FROM abdm_hip.discovery),
    (SELECT count(*) FROM abdm_hip.link_request), (SELECT count(*) FROM abdm_hip.care_context_link),
    (SELECT count(*) FROM abdm_hip.consent), (SELECT count(*) FROM abdm_hip.hi_request),
    (SELECT count(*) FROM abdm_hip.link_token))
$$;

-- One call per inbound path: a complete body, and the same body missing one required field.
CREATE TEMP TABLE call (path text PRIMARY KEY, good jsonb, missing text);
INSERT INTO call VALUES
  ('/api/v3/hip/patient/care-context/discover',
   '{"transactionId": "e5500000-0000-4000-8000-000000000001", "patient": {"id": "err@sbx",
     "verifiedIdentifiers": [], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}', 'patient.gender'),
  ('/api/v3/hip/link/care-context/init',
   '{"transactionId": "e5500000-0000-4000-8000-000000000001", "abhaAddress": "err@sbx",
     "patient": [{"referenceNumber": "ERR-1", "careContexts": [{"referenceNumber": "ERR-1-OPD"}]}]}', 'abhaAddress'),
  ('/api/v3/hip/link/care-context/confirm',
   '{"confirmation": {"linkRefNumber": "e5500000-0000-4000-8000-000000000002", "token": "123456"}}', 'confirmation.token'),
  ('/api/v3/consent/request/hip/notify',
   '{"notification": {"status": "REVOKED", "consentId": "e5500000-0000-4000-8000-000000000003"}}', 'notification.status'),
  ('/api/v3/hip/health-information/request',
   '{"transactionId": "e5500000-0000-4000-8000-000000000004", "hiRequest": {
      "consent": {"id": "e5500000-0000-4000-8000-000000000003"},
      "dateRange": {"from": "2023-01-01T00:00:00.000Z", "to": "2024-01-01T00:00:00.000Z"},
      "dataPushUrl": "https://hiu.example.test/data/push",
      "keyMaterial": {"cryptoAlg": "ECDH", "curve": "Curve25519",
        "dhPublicKey": {"expiry": "2030-01-01T00:00:00.000Z", "parameters": "Curve25519/32byte random key",
          "keyValue": "BEGqkwANHLGjs8R12bsAb0ynfnl5+S6JS5tCOc6CRVqxNzlr8sJRZAmtDyIHQmpsRvqMrWNanwgf1T7iyE2mNys="},
        "nonce": "3s2ZEfpKVq7x4mAv7Xn0M0ZvT0WvWZ2Y6sJxVtYQe6I="}}}', 'hiRequest.consent'),
  ('/api/v3/hip/token/on-generate-token',
   '{"abhaAddress": "err@sbx", "linkToken": "x.y.z", "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}', 'response'),
  ('/api/v3/link/on_carecontext',
   '{"abhaAddress": "err@sbx", "status": "Successfully Linked care context",
     "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}', 'response'),
  ('/api/v3/links/context/on-notify',
   '{"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": "e5500000-0000-4000-8000-000000000005"}}', 'response'),
  ('/api/v3/patients/sms/on-notify',
   '{"acknowledgement": {"status": "SUCCESS"}, "resp": {"requestId": "e5500000-0000-4000-8000-000000000005"}}', 'resp'),
  ('/api/v3/patients/status/notify',
   '{"notification": {"status": "DELETED", "patient": {"id": "err@sbx"}}}', 'notification.status');
-- The body without its field (a.b.c → delete path {a,b,c}).
CREATE FUNCTION pg_temp.without(body jsonb, field text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT body #- string_to_array(field, '.')
$$;
-- Messages that quote the current time, made comparable.
CREATE FUNCTION pg_temp.untimed(message text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(message, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<time>', 'g')
$$;
GRANT SELECT ON call TO PUBLIC;

SELECT pg_temp.state() AS before \gset

SET ROLE regress_gateway;

-- Header problems, the same on every path (the bodies are complete: only the header is wrong).
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr('not-a-uuid'), c.good) r ORDER BY c.path;
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, pg_temp.untimed(r.body #>> '{error,message}') AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr('e5500000-0000-4000-8000-0000000000a1', 'IN2710000001', now() - interval '1 hour'), c.good) r
ORDER BY c.path;
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, pg_temp.untimed(r.body #>> '{error,message}') AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr('e5500000-0000-4000-8000-0000000000a2', 'IN2710000001', now() + interval '1 hour'), c.good) r
ORDER BY c.path;
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr('e5500000-0000-4000-8000-0000000000a3', 'IN9999999999'), c.good) r
ORDER BY c.path;
-- Headers missing altogether.
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, '{}', c.good) r ORDER BY c.path;

-- Body problems: the missing field is named, per path.
SELECT c.path, r.status, r.body #>> '{error,code}' AS code,
       strpos(r.body #>> '{error,message}', c.missing) > 0 AS names_field, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr(gen_random_uuid()::text), pg_temp.without(c.good, c.missing)) r ORDER BY c.path;
-- No body, an empty object, a JSON array.
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr(gen_random_uuid()::text), NULL) r ORDER BY c.path;
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr(gen_random_uuid()::text), '{}') r ORDER BY c.path;
SELECT c.path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM call c, abdm_hip.receive(c.path, pg_temp.hdr(gen_random_uuid()::text), '[1, 2]') r ORDER BY c.path;

-- A few wrong values inside otherwise complete bodies (a year given as a digit string is
-- accepted, as senders do; anything else is not).
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "not-a-uuid", "patient": {"id": "err@sbx", "verifiedIdentifiers": [], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}') r;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "e5500000-0000-4000-8000-000000000001", "patient": {"id": "err@sbx", "verifiedIdentifiers": [], "name": "Err Or", "gender": "X", "yearOfBirth": 1990}}') r;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "e5500000-0000-4000-8000-000000000001", "patient": {"id": "err@sbx", "verifiedIdentifiers": [], "name": "Err Or", "gender": "F", "yearOfBirth": "1990s"}}') r;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "e5500000-0000-4000-8000-000000000001", "abhaAddress": "err@sbx", "patient": []}') r;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/link/care-context/init', pg_temp.hdr(gen_random_uuid()::text),
  jsonb_build_object('transactionId', 'e5500000-0000-4000-8000-000000000001', 'abhaAddress', 'err@sbx',
    'patient', jsonb_build_array(jsonb_build_object('referenceNumber', repeat('R', 5000),
                                                    'careContexts', '[{"referenceNumber": "C"}]'::jsonb)))) r;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/link/care-context/confirm', pg_temp.hdr(gen_random_uuid()::text),
  '{"confirmation": {"linkRefNumber": "e5500000-0000-4000-8000-000000000002", "token": 1234.5}}') r;
-- A body over abdm_hip.listen_max_body (1MB, measured as compact JSON) is refused before it is
-- parsed, whoever calls receive(), and the inbox keeps its headers but not the body.
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr('e5500000-0000-4000-8000-0000000000a4'),
  jsonb_build_object('transactionId', 'e5500000-0000-4000-8000-000000000001',
    'patient', jsonb_build_object('id', 'err@sbx', 'name', repeat('R', 1048576)))) r;

-- Unknown paths: 404, whatever the headers.
SELECT p AS path, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM unnest(ARRAY['/api/v3/hip/patient/care-context/discovery', '/api/v3/hip/unknown', '', '/']) p,
     abdm_hip.receive(p, pg_temp.hdr(gen_random_uuid()::text), '{}') r ORDER BY p;

RESET ROLE;

-- Nothing changed but the inbox, which kept every refused call with its answer and no credentials.
SELECT pg_temp.state() = :'before' AS nothing_changed;
SELECT http_status, count(*) FROM abdm_hip.inbox WHERE http_status >= 300 GROUP BY http_status ORDER BY 1;
SELECT http_status, body IS NULL AS body_dropped, headers ? 'REQUEST-ID' AS headers_kept
FROM abdm_hip.inbox WHERE request_id = 'e5500000-0000-4000-8000-0000000000a4';

-- A re-delivered REQUEST-ID: the first delivery is handled (one on-discover queued) ...
SET ROLE regress_gateway;
SELECT status, body FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover',
  pg_temp.hdr('e5500000-0000-4000-8000-0000000000b1') || '{"Authorization": "Bearer secret-token"}',
  '{"transactionId": "e5500000-0000-4000-8000-0000000000c1", "patient": {"id": "err@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000020001"}], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}');
RESET ROLE;
SELECT pg_temp.state() AS after_first \gset
-- ... the second (a minute later, different body even) gets the same reply and queues nothing.
SET ROLE regress_gateway;
SELECT status, body FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover',
  pg_temp.hdr('e5500000-0000-4000-8000-0000000000b1', 'IN2710000001', now() + interval '1 minute'),
  '{"transactionId": "e5500000-0000-4000-8000-0000000000c2", "patient": {"id": "err@sbx",
    "verifiedIdentifiers": [], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}');
RESET ROLE;
SELECT pg_temp.state() = :'after_first' AS nothing_new,
       (SELECT count(*) FROM abdm_hip.outbox WHERE kind = 'on_discover'
         AND body #>> '{response,requestId}' = 'e5500000-0000-4000-8000-0000000000b1') AS on_discover_rows,
       (SELECT count(*) FROM abdm_hip.discovery WHERE transaction_id = 'e5500000-0000-4000-8000-0000000000c2') AS second_body_ignored;
SELECT kind, http_status, headers ? 'Authorization' AS kept_authorization, headers ? 'REQUEST-ID' AS kept_request_id
FROM abdm_hip.inbox WHERE request_id = 'e5500000-0000-4000-8000-0000000000b1';

-- A refused REQUEST-ID may be sent again once corrected (only accepted ids are final).
SET ROLE regress_gateway;
SELECT status, body #>> '{error,code}' AS code FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover',
  pg_temp.hdr('e5500000-0000-4000-8000-0000000000b2'), '{"transactionId": "e5500000-0000-4000-8000-0000000000c3"}');
SELECT status, body FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover',
  pg_temp.hdr('e5500000-0000-4000-8000-0000000000b2'),
  '{"transactionId": "e5500000-0000-4000-8000-0000000000c3", "patient": {"id": "err@sbx",
    "verifiedIdentifiers": [], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}');
RESET ROLE;
SELECT count(*) AS discovered FROM abdm_hip.discovery WHERE transaction_id = 'e5500000-0000-4000-8000-0000000000c3';

-- A state problem found by the handler (a link confirm for a HIP's unknown link reference is not
-- one: it is answered in on-confirm) — a callback for a request never sent: 400, nothing changed.
SELECT pg_temp.state() AS before_callback \gset
SET ROLE regress_gateway;
SELECT status, body #>> '{error,code}' AS code, body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/token/on-generate-token', pg_temp.hdr(gen_random_uuid()::text),
  '{"abhaAddress": "err@sbx", "linkToken": "x.y.z", "response": {"requestId": "e5500000-0000-4000-8000-0000000000d1"}}');
RESET ROLE;
SELECT pg_temp.state() = :'before_callback' AS nothing_changed;

-- Only the gateway role (and the admin) may call receive().
SET ROLE regress_nobody;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text), '{}');
RESET ROLE;
SET ROLE regress_hmis;
SELECT status FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text), '{}');
RESET ROLE;

-- Live branches no test reached before (issue 17's probing): only one of TIMESTAMP or X-HIP-ID
-- missing; a facility that exists but is inactive; a handler that fails unexpectedly (500) and
-- one that is missing (501). Each answer is the gateway's error object; nothing but the inbox changes.
SELECT pg_temp.state() AS before_branches \gset
SET ROLE regress_gateway;
SELECT 'no TIMESTAMP' AS headers, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text) - 'TIMESTAMP', '{}') r
UNION ALL
SELECT 'no X-HIP-ID', r.status, r.body #>> '{error,code}', r.body #>> '{error,message}'
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text) - 'X-HIP-ID', '{}') r;
RESET ROLE;
INSERT INTO abdm_hip.facility (hip_id, name, active) VALUES ('IN2710000099', 'Closed Annexe', false);
SET ROLE regress_gateway;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text, 'IN2710000099'),
  '{"transactionId": "e5500000-0000-4000-8000-0000000000e1", "patient": {"id": "err@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000020001"}], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}') r;
RESET ROLE;
-- 500: the discover handler meets a failure it does not expect (an exception planted in a
-- trigger on the table it writes), in a transaction rolled back afterwards. (A data exception,
-- SQLSTATE class 22, is answered 400 instead: the handlers raise that class for bad content.)
BEGIN;
CREATE FUNCTION pg_temp.explode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'planted failure' USING ERRCODE = 'XX000'; END $$;
CREATE TRIGGER explode BEFORE INSERT ON abdm_hip.discovery FOR EACH ROW EXECUTE FUNCTION pg_temp.explode();
SET client_min_messages = error;
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "e5500000-0000-4000-8000-0000000000e2", "patient": {"id": "err@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000020001"}], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}') r;
RESET client_min_messages;
ROLLBACK;
-- 501: the handler the core names is gone (dropped in a transaction rolled back afterwards).
BEGIN;
ALTER EXTENSION abdm_hip DROP FUNCTION abdm_hip_internal.handle_discover(text, uuid, jsonb);
DROP FUNCTION abdm_hip_internal.handle_discover(text, uuid, jsonb);
SELECT r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "e5500000-0000-4000-8000-0000000000e3", "patient": {"id": "err@sbx",
    "verifiedIdentifiers": [{"type": "MOBILE", "value": "6000020001"}], "name": "Err Or", "gender": "F", "yearOfBirth": 1990}}') r;
ROLLBACK;
-- jsonb holds numbers no double can (1e400): valid input for receive(), refused with an answer
-- naming the part, never an ERROR out of receive().
SET ROLE regress_gateway;
SELECT 'header' AS where_, r.status, r.body #>> '{error,code}' AS code, r.body #>> '{error,message}' AS message
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover',
  pg_temp.hdr(gen_random_uuid()::text) || '{"X-Extra": 1e400}', '{}') r
UNION ALL
SELECT 'body', r.status, r.body #>> '{error,code}', r.body #>> '{error,message}'
FROM abdm_hip.receive('/api/v3/hip/patient/care-context/discover', pg_temp.hdr(gen_random_uuid()::text),
  '{"transactionId": "e5500000-0000-4000-8000-0000000000e4", "patient": {"id": "err@sbx", "yearOfBirth": 1e400}}') r;
RESET ROLE;
DELETE FROM abdm_hip.facility WHERE hip_id = 'IN2710000099';
SELECT pg_temp.state() = :'before_branches' AS nothing_changed;
