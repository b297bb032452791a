-- Linking the hospital's history (sql/schema/62_history.sql): announce_history() queues the
-- never-announced care contexts of a window once, the sender's dispatch_history() turns them into
-- link calls at history priority (behind live work), the claim keeps within each endpoint's
-- budget, a new visit moves its patient's queued token request to the front, refusals of the link
-- token (ABDM-1092, 1027) wait and are asked again, cancel_history() stops what is queued, and
-- history_progress / link_blocks show it. No worker runs in this database: the test calls what
-- the sender calls. Patients here are HIS-*.
\set VERBOSITY terse

-- A gateway callback through receive(), answering the outbox row with this REQUEST-ID; its status.
CREATE FUNCTION pg_temp.callback(path text, body jsonb, answers uuid) RETURNS int LANGUAGE sql AS $$
  SELECT (abdm_hip.receive(path,
    jsonb_build_object('REQUEST-ID', gen_random_uuid(), 'X-HIP-ID', 'IN2710000001',
                       'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
    body || jsonb_build_object('response', jsonb_build_object('requestId', answers)))).status
$$;

INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address) VALUES
  ('IN2710000001', 'HIS-1', 'History One', 'F', 1970, 'his.one@sbx'),
  ('IN2710000001', 'HIS-2', 'History Two', 'M', 1980, 'his.two@sbx'),
  ('IN2710000001', 'HIS-3', 'History Three', 'F', 1990, NULL),            -- no ABHA address: not linkable
  ('IN2710000001', 'HIS-4', 'History Four', 'M', 1960, 'his.four@sbx'),   -- linked already
  ('IN2710000001', 'HIS-5', 'History Five', 'F', 1950, 'his.five@sbx');   -- still link_pending: the sender's
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending) VALUES
  ('IN2710000001', 'HIS-1', 'HIS-1-2020', 'OPD 2020', '{Prescription}', '2020-03-01', false),
  ('IN2710000001', 'HIS-1', 'HIS-1-2023', 'OPD 2023', '{Prescription}', '2023-05-01', false),
  ('IN2710000001', 'HIS-2', 'HIS-2-2021', 'OPD 2021', '{OPConsultation}', '2021-06-01', false),
  ('IN2710000001', 'HIS-3', 'HIS-3-2022', 'OPD 2022', '{Prescription}', '2022-01-01', false),
  ('IN2710000001', 'HIS-4', 'HIS-4-2022', 'OPD 2022', '{Prescription}', '2022-01-01', false),
  ('IN2710000001', 'HIS-5', 'HIS-5-2022', 'OPD 2022', '{Prescription}', '2022-01-01', true);
INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, status, method, linked_at)
VALUES ('IN2710000001', 'HIS-4-2022', 'his.four@sbx', 'linked', 'hip_initiated', now());

-- 1. Refusals: an unknown HIP, an empty window; and only the DBA may announce.
SELECT abdm_hip.announce_history('IN0000000000');
SELECT abdm_hip.announce_history('IN2710000001', '2024-01-01', '2023-01-01');
SET ROLE regress_hmis;
SELECT abdm_hip.announce_history('IN2710000001');
RESET ROLE;

-- 2. The window [since, until): HIS-1's 2023 visit and HIS-2's; again: nothing more; then all of
-- it adds HIS-1's 2020 visit only (never HIS-3, HIS-4 or HIS-5).
SET ROLE regress_dba;
SELECT abdm_hip.announce_history('IN2710000001', since => '2021-01-01') AS queued;
SELECT abdm_hip.announce_history('IN2710000001', since => '2021-01-01') AS queued_again;
SELECT abdm_hip.announce_history('IN2710000001') AS queued_all;
RESET ROLE;
SELECT care_context_ref, patient_ref, status FROM abdm_hip.history_item ORDER BY 1;
SELECT announced, queued, in_progress, linked, failed, blocked, cancelled, rate, time_left
FROM abdm_hip.history_progress;

-- 3. A live call queued before the sender takes the history.
SELECT abdm_hip_internal.enqueue('IN2710000001', 'context_notify', '{"live": true}') IS NOT NULL AS live_queued;

