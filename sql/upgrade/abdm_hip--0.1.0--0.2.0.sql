-- 0.1.0 → 0.2.0, one-time DDL; the replayable code that follows (appended by the Makefile)
-- re-creates every function, view, trigger and grant as 0.2.0 has them.
--
-- 0.2.0 puts the extension's working parts in schema abdm_hip_internal (sql/schema/00_header.once.sql
-- creates it on a fresh install). Functions move with ALTER FUNCTION ... SET SCHEMA, which keeps
-- their identity: the triggers and the domain checks that use them follow without being made
-- again, and their grants stay. The two decision functions whose arguments changed (they now
-- take the request receive() is handling, not its JSON) are dropped; the replay creates them.
CREATE SCHEMA abdm_hip_internal;
COMMENT ON SCHEMA abdm_hip_internal IS 'abdm_hip internals: not an interface, may change in any release';
REVOKE ALL ON SCHEMA abdm_hip_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA abdm_hip_internal TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;

ALTER FUNCTION abdm_hip.refuse(table_name text, column_name text, problem text, hint text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.patient_validate() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.care_context_validate() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.health_record_validate() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.fhir_hi_type(bundle jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.health_record_validate_fhir() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.build_message(kind text, input jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.outbound_path(kind text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.enqueue(hip_id text, kind text, body jsonb, extra_headers jsonb, request_id uuid) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.wake_sender() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.outbox_record_batch(outcomes jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.outbox_failed(o abdm_hip.outbox) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.link_token_usable(t abdm_hip.link_token) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.send_pending_links(p_hip_id text, p_abha_address text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.request_link_token(p_hip_id text, p_patient_ref text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.queue_sms_notify(p_hip_id text, p_patient_ref text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.queue_patient_links(p_hip_id text, p_patient_ref text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.dispatch_links(max_links int) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.care_context_after_update() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.health_record_after_insert() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_on_generate_token(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_on_carecontext(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_context_on_notify(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_sms_on_notify(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.inbound_check(path text, headers jsonb, body jsonb) SET SCHEMA abdm_hip_internal;
DROP FUNCTION abdm_hip.match_patients(discover jsonb, candidates jsonb, yob_tolerance int, name_threshold real);
ALTER FUNCTION abdm_hip.otp_generate() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.otp_hash(otp text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.otp_verify(otp text, stored text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.mask_mobile(mobile text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.check_link_confirm(otp text, otp_hash text, expires_at timestamptz, attempts int, max_attempts int, at timestamptz) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.discovery_candidates(p_hip_id text, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.out_patient(p_hip_id text, p_patient_ref text, p_refs text[]) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.discovery_answer(d abdm_hip.discovery, p_request_id uuid) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_discover(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.deliver_otp(p_hip_id text, p_link_ref uuid, p_patient_ref text, p_mobile text, p_otp text, p_expires_at timestamptz) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.otp_sms_forget() SET SCHEMA abdm_hip_internal;
-- The inbox's OTP mask became one trigger function for every secret a body brings
-- (abdm_hip_internal.inbox_mask, sql/schema/17_sealed_secrets.sql); the replay makes the trigger.
DROP TRIGGER inbox_mask_otp ON abdm_hip.inbox;
DROP FUNCTION abdm_hip.inbox_mask_otp();
ALTER FUNCTION abdm_hip.on_init_answer(lr abdm_hip.link_request, p_request_id uuid) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_link_init(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_link_confirm(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_consent_notify(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.end_consent(p_hip_id text, p_consent uuid, p_status text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_patient_status_notify(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.wake_transfer() SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.refuse_hi_request(p_hip_id text, p_request_id uuid, p_tx uuid, p_consent uuid, p_code text, p_message text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.handle_hi_request(p_hip_id text, p_request_id uuid, msg jsonb) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.fidelius_public_key_valid(key text) SET SCHEMA abdm_hip_internal;
ALTER FUNCTION abdm_hip.transfer_finished(p_hip_id text, p_tx uuid, p_transferred boolean, p_reason text, p_delivered jsonb) SET SCHEMA abdm_hip_internal;

-- The bridge listener's registration of its URL at the gateway (sql/schema/72_bridge.sql).
CREATE TABLE abdm_hip.bridge_registration (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url            text NOT NULL,
  request_id     uuid NOT NULL UNIQUE,          -- the outbox row's REQUEST-ID
  status         text NOT NULL DEFAULT 'requested'
                   CONSTRAINT bridge_registration_status_known CHECK (status IN ('requested', 'registered', 'failed')),
  requested_at   timestamptz NOT NULL DEFAULT now(),
  registered_at  timestamptz,
  last_error     text
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.bridge_registration', '');
GRANT SELECT ON abdm_hip.bridge_registration TO abdm_hip_app;

-- Callback deadlines (sql/schema/52_callback_deadlines.sql).
ALTER TABLE abdm_hip.outbox
  ADD COLUMN answer           text CONSTRAINT outbox_answer_known CHECK (answer IN ('awaiting', 'answered', 'resent', 'no_answer')),
  ADD COLUMN answer_due_at    timestamptz,
  ADD COLUMN answered_at      timestamptz,
  ADD COLUMN resends          int NOT NULL DEFAULT 0,
  ADD COLUMN resent_from      uuid,
  ADD COLUMN resent_as        uuid,
  ADD COLUMN chain_started_at timestamptz;
CREATE INDEX outbox_answer_due_idx ON abdm_hip.outbox (answer_due_at) WHERE answer = 'awaiting';

-- Paged transfers (sql/schema/86_transfer_pages.sql).
ALTER TABLE abdm_hip.hi_request
  ADD COLUMN page_count       int,
  ADD COLUMN entries_per_page int;

-- The pages of a transfer (sql/schema/86_transfer_pages.sql): planned once, before the first push,
-- and pushed one by one, each with its own key pair and nonce. A page is pushed again until the HIU
-- takes it or the push window closes; a page recorded as pushed is never pushed again, so a
-- restart resumes a transfer at its first unpushed page.
CREATE TABLE abdm_hip.transfer_page (
  hip_id             text NOT NULL,
  transaction_id     uuid NOT NULL,
  page_number        int NOT NULL CONSTRAINT transfer_page_number_positive CHECK (page_number >= 1),
  record_ids         bigint[] NOT NULL,    -- health_record ids, in push order
  care_context_refs  text[] NOT NULL,      -- each record's care context, in the same order
  record_sizes       int[] NOT NULL,       -- each record's stored size (the worker batches its reads by it)
  stored_bytes       bigint NOT NULL DEFAULT 0,
  oversized          boolean NOT NULL DEFAULT false,  -- one record above abdm_hip.push_page_max_size
  status             text NOT NULL DEFAULT 'pending'
                       CONSTRAINT transfer_page_status_known CHECK (status IN ('pending', 'pushed', 'failed')),
  attempts           int NOT NULL DEFAULT 0,
  next_attempt_at    timestamptz NOT NULL DEFAULT now(),
  lease_until        timestamptz,
  entries            int,                  -- entries sent (a record deleted meanwhile is left out)
  bytes              bigint,               -- the push's body bytes
  delivered          jsonb,                -- per care context: {"entries": n, "bytes": n} of this page
  error              text,
  pushed_at          timestamptz,
  PRIMARY KEY (hip_id, transaction_id, page_number),
  FOREIGN KEY (hip_id, transaction_id) REFERENCES abdm_hip.hi_request (hip_id, transaction_id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.transfer_page', '');
GRANT SELECT ON abdm_hip.transfer_page TO abdm_hip_app;
CREATE INDEX transfer_page_due_idx ON abdm_hip.transfer_page (next_attempt_at) WHERE status = 'pending';

-- The share ledger (sql/schema/88_share_ledger.sql): one row for every page pushed to a HIU, or
-- given up on, with what it carried: who received which care contexts of which patient under which
-- consent, each entry's checksum. No clinical data, so it outlives the consent, the request and the
-- records; append-only (a trigger refuses UPDATE, TRUNCATE, and DELETE of rows younger than
-- abdm_hip.share_ledger_retention_days).
CREATE TABLE abdm_hip.share_ledger (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  shared_at          timestamptz NOT NULL DEFAULT now(),
  hip_id             text NOT NULL,
  consent_id         uuid NOT NULL,
  hiu_id             text,
  abha_address       text,                 -- the consent's patient
  patient_refs       text[] NOT NULL,      -- the HMIS's patients the entries belong to
  transaction_id     uuid NOT NULL,
  page_number        int NOT NULL,
  page_count         int NOT NULL,
  care_context_refs  text[] NOT NULL,      -- one per entry, in push order
  entry_checksums    text[] NOT NULL,      -- base64(MD5) of each entry's plaintext, as pushed
  bytes              bigint NOT NULL,      -- the push's body bytes
  outcome            text NOT NULL CONSTRAINT share_ledger_outcome_known CHECK (outcome IN ('pushed', 'failed')),
  error              text
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.share_ledger', '');
CREATE INDEX share_ledger_patient_idx ON abdm_hip.share_ledger USING gin (patient_refs);
CREATE INDEX share_ledger_abha_idx ON abdm_hip.share_ledger (abha_address, shared_at);
CREATE INDEX share_ledger_shared_at_idx ON abdm_hip.share_ledger (shared_at);

-- The hospital's history within ABDM's limits (sql/schema/62_history.sql): history rows of the
-- outbox wait behind live ones; link-token refusals are counted; the announcements' work list.
-- link_token_usable() takes the table's row in a SQL-standard body, which holds the row type
-- fixed; the replay makes it again.
DROP FUNCTION abdm_hip_internal.link_token_usable(abdm_hip.link_token);
ALTER TABLE abdm_hip.link_token ADD COLUMN refusals int NOT NULL DEFAULT 0;
CREATE INDEX link_token_retry_idx ON abdm_hip.link_token (retry_after) WHERE status IN ('failed', 'blocked');
ALTER TABLE abdm_hip.outbox
  ADD COLUMN priority smallint NOT NULL DEFAULT 0 CONSTRAINT outbox_priority_known CHECK (priority IN (0, 1));
DROP INDEX abdm_hip.outbox_due_idx;
CREATE INDEX outbox_due_idx ON abdm_hip.outbox (priority, next_attempt_at, id) WHERE status = 'pending';
CREATE TABLE abdm_hip.history_item (
  hip_id            text NOT NULL,
  care_context_ref  text NOT NULL,
  patient_ref       text NOT NULL,
  status            text NOT NULL DEFAULT 'queued'
                      CONSTRAINT history_item_status_known CHECK (status IN ('queued', 'dispatched', 'cancelled')),
  queued_at         timestamptz NOT NULL DEFAULT now(),
  dispatched_at     timestamptz,
  PRIMARY KEY (hip_id, care_context_ref),
  FOREIGN KEY (hip_id, care_context_ref) REFERENCES abdm_hip.care_context (hip_id, reference)
    ON UPDATE CASCADE ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.history_item', '');
CREATE INDEX history_item_queued_idx ON abdm_hip.history_item (hip_id, patient_ref) WHERE status = 'queued';

-- A confirmed user-initiated link gives the patient the ABHA address and number the HIE-CM
-- verified, when the HMIS had none (HIP_INIT_NOTIFY_HIECM): the discovery keeps the number.
ALTER TABLE abdm_hip.discovery ADD COLUMN abha_number text;

-- Secrets at rest (sql/schema/17_sealed_secrets.sql): what 0.1.0 kept in clear is sealed here,
-- under the key file abdm_hip.secret_key_file (made now when there is none; README "Secrets at
-- rest"), and the constraints that keep it so are added. The inbox keeps no link token at all.
-- The replay makes seal_secret again, as it makes every function.
CREATE FUNCTION abdm_hip_internal.seal_secret(purpose text, value text) RETURNS text
LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'abdm_seal_secret';
UPDATE abdm_hip.secret SET value = abdm_hip_internal.seal_secret(name, value)
 WHERE value NOT LIKE 'abdm-sealed:1:%';
ALTER TABLE abdm_hip.secret
  ADD CONSTRAINT secret_value_sealed CHECK (value LIKE 'abdm-sealed:1:' || name || ':%');
UPDATE abdm_hip.link_token SET token = abdm_hip_internal.seal_secret('link_token', token)
 WHERE token IS NOT NULL;
ALTER TABLE abdm_hip.link_token
  ADD CONSTRAINT link_token_token_sealed CHECK (token LIKE 'abdm-sealed:1:link_token:%');
UPDATE abdm_hip.outbox
   SET headers = jsonb_set(headers, '{X-LINK-TOKEN}',
                           to_jsonb(abdm_hip_internal.seal_secret('link_token', headers ->> 'X-LINK-TOKEN')))
 WHERE headers ->> 'X-LINK-TOKEN' IS NOT NULL;
UPDATE abdm_hip.outbox
   SET body = body || jsonb_build_object('otp', abdm_hip_internal.seal_secret('otp', body ->> 'otp'),
                                         'message', abdm_hip_internal.seal_secret('otp', body ->> 'message'))
 WHERE kind = 'otp_sms' AND body ->> 'otp' IS NOT NULL AND body ->> 'message' IS NOT NULL;
UPDATE abdm_hip.inbox SET body = jsonb_set(body, '{linkToken}', '"******"')
 WHERE kind = 'on_generate_token' AND body ? 'linkToken';
