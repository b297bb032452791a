-- Discovery at scale, part 2: the plans of the candidate look-ups inside handle_discover, as
-- auto_explain sees them (nested statements), for one patient found by mobile and one by ABHA address.
\set ON_ERROR_STOP on
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
SELECT abdm_hip_internal.discovery_candidates('IN2710000001', abdm_hip_internal.inbound_check(
  '/api/v3/hip/patient/care-context/discover', bench_headers(), bench_discover(424242, false)) -> 'message') IS NOT NULL AS by_mobile;
SELECT abdm_hip_internal.discovery_candidates('IN2710000001', abdm_hip_internal.inbound_check(
  '/api/v3/hip/patient/care-context/discover', bench_headers(), bench_discover(777777, true)) -> 'message') IS NOT NULL AS by_abha;
RESET auto_explain.log_min_duration;
RESET client_min_messages;
-- And what the gateway would get for them.
SELECT (abdm_hip.receive('/api/v3/hip/patient/care-context/discover', bench_headers(), bench_discover(424242, false))).status;
SELECT body -> 'matchedBy' AS matched_by, jsonb_array_length(body -> 'patient') AS entries, body -> 'error' AS error
FROM abdm_hip.outbox WHERE kind = 'on_discover' ORDER BY id DESC LIMIT 1;
