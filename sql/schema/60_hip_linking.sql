-- HIP-initiated linking (V3), new-record notifications and the SMS deep link, driven by what the
-- HMIS writes. Protocol: NHA "Sandbox Documentation (ABDM_Milestone 2)" v2.8 §4.3.1–§4.3.9.
--
--   care_context INSERT, patient has an ABHA address
--     → a valid link token for (HIP, ABHA address): link/carecontext at once, one call per patient
--     → none: generate-token once; on-generate-token stores the token and sends the pending links
--   care_context gains an HI type (or a health_record of a new type arrives) while linked
--     → link/context/notify
--   care_context INSERT, patient has no ABHA address but a mobile
--     → patients/sms/notify2, once per patient per abdm_hip.sms_notify_interval

-- A link token is reused until a day before it expires (it lives ~6 months; NHA M2 v2.8 §4.3.2).
CREATE OR REPLACE FUNCTION abdm_hip_internal.link_token_usable(t abdm_hip.link_token) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN t.status = 'valid' AND t.token IS NOT NULL AND t.expires_at > now() + interval '1 day';

-- Sends every requested-but-unsent link of (HIP, ABHA address) in one link/carecontext call per
-- patient, grouped by HI type by the core builder.
CREATE OR REPLACE FUNCTION abdm_hip_internal.send_pending_links(p_hip_id text, p_abha_address text) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tok abdm_hip.link_token;
  pat record;
  rid uuid;
  sent int := 0;
BEGIN
  SELECT * INTO tok FROM abdm_hip.link_token WHERE hip_id = p_hip_id AND abha_address = p_abha_address;
  IF NOT FOUND OR NOT abdm_hip_internal.link_token_usable(tok) THEN
    RETURN 0;
  END IF;
  FOR pat IN
    SELECT p.patient_ref, p.name, p.abha_number,
           jsonb_agg(jsonb_build_object('referenceNumber', c.reference, 'display', c.display,
                                        'hiTypes', to_jsonb(c.hi_types)) ORDER BY c.visit_at, c.reference) AS contexts,
           array_agg(c.reference) AS refs,
           -- The hospital's history goes behind live work unless a new visit rides along.
           bool_and(h.care_context_ref IS NOT NULL) AS history
    FROM abdm_hip.care_context_link l
    JOIN abdm_hip.care_context c ON c.hip_id = l.hip_id AND c.reference = l.care_context_ref
    JOIN abdm_hip.patient p ON p.hip_id = c.hip_id AND p.patient_ref = c.patient_ref
    LEFT JOIN abdm_hip.history_item h ON h.hip_id = l.hip_id AND h.care_context_ref = l.care_context_ref
                                     AND h.status = 'dispatched'
    WHERE l.hip_id = p_hip_id AND lower(l.abha_address) = lower(p_abha_address) AND l.status = 'requested'
      AND l.request_id IS NULL AND l.method = 'hip_initiated'
    GROUP BY p.patient_ref, p.name, p.abha_number
  LOOP
    rid := abdm_hip_internal.enqueue_at(CASE WHEN pat.history THEN 1 ELSE 0 END, p_hip_id, 'link_carecontext',
      abdm_hip_internal.build_message('link_carecontext', jsonb_strip_nulls(jsonb_build_object(
        -- abhaNumber only when it went to generate-token (NHA FAQ).
        'abhaNumber', CASE WHEN tok.abha_number_sent THEN regexp_replace(pat.abha_number, '-', '', 'g') END,
        'abhaAddress', p_abha_address,
        'patient', jsonb_build_object('referenceNumber', pat.patient_ref, 'display', pat.name,
                                      'careContexts', pat.contexts)))),
      jsonb_build_object('X-LINK-TOKEN', tok.token));
    UPDATE abdm_hip.care_context_link SET request_id = rid
     WHERE hip_id = p_hip_id AND lower(abha_address) = lower(p_abha_address) AND care_context_ref = ANY (pat.refs);
    sent := sent + 1;
  END LOOP;
  RETURN sent;
END
$$;

