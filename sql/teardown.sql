-- Runs last: DROP EXTENSION leaves nothing of ours in the database. (The three roles are
-- cluster-wide and intentionally kept: other databases may use them.)
DROP EXTENSION abdm_hip;
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'abdm_hip';
SELECT count(*) AS relations FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'abdm_hip';
SELECT count(*) AS functions FROM pg_proc WHERE proname LIKE '%abdm%' OR prosrc LIKE '%abdm_hip%';
SELECT count(*) AS types FROM pg_type WHERE typname IN ('hi_type', 'abha_address', 'abha_number', 'mobile', 'gender');
SELECT count(*) AS event_triggers FROM pg_event_trigger WHERE evtname LIKE '%abdm%';
SELECT count(*) AS default_acls FROM pg_default_acl;
-- And it can be created again.
CREATE EXTENSION abdm_hip;
SELECT count(*) > 10 AS tables_back FROM pg_tables WHERE schemaname = 'abdm_hip';
DROP EXTENSION abdm_hip;
DROP ROLE regress_hmis, regress_gateway, regress_dba, regress_nobody;
