-- Schema-wide privileges, last so that they cover every object above; replayed by every install
-- and upgrade (they are idempotent). PUBLIC gets nothing; abdm_hip_admin gets everything; what
-- abdm_hip_app and abdm_hip_gateway may use is granted next to each object.
REVOKE ALL ON ALL TABLES IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip_internal FROM PUBLIC;

GRANT ALL ON ALL TABLES IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip_internal TO abdm_hip_admin;

-- The HMIS's inserts take ids from the schema's sequences.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA abdm_hip TO abdm_hip_app;