-- The priority of the next call for an ABHA address's waiting links: 1 (history) when every one
-- of them was announced by announce_history, else 0 (a new visit is among them).
CREATE OR REPLACE FUNCTION abdm_hip_internal.link_priority(p_hip_id text, p_abha_address text) RETURNS int
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN count(*) > 0 AND bool_and(h.care_context_ref IS NOT NULL) THEN 1 ELSE 0 END
  FROM abdm_hip.care_context_link l
  LEFT JOIN abdm_hip.history_item h ON h.hip_id = l.hip_id AND h.care_context_ref = l.care_context_ref
                                   AND h.status = 'dispatched'
  WHERE l.hip_id = p_hip_id AND lower(l.abha_address) = lower(p_abha_address)
    AND l.status = 'requested' AND l.request_id IS NULL
$$;

-- Asks for a link token unless one is valid, already asked for, or ABDM told us to wait.
CREATE OR REPLACE FUNCTION abdm_hip_internal.request_link_token(p_hip_id text, p_patient_ref text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pat abdm_hip.patient;
  tok abdm_hip.link_token;
  rid uuid;
  prio int;
BEGIN
  SELECT * INTO pat FROM abdm_hip.patient WHERE hip_id = p_hip_id AND patient_ref = p_patient_ref;
  prio := abdm_hip_internal.link_priority(p_hip_id, pat.abha_address);
  SELECT * INTO tok FROM abdm_hip.link_token WHERE hip_id = p_hip_id AND abha_address = pat.abha_address FOR UPDATE;
  IF FOUND THEN
    IF abdm_hip_internal.link_token_usable(tok) THEN RETURN false; END IF;
    -- One request in flight at a time; a request unanswered for an hour may be repeated. A new
    -- visit whose token request waits behind the history moves it to the front.
    IF tok.status = 'requested' AND tok.requested_at > now() - interval '1 hour' THEN
      IF prio = 0 THEN
        UPDATE abdm_hip.outbox SET priority = 0
         WHERE request_id = tok.request_id AND status = 'pending' AND priority <> 0;
      END IF;
      RETURN false;
    END IF;
    IF tok.retry_after IS NOT NULL AND tok.retry_after > now() THEN RETURN false; END IF;
  END IF;
  rid := abdm_hip_internal.enqueue_at(prio, p_hip_id, 'generate_token',
    abdm_hip_internal.build_message('generate_token', jsonb_strip_nulls(jsonb_build_object(
      'abhaNumber', pat.abha_number, 'abhaAddress', pat.abha_address, 'name', pat.name,
      'gender', pat.gender, 'yearOfBirth', pat.year_of_birth))));
  INSERT INTO abdm_hip.link_token (hip_id, abha_address, status, request_id, requested_at, abha_number_sent)
  VALUES (p_hip_id, pat.abha_address, 'requested', rid, now(), pat.abha_number IS NOT NULL)
  ON CONFLICT (hip_id, abha_address) DO UPDATE
    SET status = 'requested', request_id = rid, requested_at = now(), retry_after = NULL,
        last_error = NULL, abha_number_sent = excluded.abha_number_sent;
  RETURN true;
END
$$;

-- Queues the SMS deep link for a patient known only by mobile, at most once per interval.
CREATE OR REPLACE FUNCTION abdm_hip_internal.queue_sms_notify(p_hip_id text, p_patient_ref text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pat abdm_hip.patient;
  fac abdm_hip.facility;
  rid uuid := gen_random_uuid();
  every interval := current_setting('abdm_hip.sms_notify_interval')::interval;
BEGIN
  SELECT * INTO pat FROM abdm_hip.patient WHERE hip_id = p_hip_id AND patient_ref = p_patient_ref;
  IF pat.mobile IS NULL THEN RETURN false; END IF;
  PERFORM 1 FROM abdm_hip.sms_notification s
   WHERE s.hip_id = p_hip_id AND s.patient_ref = p_patient_ref AND s.last_sent_at > now() - every
     AND s.status <> 'failed';
  IF FOUND THEN RETURN false; END IF;
  SELECT * INTO fac FROM abdm_hip.facility WHERE hip_id = p_hip_id;
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'sms_notify2',
    abdm_hip_internal.build_message('sms_notify2', jsonb_build_object(
      'mobile', abdm_hip.normalize_mobile(pat.mobile), 'hipId', p_hip_id, 'hipName', fac.name,
      'phoneFormat', current_setting('abdm_hip.sms_phone_format'),
      'requestId', rid)),
    '{}', rid);
  INSERT INTO abdm_hip.sms_notification (hip_id, patient_ref, status, request_id, last_sent_at)
  VALUES (p_hip_id, p_patient_ref, 'requested', rid, now())
  ON CONFLICT (hip_id, patient_ref) DO UPDATE
    SET status = 'requested', request_id = rid, last_sent_at = now(), last_error = NULL;
  RETURN true;
END
$$;

-- Everything a newly written care context implies for its patient.
CREATE OR REPLACE FUNCTION abdm_hip_internal.queue_patient_links(p_hip_id text, p_patient_ref text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pat abdm_hip.patient;
BEGIN
  SELECT * INTO pat FROM abdm_hip.patient WHERE hip_id = p_hip_id AND patient_ref = p_patient_ref;
  IF pat.abha_address IS NULL THEN
    PERFORM abdm_hip_internal.queue_sms_notify(p_hip_id, p_patient_ref);
    RETURN;
  END IF;
  INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, status, method)
  SELECT c.hip_id, c.reference, pat.abha_address, 'requested', 'hip_initiated'
  FROM abdm_hip.care_context c
  WHERE c.hip_id = p_hip_id AND c.patient_ref = p_patient_ref
  ON CONFLICT (hip_id, care_context_ref, abha_address) DO UPDATE
    SET status = 'requested', request_id = NULL, last_error = NULL
    WHERE care_context_link.status = 'failed';
  IF abdm_hip_internal.send_pending_links(p_hip_id, pat.abha_address) = 0 THEN
    PERFORM abdm_hip_internal.request_link_token(p_hip_id, p_patient_ref);
  END IF;
END
$$;

-- The HMIS's insert adds nothing but the care context's entry in care_context_link_pending_idx
-- and a wake-up of the sender at commit; the sender then acts on the new care contexts, batched
-- per patient (dispatch_links below), so the HMIS's transaction stays as short as without the
-- extension.
CREATE OR REPLACE TRIGGER care_context_wake_sender AFTER INSERT ON abdm_hip.care_context
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip_internal.wake_sender();

-- Called by the sender: acts on up to max_links new care contexts (rows another transaction holds
-- are skipped and taken next time): per patient, a link request for every care context not yet
-- linked and one link/carecontext call, or one generate-token (queue_patient_links), or the SMS
-- deep link for a patient known only by mobile. Returns the number of care contexts taken, so
-- the caller knows whether more are waiting.
CREATE OR REPLACE FUNCTION abdm_hip_internal.dispatch_links(max_links int) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  taken int;
  hips text[];
  refs text[];
  p record;
BEGIN
  WITH picked AS (
    SELECT c.hip_id, c.reference FROM abdm_hip.care_context c
    WHERE c.link_pending
    LIMIT max_links
    FOR UPDATE SKIP LOCKED),
  done AS (
    UPDATE abdm_hip.care_context c SET link_pending = false
      FROM picked
     WHERE c.hip_id = picked.hip_id AND c.reference = picked.reference
    RETURNING c.hip_id, c.patient_ref)
  SELECT count(*)::int, coalesce(array_agg(done.hip_id), '{}'), coalesce(array_agg(done.patient_ref), '{}')
    INTO taken, hips, refs
  FROM done;
  FOR p IN SELECT DISTINCT d.hip_id, d.patient_ref FROM unnest(hips, refs) AS d(hip_id, patient_ref)
           ORDER BY 1, 2 LOOP
    PERFORM abdm_hip_internal.queue_patient_links(p.hip_id, p.patient_ref);
  END LOOP;
  RETURN taken;
END
$$;

-- A linked care context that gains HI types: tell the consent manager (context/notify, one call
-- per care context and ABHA address, with the new types only).
CREATE OR REPLACE FUNCTION abdm_hip_internal.care_context_after_update() RETURNS trigger
-- Runs as the extension owner: the HMIS role may not write links, tokens or the outbox itself.
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  l abdm_hip.care_context_link;
  fresh text[];
BEGIN
  FOR l IN SELECT * FROM abdm_hip.care_context_link
           WHERE hip_id = NEW.hip_id AND care_context_ref = NEW.reference AND status = 'linked' LOOP
    SELECT coalesce(array_agg(t ORDER BY t), '{}') INTO fresh
    FROM unnest(NEW.hi_types) t WHERE NOT t = ANY (l.hi_types_notified);
    CONTINUE WHEN cardinality(fresh) = 0;
    PERFORM abdm_hip_internal.enqueue(NEW.hip_id, 'context_notify',
      abdm_hip_internal.build_message('context_notify', jsonb_build_object(
        'abhaAddress', l.abha_address, 'patientReference', NEW.patient_ref,
        'careContextReference', NEW.reference, 'hiTypes', to_jsonb(fresh),
        'date', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'hipId', NEW.hip_id)));
    UPDATE abdm_hip.care_context_link SET hi_types_notified = hi_types_notified || fresh
     WHERE hip_id = l.hip_id AND care_context_ref = l.care_context_ref AND abha_address = l.abha_address;
  END LOOP;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER care_context_notify_new_types AFTER UPDATE OF hi_types ON abdm_hip.care_context
  FOR EACH ROW WHEN (NEW.hi_types IS DISTINCT FROM OLD.hi_types)
  EXECUTE FUNCTION abdm_hip_internal.care_context_after_update();

-- A record of a type the care context did not list yet adds the type (and so notifies).
CREATE OR REPLACE FUNCTION abdm_hip_internal.health_record_after_insert() RETURNS trigger
-- Runs as the extension owner: the HMIS role may not write links, tokens or the outbox itself.
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE abdm_hip.care_context c SET hi_types = c.hi_types || NEW.hi_type
   WHERE c.hip_id = NEW.hip_id AND c.reference = NEW.care_context_ref AND NOT NEW.hi_type = ANY (c.hi_types);
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER health_record_adds_hi_type AFTER INSERT ON abdm_hip.health_record
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.health_record_after_insert();

-- A refused link-token request, however the refusal came (on-generate-token's error, or the
-- generate-token call's own answer): the token row waits as the core's rule says
-- (core/abdm/link_token_policy). For a passing reason (ABDM-1027 blocked for a day, ABDM-1092
-- the duplicate-request window, ABDM-1022 too many requests) the links keep waiting and the token
-- is asked for again once the wait is over (retry_link_tokens), a bounded number of times; for
-- any other reason, or once the tries are used up, the links that waited for it fail.
CREATE OR REPLACE FUNCTION abdm_hip_internal.link_token_refusal(code text, refusals int DEFAULT 1) RETURNS jsonb
LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_link_token_refusal';

CREATE OR REPLACE FUNCTION abdm_hip_internal.refuse_link_token(p_hip_id text, p_abha_address text, code text, reason text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n int;
  rule jsonb;
BEGIN
  UPDATE abdm_hip.link_token SET refusals = refusals + 1
   WHERE hip_id = p_hip_id AND abha_address = p_abha_address
  RETURNING refusals INTO n;
  rule := abdm_hip_internal.link_token_refusal(code, coalesce(n, 1));
  UPDATE abdm_hip.link_token
     SET status = rule ->> 'status', last_error = reason,
         retry_after = now() + make_interval(secs => (rule ->> 'retryAfterSeconds')::int)
   WHERE hip_id = p_hip_id AND abha_address = p_abha_address;
  IF (rule ->> 'tryAgain')::boolean THEN
    UPDATE abdm_hip.care_context_link
       SET last_error = format('link token: %s (asked again in %s)', reason,
                               make_interval(secs => (rule ->> 'retryAfterSeconds')::int))
     WHERE hip_id = p_hip_id AND lower(abha_address) = lower(p_abha_address) AND status = 'requested'
       AND request_id IS NULL;
    RETURN;
  END IF;
  UPDATE abdm_hip.care_context_link
     SET status = 'failed',
         last_error = 'link token: ' || reason || CASE WHEN n > 1 THEN format(' (refused %s times)', n) ELSE '' END
   WHERE hip_id = p_hip_id AND lower(abha_address) = lower(p_abha_address) AND status = 'requested'
     AND request_id IS NULL;
END
$$;

-- Link tokens refused for a passing reason whose wait is over, with links still waiting: asked
-- for again (run by the sender every second with the callback follow-ups). Returns how many.
CREATE OR REPLACE FUNCTION abdm_hip_internal.retry_link_tokens(max_rows int) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t record;
  n int := 0;
BEGIN
  FOR t IN
    SELECT k.hip_id, p.patient_ref
      FROM abdm_hip.link_token k
      JOIN LATERAL (SELECT p.patient_ref FROM abdm_hip.patient p
                     WHERE p.hip_id = k.hip_id AND lower(p.abha_address) = lower(k.abha_address) LIMIT 1) p ON true
     WHERE k.status IN ('failed', 'blocked') AND k.retry_after <= now()
       AND EXISTS (SELECT 1 FROM abdm_hip.care_context_link l
                    WHERE l.hip_id = k.hip_id AND lower(l.abha_address) = lower(k.abha_address)
                      AND l.status = 'requested' AND l.request_id IS NULL)
     ORDER BY k.retry_after
     LIMIT max_rows
     FOR UPDATE OF k SKIP LOCKED
  LOOP
    IF abdm_hip_internal.request_link_token(t.hip_id, t.patient_ref) THEN n := n + 1; END IF;
  END LOOP;
  RETURN n;
END
$$;

-- ---- callbacks (called by abdm_hip.receive() with the parsed, normalised message) -------------

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_on_generate_token(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tok abdm_hip.link_token;
  code text := msg #>> '{error,code}';
  -- A late answer to a call sent again answers the newest call of its chain. Once, into a
  -- variable: in a WHERE clause the (volatile) function would run for every row scanned.
  answered uuid := abdm_hip_internal.callback_answered(p_hip_id, (msg #>> '{response,requestId}')::uuid);
BEGIN
  SELECT * INTO tok FROM abdm_hip.link_token
   WHERE hip_id = p_hip_id AND request_id = answered
   FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'response.requestId: no generate-token request % from HIP %', msg #>> '{response,requestId}', p_hip_id
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF code IS NOT NULL THEN
    PERFORM abdm_hip_internal.refuse_link_token(tok.hip_id, tok.abha_address, code,
                                       code || ': ' || coalesce(msg #>> '{error,message}', ''));
    RETURN;
  END IF;
  UPDATE abdm_hip.link_token
     SET status = 'valid', token = abdm_hip_internal.seal_secret('link_token', msg ->> 'linkToken'),
         last_error = NULL, retry_after = NULL, refusals = 0,
         -- The token's own exp claim when readable, else its documented ~6-month life.
         expires_at = coalesce((msg #>> '{tokenClaims,exp}')::timestamptz, now() + interval '182 days')
   WHERE hip_id = tok.hip_id AND abha_address = tok.abha_address;
  PERFORM abdm_hip_internal.send_pending_links(tok.hip_id, tok.abha_address);
END
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_on_carecontext(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  code text := msg #>> '{error,code}';
  -- A late answer to a call sent again answers the newest call of its chain.
  answered uuid := abdm_hip_internal.callback_answered(p_hip_id, (msg #>> '{response,requestId}')::uuid);
BEGIN
  -- ABDM-1056 "already linked" means linked (ohcnetwork/care-abdm docs/findings.md F4).
  IF code IS NULL OR code = 'ABDM-1056' THEN
    UPDATE abdm_hip.care_context_link l
       SET status = 'linked', linked_at = now(), last_error = NULL, hi_types_notified = c.hi_types
      FROM abdm_hip.care_context c
     WHERE l.hip_id = p_hip_id AND l.request_id = answered
       AND c.hip_id = l.hip_id AND c.reference = l.care_context_ref;
  ELSE
    UPDATE abdm_hip.care_context_link
       SET status = 'failed', last_error = code || ': ' || coalesce(msg #>> '{error,message}', '')
     WHERE hip_id = p_hip_id AND request_id = answered;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'response.requestId: no link/carecontext request % from HIP %', answered, p_hip_id
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_context_on_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- The acknowledgement is kept in the inbox; an error is surfaced on the outbox row it answers.
  PERFORM abdm_hip_internal.callback_answered(p_hip_id, (msg #>> '{response,requestId}')::uuid);
  UPDATE abdm_hip.outbox
     SET last_error = CASE WHEN msg ? 'error' THEN (msg #>> '{error,code}') || ': ' || coalesce(msg #>> '{error,message}', '') END
   WHERE hip_id = p_hip_id AND request_id = (msg #>> '{response,requestId}')::uuid AND kind = 'context_notify';
END
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_sms_on_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  answered uuid := abdm_hip_internal.callback_answered(p_hip_id, (msg #>> '{resp,requestId}')::uuid);
BEGIN
  UPDATE abdm_hip.sms_notification
     SET status = CASE WHEN msg ? 'error' OR upper(coalesce(msg ->> 'status', '')) = 'ERRORED' THEN 'failed' ELSE 'acknowledged' END,
         last_error = CASE WHEN msg ? 'error' THEN (msg #>> '{error,code}') || ': ' || coalesce(msg #>> '{error,message}', '') END
   WHERE hip_id = p_hip_id AND request_id = answered;
END
$$;

-- ---- what an HMIS operator looks at -----------------------------------------------------------

CREATE OR REPLACE VIEW abdm_hip.link_activity WITH (security_barrier) AS
SELECT c.hip_id, c.patient_ref, c.reference AS care_context_ref, c.hi_types,
       coalesce(l.abha_address, CASE WHEN c.link_pending THEN p.abha_address END) AS abha_address,
       -- A new care context the sender has not acted on yet shows as requested already.
       -- no_answer: the gateway never answered the link's call (or its token's), re-sends included.
       coalesce(CASE WHEN l.status = 'requested' AND o.answer = 'no_answer' THEN 'no_answer' END,
                l.status, CASE WHEN p.abha_address IS NULL THEN 'no_abha_address'
                               WHEN c.link_pending THEN 'requested' ELSE 'not_requested' END) AS link_status,
       l.method, l.linked_at, l.last_error AS link_error,
       t.status AS token_status, t.expires_at AS token_expires_at, t.retry_after AS token_retry_after,
       o.status AS last_call_status, o.attempts AS last_call_attempts, o.last_error AS last_call_error,
       s.status AS sms_status, s.last_sent_at AS sms_sent_at
FROM abdm_hip.care_context c
JOIN abdm_hip.patient p ON p.hip_id = c.hip_id AND p.patient_ref = c.patient_ref
LEFT JOIN abdm_hip.care_context_link l ON l.hip_id = c.hip_id AND l.care_context_ref = c.reference
LEFT JOIN abdm_hip.link_token t ON t.hip_id = c.hip_id AND t.abha_address = l.abha_address
LEFT JOIN abdm_hip.outbox o ON o.hip_id = c.hip_id AND o.request_id = coalesce(l.request_id, t.request_id)
LEFT JOIN abdm_hip.sms_notification s ON s.hip_id = c.hip_id AND s.patient_ref = c.patient_ref;

CREATE OR REPLACE FUNCTION abdm_hip.link_status(hip_id text, patient_ref text)
RETURNS TABLE (care_context_ref text, abha_address text, link_status text, method text,
               linked_at timestamptz, error text, token_status text, last_call_status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT a.care_context_ref, a.abha_address, a.link_status, a.method, a.linked_at,
         coalesce(a.link_error, a.last_call_error), a.token_status, a.last_call_status
  FROM abdm_hip.link_activity a
  WHERE a.hip_id = link_status.hip_id AND a.patient_ref = link_status.patient_ref
  ORDER BY a.care_context_ref;
$$;

GRANT SELECT ON abdm_hip.link_activity TO abdm_hip_app;
GRANT EXECUTE ON FUNCTION abdm_hip.link_status(text, text) TO abdm_hip_app;

-- The link token is not kept in clear in the inbox either: link_token.token has it, sealed.
CREATE OR REPLACE TRIGGER inbox_mask_link_token BEFORE INSERT ON abdm_hip.inbox
  FOR EACH ROW WHEN (NEW.kind = 'on_generate_token' AND NEW.body IS NOT NULL)
  EXECUTE FUNCTION abdm_hip_internal.inbox_mask('linkToken');
