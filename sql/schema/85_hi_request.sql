-- Health-information requests (NHA M2 v2.8 §6.3.3–§6.3.4). Before acknowledging, the HIP checks
-- what abdm-docs "Request health records" and the reference HIP (ProjectEKA hip-service
-- DataFlow.cs) check: the consent is known, GRANTED and not past dataEraseAt; the requested date
-- range lies inside the consented one (refused, not trimmed); the HIU's key has not expired.
-- Then on-request ACKNOWLEDGED, and the transfer worker takes over. A refusal is answered
-- ERRORED and followed by a FAILED transfer notification: nothing is ever pushed after it
-- (NHA-ABDM/ABDM-wrapper PR #138).

CREATE OR REPLACE FUNCTION abdm_hip_internal.wake_transfer() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'abdm_wake_transfer';
CREATE OR REPLACE TRIGGER hi_request_wake_transfer AFTER INSERT ON abdm_hip.hi_request
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip_internal.wake_transfer();

-- For the request receive() is handling (parsed once, by receive(); pg/received_message).
CREATE OR REPLACE FUNCTION abdm_hip_internal.check_hi_request(hip_id text, request_id uuid, consent_hip_id text,
  consent_status text, data_erase_at timestamptz, date_from timestamptz, date_to timestamptz, at timestamptz)
RETURNS jsonb LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'abdm_check_hi_request';

CREATE OR REPLACE FUNCTION abdm_hip_internal.consent_refusal(consent_id text, hip_id text, consent_hip_id text,
  consent_status text, data_erase_at timestamptz, at timestamptz)
RETURNS jsonb LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_consent_refusal';

-- The transfer worker's questions, asked in short transactions of their own (it encrypts and
-- pushes outside any transaction):
-- why the request's consent no longer allows sharing (NULL while it does: the core's
-- consent_refusal, the rule the request was accepted under),
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_consent_problem(p_hip_id text, p_tx uuid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT abdm_hip_internal.consent_refusal(r.consent_id::text, r.hip_id, c.hip_id, c.status, c.data_erase_at, now()) ->> 'message'
  FROM abdm_hip.hi_request r LEFT JOIN abdm_hip.consent c ON c.consent_id = r.consent_id
  WHERE r.hip_id = p_hip_id AND r.transaction_id = p_tx
$$;

-- and which records may leave, in the order they are sent: the consented care contexts, the
-- consented HI types, inside both the requested and the consented date range. Ids and stored
-- sizes only; the worker reads the bundles by id in short transactions, a few small ones or one
-- large one at a time.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_records(p_hip_id text, p_tx uuid)
RETURNS TABLE (id bigint, care_context_ref text, stored_bytes int)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT h.id, h.care_context_ref, pg_column_size(h.bundle)
  FROM abdm_hip.hi_request r
  JOIN abdm_hip.consent c ON c.consent_id = r.consent_id
  JOIN abdm_hip.consent_care_context cc ON cc.hip_id = c.hip_id AND cc.consent_id = c.consent_id
  JOIN abdm_hip.health_record h ON h.hip_id = cc.hip_id AND h.care_context_ref = cc.care_context_ref
  WHERE r.hip_id = p_hip_id AND r.transaction_id = p_tx
    AND abdm_hip_internal.consent_refusal(r.consent_id::text, r.hip_id, c.hip_id, c.status, c.data_erase_at, now()) IS NULL
    AND h.hi_type = ANY (c.hi_types)
    AND h.recorded_at >= r.date_from AND h.recorded_at <= r.date_to
    AND h.recorded_at >= c.date_from AND h.recorded_at <= c.date_to
  ORDER BY h.care_context_ref, h.recorded_at, h.id
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.refuse_hi_request(p_hip_id text, p_request_id uuid, p_tx uuid, p_consent uuid,
                                           p_code text, p_message text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'hi_on_request',
    abdm_hip_internal.build_message('hi_on_request', jsonb_build_object(
      'requestId', p_request_id, 'transactionId', p_tx,
      'error', jsonb_build_object('code', p_code, 'message', p_message))));
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'hi_notify',
    abdm_hip_internal.build_message('hi_notify', jsonb_build_object(
      'consentId', p_consent, 'transactionId', p_tx, 'hipId', p_hip_id, 'transferred', false,
      'doneAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'statuses', coalesce((SELECT jsonb_agg(jsonb_build_object('careContextReference', care_context_ref,
                                       'delivered', false, 'description', p_message) ORDER BY care_context_ref)
                            FROM abdm_hip.consent_care_context WHERE hip_id = p_hip_id AND consent_id = p_consent),
                           '[]'))));
