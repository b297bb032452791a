-- Secrets at rest (docs/design-notes.md, "Secrets at rest"). The gateway client secret, link tokens
-- and an OTP waiting for its SMS are stored sealed: AES-256-GCM under a key kept in a file beside
-- the database (setting abdm_hip.secret_key_file, made on first use), never in it. A pg_dump, a
-- WAL archive or a copied table carries only sealed text. No SQL function opens a sealed value:
-- only the sender worker does, in C++, as it sends the value on (src/pg/sealed_secrets.hpp).

-- seal_secret(purpose, value): 'abdm-sealed:1:<purpose>:<key id>:<base64>'. The admin may call it
-- (sealing reveals nothing); the install revokes it from PUBLIC with every internal function.
CREATE OR REPLACE FUNCTION abdm_hip_internal.seal_secret(purpose text, value text) RETURNS text
LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'abdm_seal_secret';

-- A value written in clear is refused before its CHECK constraint would be: a failed CHECK prints
-- the whole row, secret and all, into the error and the server log.
CREATE OR REPLACE FUNCTION abdm_hip_internal.refuse_clear_secret() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  purpose text := TG_ARGV[0];
  col text := TG_ARGV[1];
  v text := to_jsonb(NEW) ->> col;
BEGIN
  IF purpose = '' THEN  -- abdm_hip.secret: the purpose is the secret's name
    purpose := NEW.name;
  END IF;
  IF v IS NOT NULL AND v NOT LIKE 'abdm-sealed:1:' || purpose || ':%' THEN
    PERFORM abdm_hip_internal.refuse(TG_TABLE_NAME, col, 'must be sealed, not stored in clear',
      CASE TG_TABLE_NAME WHEN 'secret' THEN 'set it with abdm_hip.set_client_secret()'
           ELSE 'seal it with abdm_hip_internal.seal_secret(''' || purpose || ''', value)' END);
  END IF;
  RETURN NEW;
END
$$;
-- A secret an inbound body brings (an OTP, a link token) is not kept in the inbox: its value is
-- replaced by ******. TG_ARGV is its path in the body; the triggers are beside their handlers.
CREATE OR REPLACE FUNCTION abdm_hip_internal.inbox_mask() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NEW.body #> TG_ARGV IS NOT NULL THEN
    NEW.body := jsonb_set(NEW.body, TG_ARGV, '"******"');
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER secret_sealed BEFORE INSERT OR UPDATE ON abdm_hip.secret
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.refuse_clear_secret('', 'value');
CREATE OR REPLACE TRIGGER link_token_sealed BEFORE INSERT OR UPDATE OF token ON abdm_hip.link_token
  FOR EACH ROW WHEN (NEW.token IS NOT NULL) EXECUTE FUNCTION abdm_hip_internal.refuse_clear_secret('link_token', 'token');

-- The key file as this server would read it now ({"id", "problem"}), for bridge_status's warnings.
CREATE OR REPLACE FUNCTION abdm_hip_internal.secret_key_state() RETURNS jsonb
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'abdm_secret_key_state';
GRANT EXECUTE ON FUNCTION abdm_hip_internal.secret_key_state() TO abdm_hip_app;

-- The id of this server's key, the one every value it seals names: compare it on every node
-- before a fail-over (README "Secrets at rest"). It makes the key file on a primary that has none.
CREATE OR REPLACE FUNCTION abdm_hip.secret_key_id() RETURNS text
LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'abdm_secret_key_id';
COMMENT ON FUNCTION abdm_hip.secret_key_id() IS
  'Id of the key (abdm_hip.secret_key_file) that seals the secrets this server stores; the same on every node.';
-- The install makes the key file now, so that a standby cloned from here on has its copy.
SELECT abdm_hip.secret_key_id();
