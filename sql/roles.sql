-- Each role can do its job and nothing more.
\set VERBOSITY terse
-- The HMIS reads statuses but not secrets, OTP hashes, tokens or inbound bodies.
SET ROLE regress_hmis;
SELECT count(*) >= 0 AS can_read_consents FROM abdm_hip.consent;
SELECT count(*) >= 0 AS can_read_token_status FROM (SELECT status FROM abdm_hip.link_token) t;
SELECT token FROM abdm_hip.link_token;
SELECT * FROM abdm_hip.secret;
SELECT * FROM abdm_hip.link_request;
SELECT * FROM abdm_hip.inbox;
INSERT INTO abdm_hip.facility (hip_id, name) VALUES ('IN-EVIL', 'x');
INSERT INTO abdm_hip.consent (consent_id, hip_id, status) VALUES (gen_random_uuid(), 'IN2710000001', 'GRANTED');
SELECT abdm_hip.set_client_secret('s3cret-s3cret');
SELECT abdm_hip.selftest_error_boundary('ok');
SELECT abdm_hip.client_secret_configured();
RESET ROLE;

-- The gateway role may not touch the tables at all.
SET ROLE regress_gateway;
SELECT count(*) FROM abdm_hip.patient;
INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender) VALUES ('IN2710000001', 'G-1', 'G', 'M');
SELECT abdm_hip.set_client_secret('s3cret-s3cret');
RESET ROLE;

-- A role with none of ours sees nothing.
SET ROLE regress_nobody;
SELECT count(*) FROM abdm_hip.facility;
SELECT abdm_hip.is_mobile('9800083232');
RESET ROLE;

-- The admin configures facilities and the secret; the secret is readable by the admin only.
SET ROLE regress_dba;
INSERT INTO abdm_hip.facility (hip_id, name) VALUES ('IN2710000003', 'Clinic');
SELECT abdm_hip.set_client_secret('short');
SELECT abdm_hip.set_client_secret('s3cret-s3cret-s3cret');
SELECT name, length(value) FROM abdm_hip.secret;
RESET ROLE;
SELECT abdm_hip.client_secret_configured();

-- Every SECURITY DEFINER function of the extension pins its search_path.
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'abdm_hip'
WHERE p.prosecdef AND NOT coalesce(array_to_string(p.proconfig, ',') ~ 'search_path=', false);
-- And PUBLIC can execute none of them.
SELECT p.oid::regprocedure AS public_executable
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'abdm_hip'
WHERE has_function_privilege('regress_nobody', p.oid, 'EXECUTE')
  AND p.proname NOT IN ('hi_type_names', 'is_hi_type', 'is_abha_address', 'is_abha_number',
                        'normalize_mobile', 'is_mobile', 'is_gender', 'refuse');
