-- The state machine lives in these tables (DESIGN.md "The database is the state machine").
-- Every table keyed by facility carries hip_id first in its primary and foreign keys, so a
-- hospital network can distribute them by hip_id (Citus) without a schema change.
-- Columns marked HMIS are the product's interface: renamed only with an upgrade script.
-- One-time DDL (docs/design-notes.md, "Versioned SQL"): each table is followed by its
-- pg_extension_config_dump (its rows are the hospital's data: pg_dump must dump them) and its
-- grants; the schema-wide defaults are in 99_privileges.sql.

-- Facilities (HIP ids) this database serves: one bridge (client id), many HIPs.
CREATE TABLE abdm_hip.facility (
  hip_id      text PRIMARY KEY CONSTRAINT facility_hip_id_format CHECK (hip_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name        text NOT NULL CONSTRAINT facility_name_present CHECK (btrim(name) <> ''),
  hfr_id      text,                       -- HFR facility id when it differs from hip_id
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.facility', '');
GRANT SELECT ON abdm_hip.facility TO abdm_hip_app;

-- HMIS: the hospital's patients.
CREATE TABLE abdm_hip.patient (
  hip_id        text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  patient_ref   text NOT NULL CONSTRAINT patient_patient_ref_present CHECK (btrim(patient_ref) <> ''),
  name          text NOT NULL CONSTRAINT patient_name_present CHECK (btrim(name) <> ''),
  gender        text NOT NULL CONSTRAINT patient_gender_code CHECK (abdm_hip.is_gender(gender)),
  birth_date    date,
  year_of_birth int CONSTRAINT patient_year_of_birth_range
                    CHECK (year_of_birth BETWEEN 1880 AND extract(year FROM now())::int + 1),
  mobile        text CONSTRAINT patient_mobile_format CHECK (abdm_hip.is_mobile(mobile)),
  abha_number   text CONSTRAINT patient_abha_number_format CHECK (abdm_hip.is_abha_number(abha_number)),
  abha_address  text CONSTRAINT patient_abha_address_format CHECK (abdm_hip.is_abha_address(abha_address)),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hip_id, patient_ref),
  CONSTRAINT patient_birth_year_consistent
    CHECK (birth_date IS NULL OR year_of_birth IS NULL OR extract(year FROM birth_date)::int = year_of_birth)
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.patient', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON abdm_hip.patient TO abdm_hip_app;
-- Discovery looks patients up by these (issue: stays fast at a million patients).
CREATE INDEX patient_abha_address_idx ON abdm_hip.patient (hip_id, lower(abha_address)) WHERE abha_address IS NOT NULL;
CREATE INDEX patient_abha_number_idx ON abdm_hip.patient (hip_id, regexp_replace(abha_number, '-', '', 'g')) WHERE abha_number IS NOT NULL;
CREATE INDEX patient_mobile_idx ON abdm_hip.patient (hip_id, abdm_hip.normalize_mobile(mobile)) WHERE mobile IS NOT NULL;

-- HMIS: visits/episodes, each a linkable unit. `display` is what the patient's app shows: a
-- label such as "OPD visit 20 May 2024", never a diagnosis or result (NHA, "Understanding care
-- contexts").
CREATE TABLE abdm_hip.care_context (
  hip_id       text NOT NULL,
  patient_ref  text NOT NULL,
  reference    text NOT NULL CONSTRAINT care_context_reference_present CHECK (btrim(reference) <> ''),
  display      text NOT NULL CONSTRAINT care_context_display_length CHECK (length(btrim(display)) BETWEEN 1 AND 100),
  hi_types     text[] NOT NULL CONSTRAINT care_context_hi_types_known
                 CHECK (cardinality(hi_types) >= 1 AND hi_types <@ abdm_hip.hi_type_names() AND array_position(hi_types, NULL) IS NULL),
  visit_at     timestamptz NOT NULL DEFAULT now(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- True until the sender has acted on the insert (a link request for a patient with an ABHA
  -- address, the SMS deep link for one known only by mobile). An HMIS loading history that must
  -- not be announced inserts false.
  link_pending boolean NOT NULL DEFAULT true,
  PRIMARY KEY (hip_id, reference),
  FOREIGN KEY (hip_id, patient_ref) REFERENCES abdm_hip.patient (hip_id, patient_ref) ON UPDATE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.care_context', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON abdm_hip.care_context TO abdm_hip_app;
CREATE INDEX care_context_patient_idx ON abdm_hip.care_context (hip_id, patient_ref, visit_at);
-- The sender's work list of new care contexts: the whole cost of linking on the HMIS's insert is
-- this index entry (and a wake-up at commit); the sender does the rest after the commit.
CREATE INDEX care_context_link_pending_idx ON abdm_hip.care_context (hip_id, reference) WHERE link_pending;

-- Which ABHA address each care context is linked to (HIP- or user-initiated). Care contexts
-- cannot be unlinked in ABDM; the row goes only when ABDM says the ABHA address is deleted.
CREATE TABLE abdm_hip.care_context_link (
  hip_id            text NOT NULL,
  care_context_ref  text NOT NULL,
  abha_address      abdm_hip.abha_address NOT NULL,
  status            text NOT NULL DEFAULT 'requested'
                      CONSTRAINT care_context_link_status_known CHECK (status IN ('requested', 'linked', 'failed')),
  method            text NOT NULL CONSTRAINT care_context_link_method_known CHECK (method IN ('hip_initiated', 'user_initiated')),
  hi_types_notified text[] NOT NULL DEFAULT '{}',   -- HI types the gateway already knows of
  request_id        uuid,                          -- outbound REQUEST-ID that asked for the link
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  linked_at         timestamptz,
  PRIMARY KEY (hip_id, care_context_ref, abha_address),
  FOREIGN KEY (hip_id, care_context_ref) REFERENCES abdm_hip.care_context (hip_id, reference) ON UPDATE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.care_context_link', '');
GRANT SELECT ON abdm_hip.care_context_link TO abdm_hip_app;
CREATE INDEX care_context_link_request_idx ON abdm_hip.care_context_link (request_id) WHERE request_id IS NOT NULL;
-- The links of one ABHA address (pending links to send when its token arrives; ABHA deletion).
CREATE INDEX care_context_link_abha_idx ON abdm_hip.care_context_link (hip_id, lower(abha_address));

-- HMIS (or abdm_hip.fhir_document()): the FHIR document bundles of a care context.
CREATE TABLE abdm_hip.health_record (
  id                bigint GENERATED BY DEFAULT AS IDENTITY,
  hip_id            text NOT NULL,
  care_context_ref  text NOT NULL,
  hi_type           text NOT NULL CONSTRAINT health_record_hi_type_known CHECK (abdm_hip.is_hi_type(hi_type)),
  recorded_at       timestamptz NOT NULL,
  bundle            jsonb NOT NULL CONSTRAINT health_record_bundle_is_document
                      CHECK (bundle->>'resourceType' = 'Bundle' AND bundle->>'type' = 'document'),
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (hip_id, id),
  FOREIGN KEY (hip_id, care_context_ref) REFERENCES abdm_hip.care_context (hip_id, reference) ON UPDATE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.health_record', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON abdm_hip.health_record TO abdm_hip_app;
CREATE INDEX health_record_care_context_idx ON abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at);

-- V3 link tokens, one per (HIP, ABHA address), reused for their ~6-month life and never
-- re-requested in a loop (NHA M2 v2.8 §4.3.1: ABDM-1092 duplicate window, ABDM-1027 24 h block).
CREATE TABLE abdm_hip.link_token (
  hip_id        text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  abha_address  abdm_hip.abha_address NOT NULL,
  status        text NOT NULL DEFAULT 'requested'
                  CONSTRAINT link_token_status_known CHECK (status IN ('requested', 'valid', 'failed', 'blocked')),
  token         text                       -- the link-token JWT, sealed (src/pg/sealed_secrets.hpp)
                  CONSTRAINT link_token_token_sealed CHECK (token LIKE 'abdm-sealed:1:link_token:%'),
  expires_at    timestamptz,
  abha_number_sent boolean NOT NULL DEFAULT false,  -- send abhaNumber in link/carecontext iff sent here
  request_id    uuid,                      -- REQUEST-ID of the generate-token call
  requested_at  timestamptz NOT NULL DEFAULT now(),
  retry_after   timestamptz,               -- no new request before this (1092/1027 back-off)
  last_error    text,
  refusals      int NOT NULL DEFAULT 0,    -- requests refused in a row (a bounded number are made again)
  PRIMARY KEY (hip_id, abha_address)
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.link_token', '');
-- Not the token itself.
GRANT SELECT (hip_id, abha_address, status, expires_at, requested_at, retry_after, last_error)
  ON abdm_hip.link_token TO abdm_hip_app;
CREATE INDEX link_token_request_idx ON abdm_hip.link_token (request_id) WHERE request_id IS NOT NULL;
-- Refused requests whose wait ends (abdm_hip_internal.retry_link_tokens).
CREATE INDEX link_token_retry_idx ON abdm_hip.link_token (retry_after) WHERE status IN ('failed', 'blocked');

-- User-initiated discovery: what was offered to whom, for the link request that follows.
CREATE TABLE abdm_hip.discovery (
  hip_id            text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  transaction_id    uuid NOT NULL,
  request_id        uuid NOT NULL,
  abha_address      text,
  patient_ref       text,                       -- NULL when nobody matched
  care_context_refs text[] NOT NULL DEFAULT '{}', -- exactly what was offered
  matched_by        text[] NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT now(),
  -- The ABHA number the HIE-CM sent as a verified identifier: a confirmed link gives it to a
  -- patient the HMIS knew without one (75_user_linking.sql, handle_link_confirm).
  abha_number       text,
  PRIMARY KEY (hip_id, transaction_id)
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.discovery', '');

-- User-initiated link requests awaiting the OTP. The OTP exists only as a salted hash.
CREATE TABLE abdm_hip.link_request (
  hip_id            text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  link_ref          uuid NOT NULL,
  transaction_id    uuid NOT NULL,
  request_id        uuid NOT NULL,
  abha_address      text NOT NULL,
  patient_ref       text NOT NULL,
  care_context_refs text[] NOT NULL,
  otp_hash          text NOT NULL,
  otp_expires_at    timestamptz NOT NULL,
  attempts          int NOT NULL DEFAULT 0,
  max_attempts      int NOT NULL DEFAULT 3,
  status            text NOT NULL DEFAULT 'pending'
                      CONSTRAINT link_request_status_known CHECK (status IN ('pending', 'linked', 'expired', 'locked')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  confirmed_at      timestamptz,
  PRIMARY KEY (hip_id, link_ref),
  FOREIGN KEY (hip_id, patient_ref) REFERENCES abdm_hip.patient (hip_id, patient_ref) ON UPDATE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.link_request', '');
CREATE INDEX link_request_transaction_idx ON abdm_hip.link_request (hip_id, transaction_id);

-- Consent artefacts as notified by the consent manager. Deleted (with their care-context rows)
-- when ABDM says so: revocation, expiry, ABHA deletion (NHA "Store consent artefacts").
CREATE TABLE abdm_hip.consent (
  consent_id     uuid PRIMARY KEY,
  hip_id         text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  status         text NOT NULL CONSTRAINT consent_status_known
                   CHECK (status IN ('GRANTED', 'REVOKED', 'EXPIRED', 'DENIED')),
  abha_address   text,
  hiu_id         text,
  purpose_code   text,
  hi_types       text[] NOT NULL DEFAULT '{}',
  access_mode    text,
  date_from      timestamptz,
  date_to        timestamptz,
  data_erase_at  timestamptz,
  artefact       jsonb,                    -- the consentDetail as received
  signature      text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (hip_id, consent_id)
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.consent', '');
GRANT SELECT ON abdm_hip.consent TO abdm_hip_app;
CREATE INDEX consent_abha_idx ON abdm_hip.consent (hip_id, abha_address);
CREATE INDEX consent_erase_idx ON abdm_hip.consent (data_erase_at) WHERE status = 'GRANTED';

CREATE TABLE abdm_hip.consent_care_context (
  hip_id            text NOT NULL,
  consent_id        uuid NOT NULL,
  patient_ref       text NOT NULL,
  care_context_ref  text NOT NULL,
  PRIMARY KEY (hip_id, consent_id, care_context_ref),
  FOREIGN KEY (hip_id, consent_id) REFERENCES abdm_hip.consent (hip_id, consent_id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.consent_care_context', '');
GRANT SELECT ON abdm_hip.consent_care_context TO abdm_hip_app;

-- Health-information requests from HIUs (via the gateway).
CREATE TABLE abdm_hip.hi_request (
  hip_id          text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  transaction_id  uuid NOT NULL,
  request_id      uuid NOT NULL,
  consent_id      uuid NOT NULL,
  date_from       timestamptz NOT NULL,
  date_to         timestamptz NOT NULL,
  data_push_url   text NOT NULL,
  key_material    jsonb NOT NULL,          -- the HIU's public key, nonce, expiry (not secret)
  status          text NOT NULL DEFAULT 'acknowledged'
                    CONSTRAINT hi_request_status_known
                    CHECK (status IN ('acknowledged', 'errored', 'transferring', 'transferred', 'failed')),
  error           text,
  attempts        int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  received_at     timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  page_count      int,                     -- pages planned (abdm_hip.transfer_page); NULL before
  entries_per_page int,                    -- abdm_hip.push_entries_per_page when it was planned
  PRIMARY KEY (hip_id, transaction_id)
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.hi_request', '');
GRANT SELECT ON abdm_hip.hi_request TO abdm_hip_app;
CREATE INDEX hi_request_due_idx ON abdm_hip.hi_request (next_attempt_at) WHERE status IN ('acknowledged', 'transferring');

-- Per care context delivery of a health-information request.
CREATE TABLE abdm_hip.transfer (
  hip_id            text NOT NULL,
  transaction_id    uuid NOT NULL,
  care_context_ref  text NOT NULL,
  status            text NOT NULL DEFAULT 'pending'
                      CONSTRAINT transfer_status_known CHECK (status IN ('pending', 'delivered', 'errored')),
  entries           int NOT NULL DEFAULT 0,
  bytes             bigint NOT NULL DEFAULT 0,
  attempts          int NOT NULL DEFAULT 0,
  error             text,
  started_at        timestamptz,
  finished_at       timestamptz,
  PRIMARY KEY (hip_id, transaction_id, care_context_ref),
  FOREIGN KEY (hip_id, transaction_id) REFERENCES abdm_hip.hi_request (hip_id, transaction_id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.transfer', '');
GRANT SELECT ON abdm_hip.transfer TO abdm_hip_app;

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

-- Every outbound HTTP call, written in the same transaction as the state change that implies it
-- (transactional outbox). `target` is a path under abdm_hip.gateway_url, or an absolute URL
-- (a HIU's dataPushUrl). `request_id` is the REQUEST-ID, stable across retries.
CREATE TABLE abdm_hip.outbox (
  id               bigint GENERATED BY DEFAULT AS IDENTITY,
  hip_id           text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  kind             text NOT NULL,             -- e.g. on-discover, generate-token, data-push
  target           text NOT NULL CONSTRAINT outbox_target_shape CHECK (target ~ '^(/|https?://)'),
  method           text NOT NULL DEFAULT 'POST',
  request_id       uuid NOT NULL DEFAULT gen_random_uuid(),
  headers          jsonb NOT NULL DEFAULT '{}',
  body             jsonb,
  status           text NOT NULL DEFAULT 'pending'
                     CONSTRAINT outbox_status_known CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         int NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_until      timestamptz,               -- a claim by a worker (next_attempt_at moves with it)
  last_http_status int,
  last_error       text,
  response         jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  -- Calls the gateway answers with a callback (sql/schema/52_callback_deadlines.sql):
  answer           text CONSTRAINT outbox_answer_known CHECK (answer IN ('awaiting', 'answered', 'resent', 'no_answer')),
  answer_due_at    timestamptz,               -- sent again (or given up) when no answer by then
  answered_at      timestamptz,
  resends          int NOT NULL DEFAULT 0,    -- how many calls before this one asked the same
  resent_from      uuid,                      -- REQUEST-ID of the call this one sends again
  resent_as        uuid,                      -- REQUEST-ID of the call that sent this one again
  chain_started_at timestamptz,               -- when the first call of the chain was sent
  -- 0: live work (new visits, callbacks' answers); 1: the hospital's history (announce_history),
  -- claimed only when no live row of its kind is due, so a backfill never starves a new visit.
  priority         smallint NOT NULL DEFAULT 0 CONSTRAINT outbox_priority_known CHECK (priority IN (0, 1)),
  PRIMARY KEY (hip_id, id),
  UNIQUE (request_id)
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.outbox', '');
CREATE INDEX outbox_answer_due_idx ON abdm_hip.outbox (answer_due_at) WHERE answer = 'awaiting';
-- Not the bodies (they may carry OTPs on their way to the SMS hook).
GRANT SELECT (id, hip_id, kind, target, request_id, status, attempts, next_attempt_at,
              last_http_status, last_error, created_at, sent_at)
  ON abdm_hip.outbox TO abdm_hip_app;
-- The sender's queue order: live rows before history, then oldest first. A claim moves
-- next_attempt_at to the lease's end, so rows in flight sort behind the due ones and a claim's
-- index scan stops at the first row not yet due instead of stepping over every leased row (and a
-- claim never sorts: id is in the key).
CREATE INDEX outbox_due_idx ON abdm_hip.outbox (priority, next_attempt_at, id) WHERE status = 'pending';

-- The hospital's history a DBA asked to announce (abdm_hip.announce_history, sql/schema/62_history.sql):
-- one row per care context, queued until the sender turns it into link calls at history priority.
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
-- The sender's work list, a patient's care contexts together.
CREATE INDEX history_item_queued_idx ON abdm_hip.history_item (hip_id, patient_ref) WHERE status = 'queued';

-- Every inbound message and the answer it got. A re-delivered REQUEST-ID gets the same answer.
CREATE TABLE abdm_hip.inbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id   uuid,                      -- NULL only when the header itself was missing/bad
  hip_id       text,
  path         text NOT NULL,
  kind         text,
  headers      jsonb NOT NULL,            -- without Authorization
  body         jsonb,
  http_status  int NOT NULL,
  response     jsonb,
  received_at  timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.inbox', '');
CREATE UNIQUE INDEX inbox_request_id_key ON abdm_hip.inbox (request_id) WHERE request_id IS NOT NULL AND http_status < 300;
CREATE INDEX inbox_received_idx ON abdm_hip.inbox (received_at);

-- Secrets: the gateway client secret, sealed under the key file abdm_hip.secret_key_file (so a
-- pg_dump or a WAL archive holds no usable secret). Readable only by abdm_hip_admin (and superusers).
CREATE TABLE abdm_hip.secret (
  name        text PRIMARY KEY,
  value       text NOT NULL CONSTRAINT secret_value_sealed CHECK (value LIKE 'abdm-sealed:1:' || name || ':%'),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.secret', '');
-- No grant: only abdm_hip_admin (99_privileges.sql) and superusers read it.

-- SMS deep-link notifications sent per patient (the interval is kept across care contexts).
CREATE TABLE abdm_hip.sms_notification (
  hip_id        text NOT NULL,
  patient_ref   text NOT NULL,
  status        text NOT NULL DEFAULT 'requested'
                  CONSTRAINT sms_notification_status_known CHECK (status IN ('requested', 'acknowledged', 'failed')),
  request_id    uuid NOT NULL,
  last_sent_at  timestamptz NOT NULL DEFAULT now(),
  last_error    text,
  PRIMARY KEY (hip_id, patient_ref),
  FOREIGN KEY (hip_id, patient_ref) REFERENCES abdm_hip.patient (hip_id, patient_ref) ON UPDATE CASCADE ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.sms_notification', '');
GRANT SELECT ON abdm_hip.sms_notification TO abdm_hip_app;
CREATE INDEX sms_notification_request_idx ON abdm_hip.sms_notification (request_id);

-- Where the gateway calls this bridge (PATCH /gateway/v3/bridge/url), one row per request made
-- with abdm_hip.register_bridge_url(); the outbox row carries the call, this row its meaning.
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
