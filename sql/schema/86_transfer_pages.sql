-- Paged transfers: the transfer worker's state changes (src/pg/worker_transfer.cpp). A request is
-- planned once into pages (the split is the core's rule, core/abdm/push_pages); each page is then
-- claimed, packaged with its own key pair and nonce, pushed and recorded on its own, and pages of
-- different requests are pushed at once (abdm_hip.transfer_concurrency). The request is finished,
-- and the gateway notified once, when every page has an outcome.

-- The requests to plan, oldest first: acknowledged ones, and any left 'transferring' without a
-- plan (a request an earlier version was pushing when the extension was upgraded). Locked, not
-- leased: the worker plans them in this same transaction, so a crash leaves nothing half-planned.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_claim_unplanned(max_rows int)
RETURNS TABLE (hip_id text, transaction_id uuid)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  SELECT r.hip_id, r.transaction_id FROM abdm_hip.hi_request r
  WHERE r.status IN ('acknowledged', 'transferring') AND r.page_count IS NULL AND r.next_attempt_at <= now()
  ORDER BY r.received_at, r.transaction_id
  LIMIT max_rows
  FOR UPDATE SKIP LOCKED
$$;

-- The plan of one request, from the worker: a JSON array of pages, each
-- {"records": [ids], "refs": [care context refs], "sizes": [stored sizes], "oversized": bool}, numbered from 1
-- in array order.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_plan(p_hip_id text, p_tx uuid, pages jsonb, p_entries_per_page int)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO abdm_hip.transfer_page (hip_id, transaction_id, page_number, record_ids, care_context_refs,
                                      record_sizes, stored_bytes, oversized)
  SELECT p_hip_id, p_tx, n::int,
         ARRAY(SELECT jsonb_array_elements_text(pg -> 'records')::bigint),
         ARRAY(SELECT jsonb_array_elements_text(pg -> 'refs')),
         ARRAY(SELECT jsonb_array_elements_text(pg -> 'sizes')::int),
         (SELECT coalesce(sum(v::bigint), 0) FROM jsonb_array_elements_text(pg -> 'sizes') v),
         coalesce((pg ->> 'oversized')::boolean, false)
  FROM jsonb_array_elements(pages) WITH ORDINALITY AS x(pg, n);
  UPDATE abdm_hip.hi_request
     SET status = 'transferring', page_count = jsonb_array_length(pages), entries_per_page = p_entries_per_page,
         lease_until = NULL, error = NULL
   WHERE hip_id = p_hip_id AND transaction_id = p_tx;
END
$$;

-- Due pages, oldest request first (so requests finish in the order they came, not all at the
-- end), leased for the push; the request's attempts count every page push tried. The arrays come
-- as JSON: the worker parses them with its JSON library rather than PostgreSQL's array syntax.
-- Walks the requests under way oldest first and takes each one's due pages through its primary
-- key, stopping at max_rows: the cost is the pages claimed, not every pending page of every
-- request. (As one join of all pending pages with their requests, sorted, a claim cost ~8 ms with
-- 800 pages waiting on the 2-core bench machine, and the worker claims after every few pushes;
-- freshly written tables also have no statistics yet, which gave that join a nested loop over
-- both. PL/pgSQL also keeps the plans between calls, which an SQL function does not.)
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_claim_pages(max_rows int, lease_seconds int)
RETURNS TABLE (hip_id text, transaction_id uuid, page_number int, page_count int, record_ids jsonb,
               care_context_refs jsonb, record_sizes jsonb, data_push_url text, key_material jsonb, received_epoch float8,
               attempts int)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
  req record;
  n int;
  wanted int := max_rows;
BEGIN
  FOR req IN
    SELECT r.hip_id, r.transaction_id FROM abdm_hip.hi_request r
    WHERE r.status = 'transferring'
    ORDER BY r.received_at, r.transaction_id
  LOOP
    EXIT WHEN wanted <= 0;
    RETURN QUERY
    WITH due AS (
      SELECT p.page_number FROM abdm_hip.transfer_page p
      WHERE p.hip_id = req.hip_id AND p.transaction_id = req.transaction_id
        AND p.status = 'pending' AND p.next_attempt_at <= now()
      ORDER BY p.page_number
      LIMIT wanted
      FOR UPDATE SKIP LOCKED),
    claimed AS (
      UPDATE abdm_hip.transfer_page p
         SET lease_until = now() + make_interval(secs => lease_seconds),
             next_attempt_at = now() + make_interval(secs => lease_seconds),
             attempts = p.attempts + 1
        FROM due
       WHERE p.hip_id = req.hip_id AND p.transaction_id = req.transaction_id AND p.page_number = due.page_number
      RETURNING p.*)
    SELECT c.hip_id, c.transaction_id, c.page_number, r.page_count, to_jsonb(c.record_ids), to_jsonb(c.care_context_refs),
           to_jsonb(c.record_sizes), r.data_push_url, r.key_material, extract(epoch FROM r.received_at)::float8, c.attempts
    FROM claimed c JOIN abdm_hip.hi_request r ON r.hip_id = c.hip_id AND r.transaction_id = c.transaction_id
    ORDER BY c.page_number;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
      UPDATE abdm_hip.hi_request r SET attempts = r.attempts + n
       WHERE r.hip_id = req.hip_id AND r.transaction_id = req.transaction_id;
      wanted := wanted - n;
    END IF;
  END LOOP;
END
$$;

-- The worker's outcomes of one turn, a JSON array of {hip_id, transaction_id, page_number,
-- outcome ('pushed', 'retry', 'failed'), error, delay_ms, entries, bytes, delivered}; then every
-- request whose pages all have an outcome is finished (transfer_finished: per care context
-- DELIVERED when each of its entries went out on a pushed page, and one notification). Returns
-- the number of requests finished.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_pages_done(outcomes jsonb) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  req record;
  finished int := 0;
