-- One-time: the roles and the schema (docs/design-notes.md, "Versioned SQL").
-- Roles are cluster-wide and may serve several databases, so they are created when missing and
-- never dropped with the extension (pgsodium does the same). The DBA grants them to real users:
--   abdm_hip_admin    configuration and secrets
--   abdm_hip_app      the HMIS: writes patients, care contexts, records; reads statuses
--   abdm_hip_gateway  the gateway's entry point: may only call abdm_hip.receive()
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'abdm_hip_admin') THEN
    CREATE ROLE abdm_hip_admin NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'abdm_hip_app') THEN
    CREATE ROLE abdm_hip_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'abdm_hip_gateway') THEN
    CREATE ROLE abdm_hip_gateway NOLOGIN;
  END IF;
END
$roles$;

CREATE SCHEMA abdm_hip;
COMMENT ON SCHEMA abdm_hip IS 'ABDM Health Information Provider (extension abdm_hip)';

-- Nothing in the schema is usable by PUBLIC unless granted below, part by part.
REVOKE ALL ON SCHEMA abdm_hip FROM PUBLIC;
GRANT USAGE ON SCHEMA abdm_hip TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;

-- The extension's working parts (message handlers, the outbox state machine, the workers' claims
-- and decisions) live apart from the interface, so that `\df abdm_hip.*` is the API and nothing
-- outside the extension is tempted to call a handler. Usage for the extension's roles: their
-- triggers and definer functions call into it; EXECUTE is still granted function by function.
CREATE SCHEMA abdm_hip_internal;
COMMENT ON SCHEMA abdm_hip_internal IS 'abdm_hip internals: not an interface, may change in any release';
REVOKE ALL ON SCHEMA abdm_hip_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA abdm_hip_internal TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;
