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
-- Stored sealed under the key file (17_sealed_secrets.sql), not in clear.
SELECT name, value LIKE 'abdm-sealed:1:client_secret:%' AS sealed, strpos(value, 's3cret') = 0 AS not_in_clear
FROM abdm_hip.secret;
-- Written in clear, it is refused by name, without the row (and the secret) in the message.
INSERT INTO abdm_hip.secret (name, value) VALUES ('client_secret', 'in-clear-s3cret')
ON CONFLICT (name) DO UPDATE SET value = excluded.value;
RESET ROLE;
SELECT abdm_hip.client_secret_configured();

-- All SQL is parameterised. In C++ the type system sees to it (pg/spi.hpp: SqlText, checked by
-- test/security/sql_literals); in SQL, every dynamic statement of the extension's functions is
-- listed here for review. There is one: receive() calls the handler the core's table of message
-- kinds names, a regproc (its output is a quoted name, not a value), with every value in USING.
SELECT p.proname, regexp_replace(m[1], '\s+', ' ', 'g') AS dynamic_statement
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'abdm_hip',
LATERAL regexp_matches(p.prosrc, '\m(EXECUTE\s+(?!FUNCTION\M|PROCEDURE\M)[^;]*);', 'gi') AS m
ORDER BY 1, 2;

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

-- The whole surface each role has, from the catalog (every table, view, column and function of
-- the extension against every role): what is listed here is all it may do, so a grant added by
-- mistake shows up as a new line.
CREATE TEMP VIEW ext_objects AS
SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'abdm_hip'
WHERE d.deptype = 'e';
SELECT r.role, c.oid::regclass AS relation,
       concat_ws(',', CASE WHEN has_table_privilege(r.role, c.oid, 'SELECT') THEN 'SELECT' END,
                      CASE WHEN has_table_privilege(r.role, c.oid, 'INSERT') THEN 'INSERT' END,
                      CASE WHEN has_table_privilege(r.role, c.oid, 'UPDATE') THEN 'UPDATE' END,
                      CASE WHEN has_table_privilege(r.role, c.oid, 'DELETE') THEN 'DELETE' END,
                      CASE WHEN has_table_privilege(r.role, c.oid, 'TRUNCATE') THEN 'TRUNCATE' END) AS may
FROM (VALUES ('abdm_hip_app'), ('abdm_hip_gateway'), ('regress_nobody')) r(role)
JOIN pg_class c ON c.oid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_class'::regclass) AND c.relkind IN ('r', 'v')
WHERE has_table_privilege(r.role, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
ORDER BY r.role, c.oid::regclass::text;
-- Columns granted one by one (the tables above without SELECT on the whole table).
SELECT r.role, a.attrelid::regclass AS relation, string_agg(a.attname, ', ' ORDER BY a.attnum) AS readable_columns
FROM (VALUES ('abdm_hip_app'), ('abdm_hip_gateway'), ('regress_nobody')) r(role)
JOIN pg_attribute a ON a.attrelid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_class'::regclass)
                   AND a.attnum > 0 AND NOT a.attisdropped
WHERE has_column_privilege(r.role, a.attrelid, a.attnum, 'SELECT')
  AND NOT has_table_privilege(r.role, a.attrelid, 'SELECT')
GROUP BY 1, 2 ORDER BY 1, 2;
-- The secrets: no role but the admin reads the client secret, a link token, an OTP hash, a
-- queued call's body (an OTP on its way to the SMS hook) or an inbound body.
SELECT r.role, x.col,
       has_column_privilege(r.role, x.rel::regclass, x.col, 'SELECT') AS can_read
FROM (VALUES ('abdm_hip_app'), ('abdm_hip_gateway'), ('regress_nobody')) r(role),
     (VALUES ('abdm_hip.secret', 'value'), ('abdm_hip.link_token', 'token'), ('abdm_hip.link_request', 'otp_hash'),
             ('abdm_hip.outbox', 'body'), ('abdm_hip.inbox', 'body')) x(rel, col)
WHERE has_column_privilege(r.role, x.rel::regclass, x.col, 'SELECT');
-- Functions each role may call, beyond the value rules everyone may use.
SELECT r.role, p.oid::regprocedure AS may_call
FROM (VALUES ('abdm_hip_app'), ('abdm_hip_gateway'), ('regress_nobody')) r(role)
JOIN pg_proc p ON p.oid IN (SELECT objid FROM ext_objects WHERE classid = 'pg_proc'::regclass)
WHERE has_function_privilege(r.role, p.oid, 'EXECUTE')
  AND p.proname NOT IN ('hi_type_names', 'is_hi_type', 'is_abha_address', 'is_abha_number',
                        'normalize_mobile', 'is_mobile', 'is_gender', 'refuse')
  AND p.prorettype <> 'trigger'::regtype
ORDER BY r.role, p.oid::regprocedure::text;
DROP VIEW ext_objects;
