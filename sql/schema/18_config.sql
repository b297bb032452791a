-- Configuration that is not a GUC because it is secret. The gateway client secret is kept in
-- abdm_hip.secret, sealed (17_sealed_secrets.sql) and readable only by abdm_hip_admin, or in a file
-- named by the postmaster-only setting abdm_hip.client_secret_file. Either way it never appears in
-- pg_settings.
-- Tip: call set_client_secret through a psql variable or with log_statement off for that session,
-- so the statement text does not reach the server log:
--   \set s `cat /run/secrets/abdm` \\ SELECT abdm_hip.set_client_secret(:'s');

CREATE OR REPLACE FUNCTION abdm_hip.set_client_secret(secret text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF secret IS NULL OR length(secret) < 8 THEN
    RAISE EXCEPTION 'abdm_hip.set_client_secret: secret must be at least 8 characters'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO abdm_hip.secret (name, value)
  VALUES ('client_secret', abdm_hip_internal.seal_secret('client_secret', secret))
  ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now();
END
$$;
COMMENT ON FUNCTION abdm_hip.set_client_secret(text) IS
  'Stores the ABDM gateway client secret, sealed under abdm_hip.secret_key_file, where only abdm_hip_admin can read it.';

-- Whether a secret is configured, without revealing it (for the status views and the demo).
CREATE OR REPLACE FUNCTION abdm_hip.client_secret_configured() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN EXISTS (SELECT 1 FROM abdm_hip.secret WHERE name = 'client_secret')
       OR current_setting('abdm_hip.client_secret_file') <> '';
GRANT EXECUTE ON FUNCTION abdm_hip.client_secret_configured() TO abdm_hip_app;