BEGIN
  WITH o AS (
    SELECT * FROM jsonb_to_recordset(outcomes) AS x(hip_id text, transaction_id uuid, page_number int, outcome text,
                                                    error text, delay_ms bigint, entries int, bytes bigint, delivered jsonb,
                                                    sent jsonb)),
  done AS (
  UPDATE abdm_hip.transfer_page p
     SET status = CASE o.outcome WHEN 'pushed' THEN 'pushed' WHEN 'failed' THEN 'failed' ELSE 'pending' END,
         lease_until = NULL,
         next_attempt_at = CASE WHEN o.outcome = 'retry' THEN now() + make_interval(secs => coalesce(o.delay_ms, 0) / 1000.0)
                                ELSE p.next_attempt_at END,
         error = o.error,
         entries = coalesce(o.entries, p.entries), bytes = coalesce(o.bytes, p.bytes),
         delivered = CASE WHEN o.outcome = 'pushed' THEN o.delivered ELSE p.delivered END,
         pushed_at = CASE WHEN o.outcome = 'pushed' THEN now() ELSE p.pushed_at END
    FROM o
   WHERE p.hip_id = o.hip_id AND p.transaction_id = o.transaction_id AND p.page_number = o.page_number
     AND p.status = 'pending'
  RETURNING p.hip_id, p.transaction_id, p.page_number, p.status, o.sent, o.bytes, o.error)
  -- Every page that reached the HIU, or was given up on after entries were sent, goes into the
  -- share ledger, once: only the update that ended the page's pending state writes it.
  INSERT INTO abdm_hip.share_ledger (hip_id, consent_id, hiu_id, abha_address, patient_refs, transaction_id,
                                     page_number, page_count, care_context_refs, entry_checksums, bytes, outcome, error)
  SELECT d.hip_id, r.consent_id, c.hiu_id, c.abha_address,
         ARRAY(SELECT DISTINCT cc.patient_ref FROM abdm_hip.care_context cc, jsonb_array_elements(d.sent) e
               WHERE cc.hip_id = d.hip_id AND cc.reference = e ->> 'ref' ORDER BY 1),
         d.transaction_id, d.page_number, r.page_count,
         ARRAY(SELECT e ->> 'ref' FROM jsonb_array_elements(d.sent) WITH ORDINALITY x(e, n) ORDER BY n),
         ARRAY(SELECT e ->> 'checksum' FROM jsonb_array_elements(d.sent) WITH ORDINALITY x(e, n) ORDER BY n),
         coalesce(d.bytes, 0), d.status, d.error
  FROM done d
  JOIN abdm_hip.hi_request r ON r.hip_id = d.hip_id AND r.transaction_id = d.transaction_id
  LEFT JOIN abdm_hip.consent c ON c.consent_id = r.consent_id
  WHERE d.status IN ('pushed', 'failed') AND jsonb_array_length(coalesce(d.sent, '[]')) > 0;
  -- What an operator sees on the request while a page waits for its retry.
  UPDATE abdm_hip.hi_request r SET error = 'page ' || o.page_number || ': push: ' || o.error
    FROM jsonb_to_recordset(outcomes) AS o(hip_id text, transaction_id uuid, page_number int, outcome text, error text)
   WHERE o.outcome = 'retry' AND r.hip_id = o.hip_id AND r.transaction_id = o.transaction_id;

  FOR req IN
    SELECT DISTINCT r.hip_id, r.transaction_id
    FROM jsonb_to_recordset(outcomes) AS o(hip_id text, transaction_id uuid)
    JOIN abdm_hip.hi_request r ON r.hip_id = o.hip_id AND r.transaction_id = o.transaction_id
    WHERE r.status = 'transferring'
      AND NOT EXISTS (SELECT 1 FROM abdm_hip.transfer_page p
                      WHERE p.hip_id = r.hip_id AND p.transaction_id = r.transaction_id AND p.status = 'pending')
    ORDER BY 1, 2
  LOOP
    PERFORM abdm_hip_internal.transfer_pages_finished(req.hip_id, req.transaction_id);
    finished := finished + 1;
  END LOOP;
  RETURN finished;
