-- The core's table of inbound message kinds (core/abdm/message_kinds), as SQL sees it: each kind
-- with its path, its SQL handler and the message the handler answers with. The install script
-- ends with abdm_hip_internal.check_message_kinds(); here it is shown to pass, and to stop an
-- install in which a kind has no handler.
\set VERBOSITY terse
SELECT name, path, handler, reply FROM abdm_hip_internal.message_kinds();
SELECT abdm_hip_internal.check_message_kinds();

-- A kind without its handler: the check names it (an install or upgrade stops there), and
-- receive(), should the function go missing after the install, answers 501 without acting.
BEGIN;
ALTER FUNCTION abdm_hip_internal.handle_sms_on_notify(text, uuid, jsonb) RENAME TO handle_sms_gone;
SELECT abdm_hip_internal.check_message_kinds();
ROLLBACK;
BEGIN;
ALTER FUNCTION abdm_hip_internal.handle_sms_on_notify(text, uuid, jsonb) RENAME TO handle_sms_gone;
SELECT status, body FROM abdm_hip.receive('/api/v3/patients/sms/on-notify',
  jsonb_build_object('REQUEST-ID', 'e0000000-0000-4000-8000-000000000001', 'X-HIP-ID', 'IN2710000001',
                     'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  '{"acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": "e0000000-0000-4000-8000-0000000000ff"}}');
ROLLBACK;

-- The interface is schema abdm_hip; everything receive() and the workers use in between is in
-- abdm_hip_internal, which PUBLIC cannot even look into.
SELECT p.oid::regprocedure AS public_function FROM pg_proc p
WHERE p.pronamespace = 'abdm_hip'::regnamespace ORDER BY 1::text;
SELECT count(*) > 50 AS many_internal_functions FROM pg_proc WHERE pronamespace = 'abdm_hip_internal'::regnamespace;
SELECT has_schema_privilege('public', 'abdm_hip_internal', 'USAGE') AS public_usage,
       has_schema_privilege('abdm_hip_gateway', 'abdm_hip_internal', 'USAGE') AS gateway_usage,
       has_function_privilege('abdm_hip_gateway', 'abdm_hip_internal.handle_discover(text, uuid, jsonb)', 'EXECUTE')
         AS gateway_may_call_a_handler;
