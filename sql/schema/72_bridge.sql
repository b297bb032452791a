-- The built-in listener (the bridge worker, src/pg/worker_bridge.cpp): registering its URL at
-- the gateway, and what an operator looks at to see that the gateway can reach this database.

-- Queues PATCH /gateway/v3/bridge/url {"url": ...} (NHA M2 v2.8 §3.2.4). The gateway then calls
-- <url>/api/v3/... for every HIP of this bridge (client id). The call is the bridge's, not a
-- facility's, but the outbox keys every call by facility: it goes under the first active one.
-- The gateway's own rules (an HTTPS domain name without IP address or port, a server in India)
-- are its to enforce; here only what can never work is refused.
CREATE OR REPLACE FUNCTION abdm_hip.register_bridge_url(url text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  hip text;
  rid uuid;
BEGIN
  IF url IS NULL OR url !~ '^https?://[^/\s?#@]+(/[^\s?#]*)?$' THEN
    RAISE EXCEPTION 'url: % is not an http(s) base URL without query, fragment or credentials', coalesce(url, 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Give the base URL the gateway appends /api/v3/... to, e.g. https://hip.example.org/abdm.';
  END IF;
  SELECT f.hip_id INTO hip FROM abdm_hip.facility f WHERE f.active ORDER BY f.hip_id LIMIT 1;
  IF hip IS NULL THEN
    RAISE EXCEPTION 'no active facility: register one in abdm_hip.facility first'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  url := rtrim(url, '/');
  rid := abdm_hip_internal.enqueue(hip, 'bridge_url', jsonb_build_object('url', url));
  INSERT INTO abdm_hip.bridge_registration (url, request_id) VALUES (url, rid);
  RETURN rid;
END
$$;
COMMENT ON FUNCTION abdm_hip.register_bridge_url(text) IS
  'Queues the gateway call that sets this bridge''s callback URL; returns its REQUEST-ID.';
REVOKE EXECUTE ON FUNCTION abdm_hip.register_bridge_url(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abdm_hip.register_bridge_url(text) TO abdm_hip_admin;

-- The call's outcome, once the sender has one: registered (the gateway took it) or failed.
CREATE OR REPLACE FUNCTION abdm_hip_internal.bridge_registration_outcome() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE abdm_hip.bridge_registration r
     SET status = CASE WHEN NEW.status = 'sent' THEN 'registered' ELSE 'failed' END,
         registered_at = CASE WHEN NEW.status = 'sent' THEN coalesce(NEW.sent_at, now()) END,
         last_error = CASE WHEN NEW.status = 'failed' THEN NEW.last_error END
   WHERE r.request_id = NEW.request_id;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER outbox_bridge_registration AFTER UPDATE OF status ON abdm_hip.outbox
  FOR EACH ROW WHEN (NEW.kind = 'bridge_url' AND NEW.status IN ('sent', 'failed') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION abdm_hip_internal.bridge_registration_outcome();

-- One row: is the listener up, how is it configured, what URL does the gateway have, and
-- what is wrong. `warnings` is empty when nothing is.
CREATE OR REPLACE VIEW abdm_hip.bridge_status WITH (security_barrier) AS
WITH s AS (
  SELECT current_setting('abdm_hip.listen_address') AS listen_address,
         current_setting('abdm_hip.listen_port')::int AS listen_port,
         current_setting('abdm_hip.bridge_workers')::int AS configured_workers,
         current_setting('abdm_hip.verify_jwt')::boolean AS verify_jwt,
         current_setting('abdm_hip.jwt_issuer') AS jwt_issuer
), w AS (
  SELECT count(*)::int AS running_workers FROM pg_catalog.pg_stat_activity WHERE backend_type = 'abdm_hip bridge'
), reg AS (
  SELECT r.url, r.registered_at FROM abdm_hip.bridge_registration r
  WHERE r.status = 'registered' ORDER BY r.registered_at DESC, r.id DESC LIMIT 1
), pending AS (
  SELECT r.url, r.status, r.last_error FROM abdm_hip.bridge_registration r
  WHERE r.status <> 'registered' AND r.id > coalesce((SELECT max(id) FROM abdm_hip.bridge_registration WHERE status = 'registered'), 0)
  ORDER BY r.id DESC LIMIT 1
), refused AS (
  SELECT count(*)::int AS n FROM abdm_hip.inbox i
  WHERE i.http_status = 401 AND i.received_at > now() - interval '1 hour'
), k AS (
  -- The key file that seals the stored secrets (17_sealed_secrets.sql), and a sealed value this
  -- server could not open with it: on a standby, what a promotion would meet.
  SELECT st ->> 'id' AS id, st ->> 'problem' AS problem,
         (SELECT split_part(v, ':', 4) FROM (SELECT value AS v FROM abdm_hip.secret
                                             UNION ALL
                                             SELECT token FROM abdm_hip.link_token WHERE token IS NOT NULL) x
           WHERE split_part(v, ':', 4) IS DISTINCT FROM st ->> 'id' LIMIT 1) AS other_id
  FROM abdm_hip_internal.secret_key_state() AS st
)
SELECT s.listen_address, s.listen_port, s.configured_workers, w.running_workers, s.verify_jwt, s.jwt_issuer,
       reg.url AS registered_url, reg.registered_at,
       pending.url AS pending_url, pending.status AS pending_status, pending.last_error AS pending_error,
       refused.n AS unauthorized_last_hour,
       array_remove(ARRAY[
         CASE WHEN s.listen_port = 0 THEN 'abdm_hip.listen_port is 0: no listener; the gateway''s calls need a web service that calls abdm_hip.receive()' END,
         CASE WHEN s.listen_port <> 0 AND w.running_workers < s.configured_workers
              THEN format('%s of %s listener workers running (see the server log)', w.running_workers, s.configured_workers) END,
         CASE WHEN NOT s.verify_jwt THEN 'abdm_hip.verify_jwt is off: every caller who reaches the port is trusted as the gateway (tests only)' END,
         CASE WHEN s.verify_jwt AND s.jwt_issuer = '' THEN 'abdm_hip.jwt_issuer is not set: every call is refused (401)' END,
         CASE WHEN reg.url IS NULL AND pending.url IS NULL THEN 'no bridge URL registered (abdm_hip.register_bridge_url)' END,
         CASE WHEN pending.status = 'failed' THEN 'the last bridge URL registration failed: ' || coalesce(pending.last_error, '') END,
         CASE WHEN k.other_id IS NOT NULL AND k.id IS NULL
              THEN 'stored secrets cannot be opened: ' || k.problem END,
         CASE WHEN k.other_id IS NOT NULL AND k.id IS NOT NULL
              THEN format('secrets sealed under key %s cannot be opened with this server''s key %s: copy the key file they were sealed under (README "Secrets at rest")',
                          k.other_id, k.id) END
       ], NULL) AS warnings
FROM s, w, refused, k LEFT JOIN reg ON true LEFT JOIN pending ON true;
COMMENT ON VIEW abdm_hip.bridge_status IS
  'The built-in listener: settings, workers running, the bridge URL the gateway has, 401s in the last hour, warnings.';
GRANT SELECT ON abdm_hip.bridge_status TO abdm_hip_app, abdm_hip_admin;
