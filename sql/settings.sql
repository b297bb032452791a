-- Every abdm_hip.* setting with its one default (the definition in src/pg/gucs.cpp: SQL reads
-- the settings through current_setting() with no default of its own), its unit and when a change
-- takes effect. The README's "Settings" table documents the same values.
SELECT name, boot_val, unit, context FROM pg_settings WHERE name LIKE 'abdm_hip.%' ORDER BY name;

-- The SQL that reads them gets typed values from the definition (no default of its own).
SELECT current_setting('abdm_hip.otp_max_attempts')::int AS otp_max_attempts,
       current_setting('abdm_hip.otp_expiry')::interval AS otp_expiry,
       current_setting('abdm_hip.sms_notify_interval')::interval AS sms_notify_interval,
       current_setting('abdm_hip.otp_notify')::boolean AS otp_notify;

-- They are server-wide (a change is a reload): a session cannot change them, and a bad value is
-- refused when it is written, naming the setting.
\set VERBOSITY terse
SET abdm_hip.otp_max_attempts = 5;
ALTER SYSTEM SET abdm_hip.otp_max_attempts = 0;
ALTER SYSTEM SET abdm_hip.otp_sms_url = 'ftp://sms.example.test/send';
ALTER SYSTEM SET abdm_hip.sms_notify_interval = 'every other day';
ALTER SYSTEM SET abdm_hip.sms_notify_interval = '-1 hour';
ALTER SYSTEM SET abdm_hip.sms_phone_format = '0091';
ALTER SYSTEM SET abdm_hip.link_auth_type = 'OTP';
-- Nothing was written.
SELECT count(*) AS written FROM pg_file_settings WHERE name LIKE 'abdm_hip.%' AND sourcefile LIKE '%postgresql.auto.conf';