-- 4. The sender takes at most max_backlog minus the history calls already waiting: with a backlog
-- of 1 it takes one care context; with 10, the rest. Each patient gets one generate-token call at
-- history priority and a requested link per care context.
SELECT abdm_hip_internal.dispatch_history(1) AS taken;
SELECT abdm_hip_internal.dispatch_history(1) AS taken_while_one_waits;
SELECT abdm_hip_internal.dispatch_history(10) AS taken;
SELECT abdm_hip_internal.dispatch_history(10) AS nothing_queued;
SELECT kind, priority, body ->> 'abhaAddress' AS abha_address FROM abdm_hip.outbox ORDER BY id;
SELECT care_context_ref, abha_address, status, request_id IS NULL AS unsent FROM abdm_hip.care_context_link
WHERE care_context_ref LIKE 'HIS-%' ORDER BY 1;

-- 5. A new visit of HIS-2 while its token request waits behind the history: the request moves to
-- the front (priority 0), and no second one is queued.
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
VALUES ('IN2710000001', 'HIS-2', 'HIS-2-NEW', 'OPD today', '{Prescription}');
SELECT abdm_hip_internal.dispatch_links(10) AS dispatched;
SELECT kind, priority, body ->> 'abhaAddress' AS abha_address FROM abdm_hip.outbox
WHERE kind = 'generate_token' ORDER BY id;

-- 6. The claim: live rows first, then history, oldest first; a budget of one generate-token
-- takes one, however many are due; a kind without a budget is not limited.
SELECT kind, body ->> 'abhaAddress' AS abha_address
FROM abdm_hip_internal.outbox_claim(10, 60, true, '{"generate_token": 1}') ORDER BY id;
SELECT kind, body ->> 'abhaAddress' AS abha_address
FROM abdm_hip_internal.outbox_claim(10, 60, true, '{"generate_token": 0}');
SELECT kind, body ->> 'abhaAddress' AS abha_address
FROM abdm_hip_internal.outbox_claim(10, 60, true, '{"generate_token": 5, "link_carecontext": 5}');
UPDATE abdm_hip.outbox SET status = 'sent', sent_at = now(), lease_until = NULL WHERE kind = 'context_notify';

-- 7. HIS-1's token arrives: one link/carecontext for both of its care contexts, at history
-- priority (both were announced history).
SELECT pg_temp.callback('/api/v3/hip/token/on-generate-token',
  '{"abhaAddress": "his.one@sbx", "linkToken": "token-of-his-one"}',
  (SELECT request_id FROM abdm_hip.link_token WHERE abha_address = 'his.one@sbx')) AS status;
