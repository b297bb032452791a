-- Callback deadlines: the gateway answers some calls later, with a callback of its own, and does
-- not promise to deliver that callback again if it could not hand it over (a crash, a restart, an
-- outage on our side). A HIP that waits forever for it loses the patient's link. So every call
-- that expects a callback gets a deadline when it is sent; past it the call is sent again (as a
-- new call, with a new REQUEST-ID, the state that waited for the answer now waiting for the new
-- one), each re-send waiting twice as long as the one before, at most
-- abdm_hip.answer_max_resends times, then it ends as no_answer.
--
--   kind              answered by                               sent again
--   generate_token    on-generate-token (§4.3.2)                only once the duplicate-request window
--                                                               (ABDM-1092, abdm_hip.link_token_duplicate_window)
--                                                               since the last send has passed
--   link_carecontext  on_carecontext (§4.3.4)                   with the same link token; ABDM-1056
--                                                               (already linked) in the answer counts as linked
--   context_notify    links/context/on-notify (§4.3.6)          as is
--   sms_notify2       patients/sms/on-notify (§4.3.8)           as is
--
-- A callback that arrives late, for a call already sent again, is taken as the answer to the
-- whole chain (callback_answered): the state moves once, and the later calls' own answers change
-- nothing more and cause no call.

-- How long a call of this kind waits for its callback; NULL for kinds that get none.
CREATE OR REPLACE FUNCTION abdm_hip_internal.answer_deadline(kind text) RETURNS interval
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN CASE kind
  WHEN 'generate_token' THEN current_setting('abdm_hip.answer_deadline_generate_token')::interval
  WHEN 'link_carecontext' THEN current_setting('abdm_hip.answer_deadline_link_carecontext')::interval
  WHEN 'context_notify' THEN current_setting('abdm_hip.answer_deadline_context_notify')::interval
  WHEN 'sms_notify2' THEN current_setting('abdm_hip.answer_deadline_sms_notify2')::interval
END;

-- When the sender records a call as sent, the wait for its answer starts (unless the answer has
-- come already: the gateway may call back before the sender has written down its 202).
CREATE OR REPLACE FUNCTION abdm_hip_internal.outbox_await_answer() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.chain_started_at := coalesce(NEW.chain_started_at, now());
  IF NEW.answer IS NULL THEN
    NEW.answer := 'awaiting';
    -- Each re-send waits twice as long as the call before it (capped at 64 times the deadline):
    -- a gateway slow to call back because it is overloaded is not answered with more load.
    NEW.answer_due_at := now() + abdm_hip_internal.answer_deadline(NEW.kind) * power(2, least(NEW.resends, 6));
  END IF;
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER outbox_await_answer BEFORE UPDATE OF status ON abdm_hip.outbox
  FOR EACH ROW WHEN (NEW.status = 'sent' AND OLD.status IS DISTINCT FROM 'sent'
                     AND NEW.kind IN ('generate_token', 'link_carecontext', 'context_notify', 'sms_notify2'))
  EXECUTE FUNCTION abdm_hip_internal.outbox_await_answer();

-- A callback answered the call with this REQUEST-ID: that call and every re-send of it are
-- answered. Returns the REQUEST-ID of the newest call of the chain, which the state that waits
-- for the answer refers to (the call itself when it was never sent again).
CREATE OR REPLACE FUNCTION abdm_hip_internal.callback_answered(p_hip_id text, p_request_id uuid) RETURNS uuid
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  cur uuid := p_request_id;
  nxt uuid;
  hops int := 0;
BEGIN
  LOOP
    nxt := NULL;
    UPDATE abdm_hip.outbox
       SET answer = CASE WHEN answer IS NULL OR answer IN ('awaiting', 'no_answer') THEN 'answered' ELSE answer END,
           answered_at = coalesce(answered_at, now())
     WHERE hip_id = p_hip_id AND request_id = cur
    RETURNING resent_as INTO nxt;
    EXIT WHEN nxt IS NULL OR hops > 100;
    cur := nxt;
    hops := hops + 1;
  END LOOP;
  RETURN cur;
END
$$;

