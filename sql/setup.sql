-- Runs first: the extension, login roles standing for the HMIS, the gateway and the DBA, and
-- two facilities. Later tests rely on these.
\set VERBOSITY default
CREATE EXTENSION abdm_hip;
SELECT extversion FROM pg_extension WHERE extname = 'abdm_hip';

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_hmis') THEN CREATE ROLE regress_hmis LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_gateway') THEN CREATE ROLE regress_gateway LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_dba') THEN CREATE ROLE regress_dba LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_nobody') THEN CREATE ROLE regress_nobody LOGIN; END IF;
END $$;
GRANT abdm_hip_app TO regress_hmis;
GRANT abdm_hip_gateway TO regress_gateway;
GRANT abdm_hip_admin TO regress_dba;

INSERT INTO abdm_hip.facility (hip_id, name) VALUES
  ('IN2710000001', 'City General Hospital'),
  ('IN2710000002', 'City General Hospital - Annexe');
