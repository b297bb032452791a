-- The inbound message kinds of the core (core/abdm/message_kinds) and the check that every one
-- has its SQL handler. The check runs last in the install script and in every upgrade script, so
-- a version whose core knows a kind its SQL does not handle cannot be installed at all; before,
-- such a message was answered 501 at run time.

CREATE OR REPLACE FUNCTION abdm_hip_internal.message_kinds_json() RETURNS jsonb
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_message_kinds_json';

CREATE OR REPLACE FUNCTION abdm_hip_internal.message_kinds(OUT name text, OUT path text, OUT handler text, OUT reply text)
RETURNS SETOF record LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT k.name, k.path, k.handler, k.reply
  FROM jsonb_to_recordset(abdm_hip_internal.message_kinds_json()) AS k(name text, path text, handler text, reply text)
$$;

-- Raises (SQLSTATE 42883, undefined_function) naming every kind without a handler of the
-- signature receive() calls: (hip_id text, request_id uuid, msg jsonb).
CREATE OR REPLACE FUNCTION abdm_hip_internal.check_message_kinds() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  missing text;
BEGIN
  SELECT string_agg(format('%s (%s)', k.name, k.handler), ', ' ORDER BY k.name) INTO missing
  FROM abdm_hip_internal.message_kinds() k
  WHERE to_regprocedure(k.handler || '(text, uuid, jsonb)') IS NULL;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'abdm_hip: message kinds without an SQL handler: %', missing
      USING ERRCODE = 'undefined_function',
            HINT = 'every kind of core/abdm/message_kinds needs its handler in sql/schema';
  END IF;
END
$$;

SELECT abdm_hip_internal.check_message_kinds();
