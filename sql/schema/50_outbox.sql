-- The transactional outbox: how every state change asks for an outbound call, and how the sender
-- worker reports back. Outbound bodies come from the core's builders (build_message).

CREATE OR REPLACE FUNCTION abdm_hip_internal.build_message(kind text, input jsonb) RETURNS jsonb
LANGUAGE c STRICT STABLE AS 'MODULE_PATHNAME', 'abdm_build_message';
COMMENT ON FUNCTION abdm_hip_internal.build_message(text, jsonb) IS
  'The exact ABDM V3 body of an outbound message (kinds: generate_token, link_carecontext, context_notify, sms_notify2, on_discover, on_init, on_confirm, consent_on_notify, hi_on_request, hi_notify, patient_status_on_notify).';

CREATE OR REPLACE FUNCTION abdm_hip_internal.outbound_path(kind text) RETURNS text
LANGUAGE c STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'abdm_outbound_path';

CREATE OR REPLACE FUNCTION abdm_hip_internal.outbound_method(kind text) RETURNS text
LANGUAGE c STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'abdm_outbound_method';

-- Queues one gateway call; returns its REQUEST-ID (stable across retries). X-HIP-ID is sent on
-- every V3 call, as NHA's wrapper does (harmless where the gateway does not need it). Priority 0
-- is live work; enqueue_at(1, ...) queues the hospital's history, which waits behind it.
CREATE OR REPLACE FUNCTION abdm_hip_internal.enqueue_at(priority int, hip_id text, kind text, body jsonb,
                                                       extra_headers jsonb DEFAULT '{}',
                                                       request_id uuid DEFAULT gen_random_uuid())
RETURNS uuid LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO abdm_hip.outbox (hip_id, kind, target, method, request_id, headers, body, priority)
  VALUES (hip_id, kind, abdm_hip_internal.outbound_path(kind), abdm_hip_internal.outbound_method(kind), request_id,
          jsonb_build_object('X-HIP-ID', hip_id) || coalesce(extra_headers, '{}'), body, priority);
  RETURN request_id;
END
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.enqueue(hip_id text, kind text, body jsonb, extra_headers jsonb DEFAULT '{}',
                                 request_id uuid DEFAULT gen_random_uuid())
RETURNS uuid LANGUAGE sql SET search_path = pg_catalog, pg_temp
RETURN abdm_hip_internal.enqueue_at(0, hip_id, kind, body, extra_headers, request_id);

-- A commit that queued or re-timed outbox rows wakes the sender at once.
CREATE OR REPLACE FUNCTION abdm_hip_internal.wake_sender() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'abdm_wake_sender';
CREATE OR REPLACE TRIGGER outbox_wake_sender AFTER INSERT ON abdm_hip.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip_internal.wake_sender();

-- The sender's claim: up to max_rows due rows, live ones (priority 0) before history, oldest first,
-- each leased for lease_seconds (its next attempt moves to the lease's end, so a worker that dies
-- leaves nothing stuck: the row is due again when the lease ends). SKIP LOCKED: claims running at
-- once take disjoint rows without waiting (test/isolation/specs/outbox_claim.spec). Without a
-- client id the gateway's calls stay unclaimed and only hook calls (targets that are full URLs) go.
-- budgets: {"kind": n, ...}, the calls each rate-limited kind may make now (the sender's token
-- buckets, src/pg/sender_rate_limits.cpp): no more rows of that kind are taken; kinds not named
-- are not limited.
CREATE OR REPLACE FUNCTION abdm_hip_internal.outbox_claim_some(max_rows int, lease_seconds int, gateway_ready boolean,
                                                              p_priority int, p_kind text, p_unlimited_except text[])
RETURNS TABLE (id bigint, hip_id text, kind text, target text, method text, request_id uuid,
               headers jsonb, body jsonb, attempts int)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
WITH due AS (
  SELECT o.hip_id, o.id FROM abdm_hip.outbox o
  WHERE o.status = 'pending' AND o.priority = p_priority AND o.next_attempt_at <= now()
    AND (gateway_ready OR left(o.target, 1) <> '/')
    AND (p_kind IS NULL OR o.kind = p_kind)
    AND (p_unlimited_except IS NULL OR o.kind <> ALL (p_unlimited_except))
  ORDER BY o.next_attempt_at, o.id
  LIMIT max_rows
  FOR UPDATE SKIP LOCKED)