SELECT kind, priority, jsonb_array_length(body #> '{patient,0,careContexts}') +
       coalesce(jsonb_array_length(body #> '{patient,1,careContexts}'), 0) AS care_contexts
FROM abdm_hip.outbox WHERE kind = 'link_carecontext';
-- The token is kept sealed (17_sealed_secrets.sql), in its table and in the call that carries
-- it, and not at all in the inbox.
SELECT t.token LIKE 'abdm-sealed:1:link_token:%' AS token_sealed,
       o.headers ->> 'X-LINK-TOKEN' = t.token AS call_carries_it_sealed,
       (SELECT string_agg(i.body ->> 'linkToken', ',') FROM abdm_hip.inbox i WHERE i.kind = 'on_generate_token') AS inbox_token
FROM abdm_hip.link_token t JOIN abdm_hip.outbox o ON o.kind = 'link_carecontext'
WHERE t.abha_address = 'his.one@sbx';

-- 8. HIS-2's generate-token answered ABDM-1092 (a duplicate within the window): the links wait
-- (not failed) for abdm_hip.link_token_duplicate_window, then one new request is queued.
UPDATE abdm_hip.outbox SET status = 'failed', response = '{"error": {"code": "ABDM-1092", "message": "Duplicate"}}',
                           last_error = 'ABDM-1092: Duplicate'
 WHERE kind = 'generate_token' AND body ->> 'abhaAddress' = 'his.two@sbx';
SELECT abdm_hip_internal.outbox_failed(o) FROM abdm_hip.outbox o
 WHERE kind = 'generate_token' AND body ->> 'abhaAddress' = 'his.two@sbx';
SELECT status, refusals, retry_after - now() BETWEEN interval '5 minutes 59 seconds' AND interval '6 minutes' AS waits_the_window
FROM abdm_hip.link_token WHERE abha_address = 'his.two@sbx';
SELECT care_context_ref, status FROM abdm_hip.care_context_link WHERE abha_address = 'his.two@sbx' ORDER BY 1;
SELECT abdm_hip_internal.retry_link_tokens(10) AS asked_before_the_window;
UPDATE abdm_hip.link_token SET retry_after = now() - interval '1 second' WHERE abha_address = 'his.two@sbx';
SELECT abdm_hip_internal.retry_link_tokens(10) AS asked_after_the_window;
SELECT count(*) AS generate_token_calls_for_his_two, max(priority) AS priority FROM abdm_hip.outbox
WHERE kind = 'generate_token' AND body ->> 'abhaAddress' = 'his.two@sbx';

-- 9. ABDM-1027 for HIS-2 (in the callback): blocked for a day, shown in link_blocks and counted as
-- blocked in history_progress; the third refusal in a row fails the links.
SELECT abdm_hip_internal.refuse_link_token('IN2710000001', 'his.two@sbx', 'ABDM-1027', 'ABDM-1027: blocked for 24 hours');
SELECT abha_address, blocked_now, blocked_until - now() > interval '23 hours 59 minutes' AS a_day, refusals, waiting_links
FROM abdm_hip.link_blocks;
SELECT announced, queued, in_progress, linked, failed, blocked FROM abdm_hip.history_progress;
SELECT abdm_hip_internal.refuse_link_token('IN2710000001', 'his.two@sbx', 'ABDM-1027', 'ABDM-1027: blocked for 24 hours');
SELECT care_context_ref, status, last_error FROM abdm_hip.care_context_link WHERE abha_address = 'his.two@sbx' ORDER BY 1;
SELECT announced, queued, in_progress, linked, failed, blocked FROM abdm_hip.history_progress;

-- 10. HIS-1 linked (on_carecontext): progress shows it, with a rate and nothing left.
SELECT pg_temp.callback('/api/v3/link/on_carecontext',
  '{"abhaAddress": "his.one@sbx", "status": "Successfully Linked care context"}',
  (SELECT request_id FROM abdm_hip.outbox WHERE kind = 'link_carecontext')) AS status;
SELECT announced, queued, in_progress, linked, failed, blocked, rate > 0 AS has_rate, time_left,
       finished_at IS NOT NULL AS finished
FROM abdm_hip.history_progress;

SELECT patient_ref, abha_address, care_contexts, queued, linked, failed, token_status, link_error
FROM abdm_hip.history_patients ORDER BY 1;

-- 11. cancel_history(): a queued announcement is not sent; announcing again queues it again.
INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
VALUES ('IN2710000001', 'HIS-4', 'HIS-4-2019', 'OPD 2019', '{Prescription}', '2019-01-01', false);
SELECT abdm_hip.announce_history('IN2710000001') AS queued;
SELECT abdm_hip.cancel_history('IN2710000001') AS cancelled;
SELECT abdm_hip_internal.dispatch_history(10) AS nothing_queued;
SELECT queued, cancelled FROM abdm_hip.history_progress;
SELECT abdm_hip.announce_history('IN2710000001') AS queued_again;
SELECT abdm_hip.cancel_history() AS cancelled_again;

-- 12. The HMIS sees the progress and the blocks, not the work list.
SET ROLE regress_hmis;
SELECT count(*) >= 0 AS sees_progress FROM abdm_hip.history_progress;
SELECT count(*) >= 0 AS sees_blocks FROM abdm_hip.link_blocks;
SELECT count(*) AS patients FROM abdm_hip.history_patients;
SELECT count(*) FROM abdm_hip.history_item;
RESET ROLE;

DELETE FROM abdm_hip.outbox; DELETE FROM abdm_hip.inbox;
DELETE FROM abdm_hip.history_item;
DELETE FROM abdm_hip.care_context_link WHERE care_context_ref LIKE 'HIS-%';
DELETE FROM abdm_hip.link_token WHERE abha_address LIKE 'his.%';
DELETE FROM abdm_hip.care_context WHERE patient_ref LIKE 'HIS-%';
DELETE FROM abdm_hip.patient WHERE patient_ref LIKE 'HIS-%';
