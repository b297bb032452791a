-- abdm_hip.receive(): the one door for every gateway → HIP call (DESIGN.md). It checks the call in
-- the core (inbound_check), answers a re-delivered REQUEST-ID with the answer it gave before,
-- hands the parsed message to the kind's handler (abdm_hip_internal.handle_<kind>, named by the
-- core's table of message kinds, core/abdm/message_kinds) — which changes state and queues the
-- asynchronous reply in the outbox, all in this transaction — records the call in the inbox and
-- returns at once (202), as the gateway's 5-second timeout requires (ProjectEKA gateway
-- application.yaml SERVICE_TIMEOUT).
--
-- The input is named request_body because PostgreSQL does not allow an input and an output
-- parameter of the same name; the result columns are (status, body).

CREATE OR REPLACE FUNCTION abdm_hip_internal.inbound_check(path text, headers jsonb, body jsonb) RETURNS jsonb
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'abdm_inbound_check';

CREATE OR REPLACE FUNCTION abdm_hip.receive(path text, headers jsonb, request_body jsonb,
                                 OUT status int, OUT body jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  chk jsonb;
  ok boolean;
  rid uuid;
  hip text;
  kind text;
  prior record;
  handler regproc;
BEGIN
  chk := abdm_hip_internal.inbound_check(path, headers, request_body);
  ok := coalesce((chk ->> 'ok')::boolean, false);
  kind := chk ->> 'kind';
  hip := chk ->> 'hipId';
  IF chk ->> 'requestId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    rid := (chk ->> 'requestId')::uuid;
  END IF;

  IF ok THEN
    -- A re-delivered REQUEST-ID gets the same answer and changes nothing twice. The lock makes
    -- two concurrent deliveries of one id wait for each other.
    PERFORM pg_advisory_xact_lock(hashtextextended('abdm_hip.inbox:' || rid::text, 0));
    SELECT i.http_status, i.response INTO prior
      FROM abdm_hip.inbox i WHERE i.request_id = rid AND i.http_status < 300;
    IF FOUND THEN
      status := prior.http_status;
      body := prior.response;
      RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM abdm_hip.facility f WHERE f.hip_id = hip AND f.active) THEN
      ok := false;
      chk := chk || jsonb_build_object('status', 400, 'error',
        jsonb_build_object('code', 'ABDM-1035', 'message', 'X-HIP-ID: unknown HIP id ' || hip));
    END IF;
  END IF;

  IF ok THEN
    -- The kind's handler, as the core's table of message kinds names it; by name alone, since
    -- the install checked its signature (check_message_kinds).
    handler := to_regproc(chk ->> 'handler');
    IF handler IS NULL THEN
      status := 501;
      body := jsonb_build_object('error', jsonb_build_object('code', 'ABDM-9999',
                'message', kind || ' is not handled by this version of abdm_hip'));
    ELSE
      BEGIN
        EXECUTE format('SELECT %s($1, $2, $3)', handler) USING hip, rid, chk -> 'message';
        status := 202;
        body := NULL;
      EXCEPTION
        -- A message that parsed but does not fit our state (an unknown transaction, a reply to
        -- a request we never sent): the gateway's validation-failure answer, nothing changed.
        WHEN invalid_parameter_value OR not_null_violation OR check_violation
             OR foreign_key_violation OR invalid_text_representation OR data_exception THEN
          status := 400;
          body := jsonb_build_object('error', jsonb_build_object('code', 'ABDM-9999', 'message', SQLERRM));
        WHEN OTHERS THEN
          RAISE WARNING 'abdm_hip.receive: % failed: % (%)', kind, SQLERRM, SQLSTATE;
          status := 500;
          body := jsonb_build_object('error', jsonb_build_object('code', 'ABDM-9999',
                    'message', 'internal error at the HIP; the message may be re-delivered'));
      END;
    END IF;
  ELSE
    status := coalesce((chk ->> 'status')::int, 400);
    body := jsonb_build_object('error', chk -> 'error');
  END IF;

  -- A body refused for its size is not kept: the inbox is not where an oversized body goes.
  INSERT INTO abdm_hip.inbox (request_id, hip_id, path, kind, headers, body, http_status, response)
  VALUES (rid, hip, coalesce(path, ''), kind, coalesce(chk -> 'headers', '{}'),
          CASE WHEN status = 413 THEN NULL ELSE request_body END, status, body);
END
$$;

COMMENT ON FUNCTION abdm_hip.receive(text, jsonb, jsonb) IS
  'Entry point for every ABDM gateway call to this HIP: receive(path, headers, body) → (status, body).';

GRANT EXECUTE ON FUNCTION abdm_hip.receive(text, jsonb, jsonb) TO abdm_hip_gateway;

-- A call the bridge listener refused before receive() (no or a bad bearer token, a body that is
-- not JSON the database can hold): its trace, for an operator who wonders why the gateway says
-- the HIP refused something. Never the token (the listener leaves Authorization out of `headers`)
-- nor the body (unauthenticated input is not stored).
CREATE OR REPLACE FUNCTION abdm_hip_internal.record_refused(path text, headers jsonb, http_status int,
                                                            response jsonb)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO abdm_hip.inbox (request_id, hip_id, path, kind, headers, body, http_status, response)
  SELECT CASE WHEN h.rid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN h.rid::uuid END,
         left(h.hip, 100), left(coalesce(path, ''), 1000), NULL, coalesce(headers, '{}'), NULL,
         http_status, response
  FROM (SELECT max(value) FILTER (WHERE lower(key) = 'request-id') AS rid,
               max(value) FILTER (WHERE lower(key) = 'x-hip-id') AS hip
        FROM jsonb_each_text(coalesce(headers, '{}'))) h;
$$;

-- What arrived, for an operator: no bodies.
CREATE OR REPLACE VIEW abdm_hip.inbox_status WITH (security_barrier) AS
SELECT id, request_id, hip_id, kind, path, http_status, response -> 'error' AS error, received_at
FROM abdm_hip.inbox;
GRANT SELECT ON abdm_hip.inbox_status TO abdm_hip_app;