END
$$;

-- A request whose pages all have an outcome: per care context what went out on pushed pages,
-- unless part of it was on a page that failed; transferred when no page failed.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_pages_finished(p_hip_id text, p_tx uuid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  failed_reason text;
  delivered jsonb;
BEGIN
  SELECT 'page ' || page_number || ' of ' || (SELECT page_count FROM abdm_hip.hi_request
                                              WHERE hip_id = p_hip_id AND transaction_id = p_tx)
         || ': ' || coalesce(error, 'not pushed')
    INTO failed_reason
  FROM abdm_hip.transfer_page WHERE hip_id = p_hip_id AND transaction_id = p_tx AND status = 'failed'
  ORDER BY page_number LIMIT 1;
  SELECT coalesce(jsonb_object_agg(ref, jsonb_build_object('entries', n, 'bytes', b)), '{}') INTO delivered
  FROM (SELECT d.key AS ref, sum((d.value ->> 'entries')::int) AS n, sum((d.value ->> 'bytes')::bigint) AS b
        FROM abdm_hip.transfer_page p, jsonb_each(p.delivered) d
        WHERE p.hip_id = p_hip_id AND p.transaction_id = p_tx AND p.status = 'pushed'
          AND NOT EXISTS (SELECT 1 FROM abdm_hip.transfer_page f
                          WHERE f.hip_id = p_hip_id AND f.transaction_id = p_tx AND f.status = 'failed'
                            AND d.key = ANY (f.care_context_refs))
        GROUP BY d.key) per_cc;
  PERFORM abdm_hip_internal.transfer_finished(p_hip_id, p_tx, failed_reason IS NULL, failed_reason, delivered);
END
$$;

-- Per page, for an operator: where each push stands. entries_share_key: the page's entries were
-- encrypted under one AES-GCM key and IV (abdm_hip.push_entries_per_page above 1; see README).
CREATE OR REPLACE VIEW abdm_hip.transfer_pages WITH (security_barrier) AS
SELECT p.hip_id, p.transaction_id, p.page_number, r.page_count, p.status,
       cardinality(p.record_ids) AS records, p.entries, p.stored_bytes, p.bytes, p.oversized,
       cardinality(p.record_ids) > 1 AS entries_share_key, p.attempts,
       CASE WHEN p.status = 'pending' THEN p.next_attempt_at END AS next_attempt_at,
       p.pushed_at, p.error
FROM abdm_hip.transfer_page p
JOIN abdm_hip.hi_request r ON r.hip_id = p.hip_id AND r.transaction_id = p.transaction_id;
GRANT SELECT ON abdm_hip.transfer_pages TO abdm_hip_app;

-- The consent no longer allows sharing (revoked or expired while the request was under way): the
-- pages not pushed yet fail with the reason, and the request ends with what was pushed before.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_stop(p_hip_id text, p_tx uuid, reason text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE abdm_hip.transfer_page SET status = 'failed', error = reason, lease_until = NULL
   WHERE hip_id = p_hip_id AND transaction_id = p_tx AND status = 'pending';
  IF FOUND THEN
    PERFORM abdm_hip_internal.transfer_pages_finished(p_hip_id, p_tx);
  ELSE
    PERFORM abdm_hip_internal.transfer_finished(p_hip_id, p_tx, false, reason, '{}');
  END IF;
END
$$;