END
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_hi_request(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  hr jsonb := msg -> 'hiRequest';
  v_tx uuid := (msg ->> 'transactionId')::uuid;
  v_consent uuid := (hr #>> '{consent,id}')::uuid;
  v_from timestamptz := (hr #>> '{dateRange,from}')::timestamptz;
  v_to timestamptz := (hr #>> '{dateRange,to}')::timestamptz;
  c abdm_hip.consent;
  prior abdm_hip.hi_request;
  verdict jsonb;
  code text;
  problem text;
BEGIN
  -- The same transaction asked again: answered as before, not executed twice.
  SELECT * INTO prior FROM abdm_hip.hi_request WHERE hip_id = p_hip_id AND transaction_id = v_tx;
  IF FOUND THEN
    PERFORM abdm_hip_internal.enqueue(p_hip_id, 'hi_on_request',
      abdm_hip_internal.build_message('hi_on_request', CASE WHEN prior.status = 'errored' THEN
        jsonb_build_object('requestId', p_request_id, 'transactionId', v_tx,
                           'error', jsonb_build_object('code', split_part(prior.error, ': ', 1),
                                                       'message', substr(prior.error, strpos(prior.error, ': ') + 2)))
      ELSE jsonb_build_object('requestId', p_request_id, 'transactionId', v_tx) END));
    RETURN;
  END IF;

  -- The decision is the core's (core/abdm/hi_request_check): the consent, the date range, the
  -- HIU's key. Another HIP's consent is looked up too, so that it is refused as such (ABDM-1035).
  SELECT * INTO c FROM abdm_hip.consent WHERE consent_id = v_consent;
  verdict := abdm_hip_internal.check_hi_request(p_hip_id, p_request_id, c.hip_id, c.status, c.data_erase_at, c.date_from, c.date_to, now());
  IF NOT (verdict ->> 'accepted')::boolean THEN
    code := verdict ->> 'code';
    problem := verdict ->> 'message';
  END IF;

  INSERT INTO abdm_hip.hi_request (hip_id, transaction_id, request_id, consent_id, date_from, date_to,
                                   data_push_url, key_material, status, error, finished_at)
  VALUES (p_hip_id, v_tx, p_request_id, v_consent, v_from, v_to, hr ->> 'dataPushUrl', hr -> 'keyMaterial',
          CASE WHEN code IS NULL THEN 'acknowledged' ELSE 'errored' END,
          CASE WHEN code IS NOT NULL THEN code || ': ' || problem END,
          CASE WHEN code IS NOT NULL THEN now() END);

  IF code IS NOT NULL THEN
    PERFORM abdm_hip_internal.refuse_hi_request(p_hip_id, p_request_id, v_tx, v_consent, code, problem);
    RETURN;
  END IF;
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'hi_on_request',
    abdm_hip_internal.build_message('hi_on_request', jsonb_build_object('requestId', p_request_id, 'transactionId', v_tx)));
END
$$;

-- Per request and care context, for an operator: state, bytes, attempts, timings, error.
CREATE OR REPLACE VIEW abdm_hip.transfer_status WITH (security_barrier) AS
SELECT r.hip_id, r.transaction_id, r.consent_id, r.status AS request_status, t.care_context_ref,
       t.status AS care_context_status, t.entries, t.bytes, r.attempts, r.received_at,
       t.started_at, t.finished_at, coalesce(r.finished_at, t.finished_at) - r.received_at AS duration,
       coalesce(t.error, r.error) AS error,
       r.page_count AS pages,
       (SELECT count(*)::int FROM abdm_hip.transfer_page p
         WHERE p.hip_id = r.hip_id AND p.transaction_id = r.transaction_id AND p.status = 'pushed') AS pages_pushed,
       r.entries_per_page,
       CASE WHEN r.entries_per_page > 1 THEN
         'abdm_hip.push_entries_per_page was ' || r.entries_per_page
         || ': the entries of one page share an AES-GCM key and IV' END AS warning
FROM abdm_hip.hi_request r
LEFT JOIN abdm_hip.transfer t ON t.hip_id = r.hip_id AND t.transaction_id = r.transaction_id;
GRANT SELECT ON abdm_hip.transfer_status TO abdm_hip_app;

CREATE OR REPLACE FUNCTION abdm_hip_internal.fidelius_public_key_valid(key text) RETURNS boolean
LANGUAGE c STRICT IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_fidelius_public_key_valid';

-- The end of a request: per consented care context DELIVERED (its records pushed: p_delivered,
-- from the pushed pages, abdm_hip_internal.transfer_pages_finished) or ERRORED (none in range, or
-- not all pushed), and the notification to the gateway, in one transaction. Every consented care
-- context is reported, with or without records. Pages not pushed yet are not pushed any more.
CREATE OR REPLACE FUNCTION abdm_hip_internal.transfer_finished(p_hip_id text, p_tx uuid, p_transferred boolean, p_reason text,
                                           p_delivered jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  r abdm_hip.hi_request;
  statuses jsonb;
BEGIN
  SELECT * INTO r FROM abdm_hip.hi_request WHERE hip_id = p_hip_id AND transaction_id = p_tx FOR UPDATE;
  IF NOT FOUND OR r.status IN ('transferred', 'failed', 'errored') THEN
    RETURN;  -- already finished: never notify twice
  END IF;
  INSERT INTO abdm_hip.transfer AS t (hip_id, transaction_id, care_context_ref, status, entries, bytes,
                                      attempts, error, started_at, finished_at)
  SELECT p_hip_id, p_tx, cc.care_context_ref,
         CASE WHEN p_delivered ? cc.care_context_ref THEN 'delivered' ELSE 'errored' END,
         coalesce((p_delivered -> cc.care_context_ref ->> 'entries')::int, 0),
         coalesce((p_delivered -> cc.care_context_ref ->> 'bytes')::bigint, 0),
         r.attempts,
         CASE WHEN p_delivered ? cc.care_context_ref THEN NULL
              WHEN NOT p_transferred THEN p_reason
              ELSE 'no records in the requested date range and consented HI types' END,
         r.received_at, now()
  FROM (SELECT DISTINCT care_context_ref FROM abdm_hip.consent_care_context
        WHERE hip_id = p_hip_id AND consent_id = r.consent_id
        UNION SELECT jsonb_object_keys(p_delivered)
        -- A revoked consent's care contexts are gone: the planned pages still name them.
        UNION SELECT unnest(care_context_refs) FROM abdm_hip.transfer_page
              WHERE hip_id = p_hip_id AND transaction_id = p_tx) cc
  ON CONFLICT (hip_id, transaction_id, care_context_ref) DO UPDATE
    SET status = excluded.status, entries = excluded.entries, bytes = excluded.bytes,
        attempts = excluded.attempts, error = excluded.error, finished_at = excluded.finished_at;

  SELECT coalesce(jsonb_agg(jsonb_build_object('careContextReference', t.care_context_ref,
           'delivered', t.status = 'delivered',
           'description', coalesce(t.error, 'Delivered')) ORDER BY t.care_context_ref), '[]')
    INTO statuses
  FROM abdm_hip.transfer t WHERE t.hip_id = p_hip_id AND t.transaction_id = p_tx;

  UPDATE abdm_hip.transfer_page SET status = 'failed', error = coalesce(p_reason, 'the transfer ended'), lease_until = NULL
   WHERE hip_id = p_hip_id AND transaction_id = p_tx AND status = 'pending';
  UPDATE abdm_hip.hi_request
     SET status = CASE WHEN p_transferred THEN 'transferred' ELSE 'failed' END,
         error = CASE WHEN p_transferred THEN NULL ELSE p_reason END,
         finished_at = now(), lease_until = NULL
   WHERE hip_id = p_hip_id AND transaction_id = p_tx;

  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'hi_notify',
    abdm_hip_internal.build_message('hi_notify', jsonb_build_object(
      'consentId', r.consent_id, 'transactionId', p_tx, 'hipId', p_hip_id, 'transferred', p_transferred,
      'doneAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'statuses', statuses)));
END
$$;
