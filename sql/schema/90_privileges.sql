-- Privileges, last so that they cover every part above. PUBLIC gets nothing; the three roles of
-- 00_header.sql get what their job needs and no more.
REVOKE ALL ON ALL TABLES IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip FROM PUBLIC;

-- Value rules run inside CHECK constraints and are useful to any caller.
GRANT EXECUTE ON FUNCTION abdm_hip.hi_type_names(), abdm_hip.is_hi_type(text),
  abdm_hip.is_abha_address(text), abdm_hip.is_abha_number(text), abdm_hip.normalize_mobile(text),
  abdm_hip.is_mobile(text), abdm_hip.is_gender(text), abdm_hip.refuse(text, text, text, text)
  TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;

-- Admin: everything, including the secret.
GRANT ALL ON ALL TABLES IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip TO abdm_hip_admin;

-- The HMIS: writes its patients, care contexts and records; reads what happened to them.
GRANT SELECT ON abdm_hip.facility TO abdm_hip_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON abdm_hip.patient, abdm_hip.care_context, abdm_hip.health_record
  TO abdm_hip_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA abdm_hip TO abdm_hip_app;
GRANT SELECT ON abdm_hip.care_context_link, abdm_hip.consent, abdm_hip.consent_care_context,
  abdm_hip.hi_request, abdm_hip.transfer TO abdm_hip_app;
GRANT SELECT (hip_id, abha_address, status, expires_at, requested_at, retry_after, last_error)
  ON abdm_hip.link_token TO abdm_hip_app;
GRANT SELECT (id, hip_id, kind, target, request_id, status, attempts, next_attempt_at,
              last_http_status, last_error, created_at, sent_at)
  ON abdm_hip.outbox TO abdm_hip_app;
GRANT EXECUTE ON FUNCTION abdm_hip.client_secret_configured() TO abdm_hip_app;

-- Not for the HMIS: the secret, OTP hashes, link tokens' values, inbound message bodies.
REVOKE ALL ON abdm_hip.secret FROM abdm_hip_app, abdm_hip_gateway;
REVOKE ALL ON FUNCTION abdm_hip.selftest_error_boundary(text) FROM abdm_hip_app, abdm_hip_gateway;