UPDATE abdm_hip.outbox o
   SET lease_until = now() + make_interval(secs => lease_seconds),
       next_attempt_at = now() + make_interval(secs => lease_seconds),
       attempts = o.attempts + 1
  FROM due
 WHERE o.hip_id = due.hip_id AND o.id = due.id
RETURNING o.id, o.hip_id, o.kind, o.target, o.method, o.request_id, o.headers, o.body, o.attempts
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.outbox_claim(max_rows int, lease_seconds int, gateway_ready boolean,
                                                         budgets jsonb DEFAULT '{}')
RETURNS TABLE (id bigint, hip_id text, kind text, target text, method text, request_id uuid,
               headers jsonb, body jsonb, attempts int)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  limited text[] := ARRAY(SELECT jsonb_object_keys(coalesce(budgets, '{}')) ORDER BY 1);
  spent jsonb := '{}';
  room int := max_rows;
  prio int;
  k text;
  n int;
  got int;
BEGIN
  FOR prio IN 0..1 LOOP
    EXIT WHEN room <= 0;
    FOREACH k IN ARRAY limited LOOP
      n := least(room, greatest(0, (budgets ->> k)::int - coalesce((spent ->> k)::int, 0)));
      CONTINUE WHEN n <= 0;
      RETURN QUERY SELECT * FROM abdm_hip_internal.outbox_claim_some(n, lease_seconds, gateway_ready, prio, k, NULL);
      GET DIAGNOSTICS got = ROW_COUNT;
      room := room - got;
      spent := spent || jsonb_build_object(k, coalesce((spent ->> k)::int, 0) + got);
    END LOOP;
    CONTINUE WHEN room <= 0;
    RETURN QUERY SELECT * FROM abdm_hip_internal.outbox_claim_some(room, lease_seconds, gateway_ready, prio, NULL, limited);
    GET DIAGNOSTICS got = ROW_COUNT;
    room := room - got;
  END LOOP;
END
$$;

