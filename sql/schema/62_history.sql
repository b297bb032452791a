-- Linking the hospital's history: care contexts that were loaded without being announced (inserted
-- with link_pending = false) or never announced, announced from a backend batch ("same for new or
-- legacy records", NHA ABDM Milestone 2 certification case HIP_INTI_LINK_505) within ABDM's limits.
--
--   abdm_hip.announce_history(hip_id, since, until)  queues the care contexts (history_item);
--     again: nothing more (a care context is announced once)
--   the sender, a few seconds' worth at a time      links them as a new visit is linked (a link
--     (dispatch_history)                             token per ABHA address, one link/carecontext
--                                                    per patient), at history priority: live rows
--                                                    of the outbox go first, and every call stays
--                                                    within its endpoint's rate limit
--   abdm_hip.cancel_history(hip_id)                  what is still queued is not announced
--   abdm_hip.history_progress                        queued, linked, failed, blocked, rate, time left
--   abdm_hip.link_blocks                             ABHA addresses ABDM blocked (ABDM-1027)
--   abdm_hip.rate_limits                             each endpoint's configured and current rate,
--                                                    and the throttle answers (ABDM-1022, 429)

CREATE OR REPLACE FUNCTION abdm_hip.announce_history(hip_id text, since timestamptz DEFAULT NULL,
                                                     until timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  p_hip_id text := hip_id;
  n bigint;
BEGIN
  IF p_hip_id IS NULL OR NOT EXISTS (SELECT 1 FROM abdm_hip.facility f WHERE f.hip_id = p_hip_id) THEN
    RAISE EXCEPTION 'hip_id: % is not a facility of this database', coalesce(p_hip_id, 'NULL')
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Register it in abdm_hip.facility first.';
  END IF;
  IF since IS NOT NULL AND until IS NOT NULL AND since >= until THEN
    RAISE EXCEPTION 'since: % is not before until (%)', since, until
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Only patients with an ABHA address can be linked; care contexts still link_pending are the
  -- sender's already; one with a link (requested, linked or failed) was announced before. A
  -- cancelled announcement may be queued again.
  INSERT INTO abdm_hip.history_item AS h (hip_id, care_context_ref, patient_ref)
  SELECT c.hip_id, c.reference, c.patient_ref
    FROM abdm_hip.care_context c
    JOIN abdm_hip.patient p ON p.hip_id = c.hip_id AND p.patient_ref = c.patient_ref
   WHERE c.hip_id = p_hip_id AND NOT c.link_pending AND p.abha_address IS NOT NULL
     AND (since IS NULL OR c.visit_at >= since) AND (until IS NULL OR c.visit_at < until)
     AND NOT EXISTS (SELECT 1 FROM abdm_hip.care_context_link l
                      WHERE l.hip_id = c.hip_id AND l.care_context_ref = c.reference)
  ON CONFLICT ON CONSTRAINT history_item_pkey DO UPDATE
     SET status = 'queued', queued_at = now(), dispatched_at = NULL
   WHERE h.status = 'cancelled';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION abdm_hip.announce_history(text, timestamptz, timestamptz) IS
  'Queues link announcements for the existing, never announced care contexts of a HIP whose visit_at is in [since, until); returns how many were queued. Idempotent and resumable.';
REVOKE EXECUTE ON FUNCTION abdm_hip.announce_history(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abdm_hip.announce_history(text, timestamptz, timestamptz) TO abdm_hip_admin;

-- What is still queued is not announced; what the sender already took (a few seconds' worth)
-- finishes. Returns how many were cancelled.
CREATE OR REPLACE FUNCTION abdm_hip.cancel_history(hip_id text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  p_hip_id text := hip_id;
  n bigint;
BEGIN
  UPDATE abdm_hip.history_item h SET status = 'cancelled'
   WHERE h.status = 'queued' AND (p_hip_id IS NULL OR h.hip_id = p_hip_id);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION abdm_hip.cancel_history(text) IS
  'Cancels the announcements of announce_history() not yet taken by the sender (of one HIP, or all); returns how many.';
REVOKE EXECUTE ON FUNCTION abdm_hip.cancel_history(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abdm_hip.cancel_history(text) TO abdm_hip_admin;

-- An announcement wakes the sender at its commit, like a new visit.
CREATE OR REPLACE TRIGGER history_item_wake_sender AFTER INSERT ON abdm_hip.history_item
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip_internal.wake_sender();

-- Called by the sender: turns queued history into link calls while fewer than max_backlog history
-- calls wait in the outbox, so the outbox holds a few seconds' worth at the rate limit (a cancel
-- stops the rest at once, and the claim's scans stay short) — a patient's care contexts together.
-- Returns the number of care contexts taken, or -1 when nothing is queued.
CREATE OR REPLACE FUNCTION abdm_hip_internal.dispatch_history(max_backlog int) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  backlog int;
  taken int;
  hips text[];
  refs text[];
  pats text[];
  p record;
BEGIN
  PERFORM 1 FROM abdm_hip.history_item WHERE status = 'queued' LIMIT 1;
  IF NOT FOUND THEN RETURN -1; END IF;
  SELECT count(*) INTO backlog
    FROM (SELECT 1 FROM abdm_hip.outbox o WHERE o.status = 'pending' AND o.priority = 1 LIMIT max_backlog) x;
  IF backlog >= max_backlog THEN RETURN 0; END IF;
  WITH picked AS (
    SELECT h.hip_id, h.care_context_ref FROM abdm_hip.history_item h
     WHERE h.status = 'queued'
     ORDER BY h.hip_id, h.patient_ref
     LIMIT max_backlog - backlog
     FOR UPDATE SKIP LOCKED),
  done AS (
    UPDATE abdm_hip.history_item h SET status = 'dispatched', dispatched_at = now()
      FROM picked WHERE h.hip_id = picked.hip_id AND h.care_context_ref = picked.care_context_ref
    RETURNING h.hip_id, h.care_context_ref, h.patient_ref)
  SELECT count(*)::int, coalesce(array_agg(done.hip_id), '{}'), coalesce(array_agg(done.care_context_ref), '{}'),
         coalesce(array_agg(done.patient_ref), '{}')
    INTO taken, hips, refs, pats
    FROM done;
  -- The patient's ABHA address now (it may have changed since the announcement).
  INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, status, method)
  SELECT b.hip_id, b.care_context_ref, pt.abha_address, 'requested', 'hip_initiated'
    FROM unnest(hips, refs, pats) AS b(hip_id, care_context_ref, patient_ref)
    JOIN abdm_hip.patient pt ON pt.hip_id = b.hip_id AND pt.patient_ref = b.patient_ref
   WHERE pt.abha_address IS NOT NULL
  ON CONFLICT (hip_id, care_context_ref, abha_address) DO NOTHING;
  FOR p IN SELECT DISTINCT b.hip_id, b.patient_ref, pt.abha_address
             FROM unnest(hips, pats) AS b(hip_id, patient_ref)
             JOIN abdm_hip.patient pt ON pt.hip_id = b.hip_id AND pt.patient_ref = b.patient_ref
            WHERE pt.abha_address IS NOT NULL
            ORDER BY 1, 2 LOOP
    IF abdm_hip_internal.send_pending_links(p.hip_id, p.abha_address) = 0 THEN
      PERFORM abdm_hip_internal.request_link_token(p.hip_id, p.patient_ref);
    END IF;
  END LOOP;
  RETURN taken;
END
$$;

-- The counts behind history_progress. Hash joins, always: history_item is announced whole while
-- care_context_link and link_token grow under it, and a plan made while they were empty (a nested
-- loop over sequential scans) takes minutes at 100,000 care contexts. SECURITY DEFINER: the
-- HMIS's role reads the progress, not the work list.
CREATE OR REPLACE FUNCTION abdm_hip_internal.history_counts()
RETURNS TABLE (hip_id text, announced bigint, queued bigint, in_progress bigint, linked bigint, failed bigint,
               blocked bigint, cancelled bigint, linked_last_minute bigint, started_at timestamptz,
               first_linked_at timestamptz, last_linked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_nestloop = off AS $$
  SELECT h.hip_id,
         count(*),
         count(*) FILTER (WHERE h.status = 'queued'),
         count(*) FILTER (WHERE l.status = 'requested' AND t.status IS DISTINCT FROM 'blocked'),
         count(*) FILTER (WHERE l.status = 'linked'),
         count(*) FILTER (WHERE l.status = 'failed'),
         count(*) FILTER (WHERE l.status = 'requested' AND t.status = 'blocked'),
         count(*) FILTER (WHERE h.status = 'cancelled'),
         count(*) FILTER (WHERE l.linked_at > now() - interval '1 minute'),
         min(h.queued_at), min(l.linked_at), max(l.linked_at)
    FROM abdm_hip.history_item h
    LEFT JOIN abdm_hip.care_context_link l
           ON l.hip_id = h.hip_id AND l.care_context_ref = h.care_context_ref AND l.method = 'hip_initiated'
    LEFT JOIN abdm_hip.link_token t ON t.hip_id = l.hip_id AND t.abha_address = l.abha_address
   GROUP BY h.hip_id
$$;
REVOKE EXECUTE ON FUNCTION abdm_hip_internal.history_counts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abdm_hip_internal.history_counts() TO abdm_hip_app;

-- How far the announcement of the history has come, per HIP. rate: care contexts linked per
-- second over the last minute (or since the first link, if sooner); time_left: what is not yet
-- linked (nor failed, nor blocked) at that rate.
CREATE OR REPLACE VIEW abdm_hip.history_progress WITH (security_barrier) AS
WITH rated AS (
  SELECT c.*,
         CASE WHEN c.linked_last_minute > 0
              THEN c.linked_last_minute / greatest(1.0, least(60.0,
                     extract(epoch FROM now() - greatest(c.first_linked_at, now() - interval '1 minute'))::numeric))
         END AS rate
    FROM abdm_hip_internal.history_counts() c
)
SELECT hip_id, announced, queued, in_progress, linked, failed, blocked, cancelled,
       round(rate, 1) AS rate,
       CASE WHEN queued + in_progress = 0 THEN interval '0'
            WHEN rate > 0 THEN make_interval(secs => round((queued + in_progress) / rate))
       END AS time_left,
       started_at,
       CASE WHEN queued + in_progress = 0 THEN last_linked_at END AS finished_at
  FROM rated;
COMMENT ON VIEW abdm_hip.history_progress IS
  'The announcement of the hospital''s history per HIP: queued, in progress, linked, failed, blocked (ABDM-1027), cancelled, care contexts linked per second over the last minute, and the time left at that rate.';
GRANT SELECT ON abdm_hip.history_progress TO abdm_hip_app;

-- ABHA addresses ABDM blocked (ABDM-1027: too many link-token requests; blocked for 24 hours):
-- no call for them until blocked_until, then one more request, a bounded number of times
-- (core/abdm/link_token_policy); waiting_links are the care contexts that wait for it.
CREATE OR REPLACE VIEW abdm_hip.link_blocks WITH (security_barrier) AS
SELECT t.hip_id, t.abha_address, t.retry_after AS blocked_until, t.retry_after > now() AS blocked_now,
       t.refusals, t.last_error,
       (SELECT count(*) FROM abdm_hip.care_context_link l
         WHERE l.hip_id = t.hip_id AND lower(l.abha_address) = lower(t.abha_address)
           AND l.status = 'requested' AND l.request_id IS NULL) AS waiting_links
  FROM abdm_hip.link_token t
 WHERE t.status = 'blocked';
COMMENT ON VIEW abdm_hip.link_blocks IS
  'ABHA addresses for which ABDM refused link tokens with ABDM-1027 (blocked for 24 hours): until when, how often refused, and the links waiting.';
GRANT SELECT ON abdm_hip.link_blocks TO abdm_hip_app;

-- Per patient of the announced history: what is linked, what waits and why (a failed link's
-- reason, the link token's state and when it is asked for again).
CREATE OR REPLACE VIEW abdm_hip.history_patients WITH (security_barrier) AS
SELECT h.hip_id, h.patient_ref, p.abha_address,
       count(*) AS care_contexts,
       count(*) FILTER (WHERE h.status = 'queued') AS queued,
       count(*) FILTER (WHERE l.status = 'linked') AS linked,
       count(*) FILTER (WHERE l.status = 'failed') AS failed,
       count(*) FILTER (WHERE h.status = 'cancelled') AS cancelled,
       t.status AS token_status, t.retry_after AS token_retry_after,
       min(l.last_error) AS link_error
  FROM abdm_hip.history_item h
  JOIN abdm_hip.patient p ON p.hip_id = h.hip_id AND p.patient_ref = h.patient_ref
  LEFT JOIN abdm_hip.care_context_link l
         ON l.hip_id = h.hip_id AND l.care_context_ref = h.care_context_ref AND l.method = 'hip_initiated'
  LEFT JOIN abdm_hip.link_token t ON t.hip_id = h.hip_id AND t.abha_address = p.abha_address
 GROUP BY h.hip_id, h.patient_ref, p.abha_address, t.status, t.retry_after;
COMMENT ON VIEW abdm_hip.history_patients IS
  'Per patient of the announced history: care contexts announced, queued, linked, failed, cancelled, the link token''s state and the first link error.';
GRANT SELECT ON abdm_hip.history_patients TO abdm_hip_app;

-- Each rate-limited gateway endpoint as the sender holds it now: its configured rate
-- (abdm_hip.rate_limit_*), its current rate (halved by each ABDM-1022 or 429, at most once a
-- second, recovering after 5 s of quiet; core/net/rate_limit.hpp), and the throttle answers since
-- the sender started. The buckets live in the sender's memory; it publishes them to shared memory
-- four times a second at most (src/pg/sender_rate_limits.cpp), so as_of says how fresh a row is.
-- No rows: the sender has not run since the server started (or the library is not preloaded).
CREATE OR REPLACE FUNCTION abdm_hip_internal.rate_limit_state() RETURNS jsonb
LANGUAGE c VOLATILE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_rate_limit_state';
REVOKE EXECUTE ON FUNCTION abdm_hip_internal.rate_limit_state() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION abdm_hip_internal.rate_limit_state() TO abdm_hip_app;

CREATE OR REPLACE VIEW abdm_hip.rate_limits AS
SELECT k.kind AS endpoint_kind,
       k.configured_per_s,
       round(k.current_per_s::numeric, 2)::float8 AS current_per_s,
       CASE WHEN k.configured_per_s = 0 THEN 'unlimited'
            WHEN k.current_per_s < k.configured_per_s THEN 'slowed'
            ELSE 'full' END AS state,
       k.throttles,
       to_timestamp(k.last_throttle_ms / 1000.0) AS last_throttled_at,
       to_timestamp((s.j ->> 'published_ms')::bigint / 1000.0) AS as_of
  FROM (SELECT abdm_hip_internal.rate_limit_state() AS j) s,
       jsonb_to_recordset(s.j -> 'kinds')
         AS k(kind text, configured_per_s float8, current_per_s float8, throttles bigint, last_throttle_ms bigint);
COMMENT ON VIEW abdm_hip.rate_limits IS
  'Each rate-limited gateway endpoint (by outbox kind): configured calls/s (0 = unlimited), the current rate after throttle answers, full/slowed/unlimited, throttle answers (ABDM-1022, HTTP 429) since the sender started and the last one, as published by the sender (as_of).';
GRANT SELECT ON abdm_hip.rate_limits TO abdm_hip_app;