-- Calls whose answer is overdue: sent again, or given up (no_answer). Run by the sender every
-- few seconds; returns how many it handled. SKIP LOCKED: a row a callback is answering right now
-- is left for the next round (by then it is answered).
CREATE OR REPLACE FUNCTION abdm_hip_internal.follow_up_unanswered(max_rows int) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  o abdm_hip.outbox;
  max_resends int := current_setting('abdm_hip.answer_max_resends')::int;
  window_ interval := current_setting('abdm_hip.link_token_duplicate_window')::interval;
  rid uuid;
  n int := 0;
BEGIN
  FOR o IN
    SELECT * FROM abdm_hip.outbox
     WHERE answer = 'awaiting' AND answer_due_at <= now()
     ORDER BY answer_due_at LIMIT max_rows
     FOR UPDATE SKIP LOCKED
  LOOP
    n := n + 1;
    IF o.resends >= max_resends THEN
      UPDATE abdm_hip.outbox
         SET answer = 'no_answer', last_error = format('no callback after %s re-sends', o.resends)
       WHERE hip_id = o.hip_id AND id = o.id;
      IF o.kind = 'generate_token' THEN
        UPDATE abdm_hip.link_token
           SET status = 'failed',
               last_error = format('no answer to generate-token after %s re-sends', o.resends)
         WHERE hip_id = o.hip_id AND request_id = o.request_id AND status = 'requested';
      ELSIF o.kind = 'link_carecontext' THEN
        UPDATE abdm_hip.care_context_link
           SET last_error = format('no answer to link/carecontext after %s re-sends', o.resends)
         WHERE hip_id = o.hip_id AND request_id = o.request_id AND status = 'requested';
      END IF;
      CONTINUE;
    END IF;
    -- A new link-token request inside the duplicate window would only be refused (ABDM-1092).
    IF o.kind = 'generate_token' AND o.sent_at + window_ > now() THEN
      UPDATE abdm_hip.outbox SET answer_due_at = o.sent_at + window_ WHERE hip_id = o.hip_id AND id = o.id;
      CONTINUE;
    END IF;
    -- The same message again (the link/carecontext call keeps its X-LINK-TOKEN), as a new call.
    rid := abdm_hip_internal.enqueue_at(o.priority, o.hip_id, o.kind, o.body, o.headers - 'X-HIP-ID');
    UPDATE abdm_hip.outbox
       SET resends = o.resends + 1, chain_started_at = o.chain_started_at, resent_from = o.request_id
     WHERE request_id = rid;
    UPDATE abdm_hip.outbox SET answer = 'resent', resent_as = rid WHERE hip_id = o.hip_id AND id = o.id;
    IF o.kind = 'generate_token' THEN
      UPDATE abdm_hip.link_token SET request_id = rid, requested_at = now()
       WHERE hip_id = o.hip_id AND request_id = o.request_id AND status = 'requested';
    ELSIF o.kind = 'link_carecontext' THEN
      UPDATE abdm_hip.care_context_link SET request_id = rid
       WHERE hip_id = o.hip_id AND request_id = o.request_id AND status = 'requested';
    ELSIF o.kind = 'sms_notify2' THEN
      UPDATE abdm_hip.sms_notification SET request_id = rid
       WHERE hip_id = o.hip_id AND request_id = o.request_id;
    END IF;
  END LOOP;
  -- Link tokens refused for a passing reason (ABDM-1092, 1027, 1022) whose wait is over.
  n := n + abdm_hip_internal.retry_link_tokens(max_rows);
  RETURN n;
END
$$;

-- Everything that waits for the gateway's answer, or waited in vain: what, since when, how often
-- it was sent again, and when it is next looked at.
CREATE OR REPLACE VIEW abdm_hip.awaiting_answer WITH (security_barrier) AS
SELECT o.id, o.hip_id, o.kind, o.request_id, o.answer,
       o.chain_started_at AS first_sent_at, now() - o.chain_started_at AS waiting_for,
       o.resends, CASE WHEN o.answer = 'awaiting' THEN o.answer_due_at END AS next_follow_up
FROM abdm_hip.outbox o
WHERE o.answer IN ('awaiting', 'no_answer');
COMMENT ON VIEW abdm_hip.awaiting_answer IS
  'Calls waiting for the gateway''s callback (or given up as no_answer), how long, and how often sent again.';
GRANT SELECT ON abdm_hip.awaiting_answer TO abdm_hip_app;