-- The sender's reports of one turn, as a JSON array of {id, hip_id, outcome, http_status, error,
-- response, delay_ms}: one set-based update, then the follow-ups of the final failures (a link
-- token that could not be had, a link that was refused), in the same transaction. Outcomes:
-- 'sent', 'retry' (after delay_ms), 'failed', or 'defer' (not sent for want of configuration:
-- waits delay_ms without using up an attempt).
--
-- The update joins by primary key, one index probe per outcome, whatever the planner thinks:
-- its fixed guess of 100 rows for jsonb_to_recordset() otherwise picks a hash join over a scan of
-- the whole outbox while the table is small or not yet analysed (1 ms a call at 5,000 rows, for
-- a batch of one).
CREATE OR REPLACE FUNCTION abdm_hip_internal.outbox_record_batch(outcomes jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  failed abdm_hip.outbox;
BEGIN
  FOR failed IN
    UPDATE abdm_hip.outbox o
       SET status = CASE x.outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
           attempts = CASE WHEN x.outcome = 'defer' THEN greatest(o.attempts - 1, 0) ELSE o.attempts END,
           last_http_status = x.http_status,
           last_error = CASE WHEN x.outcome = 'sent' THEN NULL ELSE x.error END,
           response = x.response,
           sent_at = CASE WHEN x.outcome = 'sent' THEN now() ELSE o.sent_at END,
           next_attempt_at = CASE WHEN x.outcome IN ('retry', 'defer')
                                  THEN now() + make_interval(secs => x.delay_ms / 1000.0)
                                  ELSE o.next_attempt_at END,
           lease_until = NULL
      FROM jsonb_to_recordset(outcomes) AS x(id bigint, hip_id text, outcome text, http_status int,
                                             error text, response jsonb, delay_ms bigint)
     WHERE o.hip_id = x.hip_id AND o.id = x.id
    RETURNING o.*
  LOOP
    IF failed.status = 'failed' THEN
      PERFORM abdm_hip_internal.outbox_failed(failed);
    END IF;
  END LOOP;
END
$$;

-- The code of the first error a gateway answer carries ("ABDM-1092: " → "ABDM-1092"), in every
-- envelope ABDM and its API manager use; NULL when it carries none. The sender classifies
-- answers with the same reading (core/util/gateway_error).
CREATE OR REPLACE FUNCTION abdm_hip.gateway_error_code(response jsonb) RETURNS text
LANGUAGE c STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'abdm_gateway_error_code';

-- What a final failure means for the state that queued the call.
CREATE OR REPLACE FUNCTION abdm_hip_internal.outbox_failed(o abdm_hip.outbox) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  code text := coalesce(abdm_hip.gateway_error_code(o.response), '');
BEGIN
  IF o.kind = 'generate_token' THEN
    PERFORM abdm_hip_internal.refuse_link_token(t.hip_id, t.abha_address, code, o.last_error)
    FROM abdm_hip.link_token t WHERE t.hip_id = o.hip_id AND t.request_id = o.request_id;
  ELSIF o.kind = 'link_carecontext' AND o.last_error LIKE 'sealed value: X-LINK-TOKEN:%' THEN
    -- The sender could not open the token (sealed under another server's key: a restore
    -- elsewhere, a lost key file; src/pg/worker_sender.cpp words the failure so). It is of no use
    -- here: the call's links wait again, and a new token is asked for, sealed under this key.
    -- If none can be asked for (the patient's details no longer make a request), the links fail
    -- as any other, saying both; recording the sender's outcomes must not fail for it.
    BEGIN
      UPDATE abdm_hip.link_token t SET status = 'failed', token = NULL, last_error = o.last_error
       WHERE t.hip_id = o.hip_id AND lower(t.abha_address) = lower(o.body ->> 'abhaAddress');
      UPDATE abdm_hip.care_context_link l SET request_id = NULL
       WHERE l.hip_id = o.hip_id AND l.request_id = o.request_id AND l.status = 'requested';
      -- One patient per call (send_pending_links).
      PERFORM abdm_hip_internal.request_link_token(o.hip_id, o.body #>> '{patient,0,referenceNumber}');
    EXCEPTION WHEN OTHERS THEN
      UPDATE abdm_hip.care_context_link l
         SET status = 'failed', last_error = o.last_error || '; no new link token could be asked for: ' || SQLERRM
       WHERE l.hip_id = o.hip_id AND l.request_id = o.request_id AND l.status = 'requested';
    END;
  ELSIF o.kind = 'link_carecontext' THEN
    UPDATE abdm_hip.care_context_link l
       SET status = CASE WHEN code = 'ABDM-1056' THEN 'linked' ELSE 'failed' END,
           linked_at = CASE WHEN code = 'ABDM-1056' THEN now() END,
           last_error = CASE WHEN code = 'ABDM-1056' THEN NULL ELSE o.last_error END
     WHERE l.hip_id = o.hip_id AND l.request_id = o.request_id AND l.status = 'requested';
  END IF;
END
$$;

-- Deletes finished history older than abdm_hip.retention_days (run by the sender every hour).
CREATE OR REPLACE FUNCTION abdm_hip.purge_history() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  keep interval := make_interval(days => current_setting('abdm_hip.retention_days')::int);
  n bigint := 0;
  m bigint;
BEGIN
  DELETE FROM abdm_hip.outbox WHERE status IN ('sent', 'failed') AND coalesce(sent_at, created_at) < now() - keep;
  GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
  DELETE FROM abdm_hip.inbox WHERE received_at < now() - keep;
  GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
  DELETE FROM abdm_hip.hi_request WHERE status IN ('transferred', 'failed', 'errored') AND received_at < now() - keep;
  GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
  DELETE FROM abdm_hip.discovery WHERE created_at < now() - keep;
  GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
  -- A link request that was never confirmed goes too once it is long expired (with its OTP hash).
  DELETE FROM abdm_hip.link_request
   WHERE (status <> 'pending' OR otp_expires_at < now() - keep) AND created_at < now() - keep;
  GET DIAGNOSTICS m = ROW_COUNT; n := n + m;
  RETURN n;
END
$$;

-- What an operator wants to see: what is queued, sent, failed, and why. No bodies, no tokens.
CREATE OR REPLACE VIEW abdm_hip.outbox_status WITH (security_barrier) AS
SELECT o.id, o.hip_id, o.kind, o.target, o.request_id, o.status, o.attempts,
       o.next_attempt_at, o.last_http_status, o.last_error, o.created_at, o.sent_at,
       CASE WHEN o.status = 'sent' THEN o.sent_at - o.created_at END AS delivery_time,
       o.lease_until IS NOT NULL AND o.lease_until > now() AS in_flight,
       o.answer, o.resends
FROM abdm_hip.outbox o;

GRANT SELECT ON abdm_hip.outbox_status TO abdm_hip_app;
