-- The built-in listener's SQL side: registering the bridge URL at the gateway
-- (abdm_hip.register_bridge_url, PATCH /gateway/v3/bridge/url), the outcome the sender's result
-- leaves in abdm_hip.bridge_registration, the trace of a call the listener refused
-- (abdm_hip_internal.record_refused), and the operator's view abdm_hip.bridge_status. The HTTP
-- side is tested over real sockets (test/unit/bridge, test/e2e/test_bridge.py).
\set VERBOSITY terse

-- 1. What can never work is refused, naming the argument; nothing is queued.
SELECT abdm_hip.register_bridge_url('ftp://hip.example.org');
SELECT abdm_hip.register_bridge_url('https://hip.example.org/abdm?x=1');
SELECT abdm_hip.register_bridge_url('https://user:pw@hip.example.org');
SELECT abdm_hip.register_bridge_url('https://hip example.org');
SELECT abdm_hip.register_bridge_url(NULL);
SELECT count(*) AS queued FROM abdm_hip.outbox WHERE kind = 'bridge_url';

-- Only the DBA's role may register (it changes where the gateway sends every patient's data).
SET ROLE regress_hmis;
SELECT abdm_hip.register_bridge_url('https://hip.example.org/abdm');
RESET ROLE;

-- 2. A good URL queues one PATCH under the first active facility; the trailing slash goes.
SET ROLE regress_dba;
SELECT abdm_hip.register_bridge_url('https://hip.example.org/abdm/') IS NOT NULL AS queued;
RESET ROLE;
SELECT hip_id, kind, method, target, body, status FROM abdm_hip.outbox WHERE kind = 'bridge_url';
SELECT url, status, registered_at IS NULL AS not_yet FROM abdm_hip.bridge_registration;
SELECT registered_url, pending_url, pending_status, warnings FROM abdm_hip.bridge_status;

-- 3. The sender records the gateway's 202: the URL is registered, with the time it was sent.
UPDATE abdm_hip.outbox SET status = 'sent', sent_at = now() WHERE kind = 'bridge_url';
SELECT r.url, r.status, r.registered_at = o.sent_at AS at_send_time
FROM abdm_hip.bridge_registration r JOIN abdm_hip.outbox o USING (request_id);
SELECT registered_url, registered_at IS NOT NULL AS has_time, pending_url, warnings FROM abdm_hip.bridge_status;

-- 4. A later registration that fails shows beside the one still in force.
SELECT abdm_hip.register_bridge_url('https://new.example.org') IS NOT NULL AS queued;
UPDATE abdm_hip.outbox SET status = 'failed', last_error = 'HTTP 400: ABDM-9999 bad url'
WHERE kind = 'bridge_url' AND status = 'pending';
SELECT registered_url, pending_url, pending_status, pending_error, warnings FROM abdm_hip.bridge_status;

-- 5. A refused call's trace: headers without Authorization (the listener leaves it out), no
--    body, the reason; REQUEST-ID and X-HIP-ID taken whatever their case, a bad id left NULL.
SELECT abdm_hip_internal.record_refused('/api/v3/consent/request/hip/notify',
  '{"request-id": "5b2e3a9c-7f41-4d7e-9a55-0c1f6f1f2a10", "x-hip-id": "IN2710000001"}',
  401, '{"error": {"code": "ABDM-9999", "message": "Authorization: signature does not verify with key k1"}}');
SELECT abdm_hip_internal.record_refused('/v3/x', '{"REQUEST-ID": "not-a-uuid"}', 400,
  '{"error": {"code": "ABDM-9999", "message": "body: not valid JSON (at line 1, column 1)"}}');
SELECT request_id, hip_id, path, kind, body, http_status, response #>> '{error,message}' AS reason
FROM abdm_hip.inbox WHERE http_status IN (400, 401) AND kind IS NULL ORDER BY id DESC LIMIT 2;
SELECT unauthorized_last_hour FROM abdm_hip.bridge_status;
-- The gateway role cannot write traces itself.
SET ROLE regress_gateway;
SELECT abdm_hip_internal.record_refused('/x', '{}', 401, '{}');
RESET ROLE;

DELETE FROM abdm_hip.inbox WHERE kind IS NULL AND http_status IN (400, 401);
DELETE FROM abdm_hip.bridge_registration;
DELETE FROM abdm_hip.outbox WHERE kind = 'bridge_url';
