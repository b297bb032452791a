-- A DBA installs the extension; the schema, roles and settings appear.
\pset pager off
CREATE EXTENSION abdm_hip;
\dx abdm_hip
SELECT name, setting FROM pg_settings WHERE name LIKE 'abdm_hip.%' ORDER BY name;
\dt abdm_hip.*
SELECT rolname FROM pg_roles WHERE rolname LIKE 'abdm_hip_%' ORDER BY rolname;
\df abdm_hip.*
