-- abdm_hip 0.1.0: makes this database an ABDM Health Information Provider (Milestone 2, V3).
-- Assembled by the Makefile from sql/schema/NN_*.sql in name order; each part does one job.
\echo Use "CREATE EXTENSION abdm_hip" to load this file. \quit

-- Roles are cluster-wide and may serve several databases, so they are created when missing and
-- never dropped with the extension (pgsodium does the same). The DBA grants them to real users:
--   abdm_hip_admin    configuration and secrets
--   abdm_hip_app      the HMIS: writes patients, care contexts, records; reads statuses
--   abdm_hip_gateway  the gateway's entry point: may only call abdm_hip.receive()
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'abdm_hip_admin') THEN
    CREATE ROLE abdm_hip_admin NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'abdm_hip_app') THEN
    CREATE ROLE abdm_hip_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'abdm_hip_gateway') THEN
    CREATE ROLE abdm_hip_gateway NOLOGIN;
  END IF;
END
$roles$;

CREATE SCHEMA abdm_hip;
COMMENT ON SCHEMA abdm_hip IS 'ABDM Health Information Provider (extension abdm_hip)';

-- Nothing in the schema is usable by PUBLIC unless granted below, part by part.
REVOKE ALL ON SCHEMA abdm_hip FROM PUBLIC;
GRANT USAGE ON SCHEMA abdm_hip TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;
-- Value rules shared by tables, domains and functions. Each rule is one IMMUTABLE function, so
-- the CHECK constraints, the domains and the friendly validation triggers (15_validation.sql)
-- cannot drift apart.

-- The eight health-information types of ABDM (NHA "Sandbox Documentation (ABDM_Milestone 2)"
-- v2.8, HI types; Invoice is V3-only). CamelCase is the wire spelling.
CREATE FUNCTION abdm_hip.hi_type_names() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY['OPConsultation', 'Prescription', 'DischargeSummary', 'DiagnosticReport',
             'ImmunizationRecord', 'HealthDocumentRecord', 'WellnessRecord', 'Invoice'];

CREATE FUNCTION abdm_hip.is_hi_type(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value = ANY (abdm_hip.hi_type_names());

-- ABHA address: <handle>@sbx (sandbox) or <handle>@abdm (production). Handles are 4-32 letters,
-- digits, '.' or '_', starting and ending with a letter or digit.
CREATE FUNCTION abdm_hip.is_abha_address(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value ~ '^[A-Za-z0-9]([A-Za-z0-9._]{2,30})[A-Za-z0-9]@(sbx|abdm)$';

-- ABHA number: 14 digits, stored bare or in the printed form 12-3456-7890-1234.
CREATE FUNCTION abdm_hip.is_abha_number(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value ~ '^([0-9]{14}|[0-9]{2}-[0-9]{4}-[0-9]{4}-[0-9]{4})$';

-- Indian mobile number: 10 digits starting 6-9, optionally +91/91/0 prefixed; spaces and
-- dashes allowed between digits (normalised by abdm_hip.normalize_mobile()).
CREATE FUNCTION abdm_hip.normalize_mobile(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
  WHEN regexp_replace(value, '[\s-]', '', 'g') ~ '^(\+?91|0)?[6-9][0-9]{9}$'
  THEN right(regexp_replace(value, '[\s-]', '', 'g'), 10)
END;

CREATE FUNCTION abdm_hip.is_mobile(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN abdm_hip.normalize_mobile(value) IS NOT NULL;

CREATE FUNCTION abdm_hip.is_gender(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value IN ('M', 'F', 'O', 'U');

-- Domains for function arguments and the tables filled from the wire.
CREATE DOMAIN abdm_hip.hi_type AS text
  CONSTRAINT hi_type_known CHECK (abdm_hip.is_hi_type(VALUE));
CREATE DOMAIN abdm_hip.abha_address AS text
  CONSTRAINT abha_address_format CHECK (abdm_hip.is_abha_address(VALUE));
CREATE DOMAIN abdm_hip.abha_number AS text
  CONSTRAINT abha_number_format CHECK (abdm_hip.is_abha_number(VALUE));
CREATE DOMAIN abdm_hip.mobile AS text
  CONSTRAINT mobile_format CHECK (abdm_hip.is_mobile(VALUE));
CREATE DOMAIN abdm_hip.gender AS text
  CONSTRAINT gender_code CHECK (abdm_hip.is_gender(VALUE));
-- The state machine lives in these tables (DESIGN.md "The database is the state machine").
-- Every table keyed by facility carries hip_id first in its primary and foreign keys, so a
-- hospital network can distribute them by hip_id (Citus) without a schema change.
-- Columns marked HMIS are the product's interface: renamed only with an upgrade script.

-- Facilities (HIP ids) this database serves: one bridge (client id), many HIPs.
CREATE TABLE abdm_hip.facility (
  hip_id      text PRIMARY KEY CONSTRAINT facility_hip_id_format CHECK (hip_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name        text NOT NULL CONSTRAINT facility_name_present CHECK (btrim(name) <> ''),
  hfr_id      text,                       -- HFR facility id when it differs from hip_id
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);

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
CREATE INDEX health_record_care_context_idx ON abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at);

-- V3 link tokens, one per (HIP, ABHA address), reused for their ~6-month life and never
-- re-requested in a loop (NHA M2 v2.8 §4.3.1: ABDM-1092 duplicate window, ABDM-1027 24 h block).
CREATE TABLE abdm_hip.link_token (
  hip_id        text NOT NULL REFERENCES abdm_hip.facility (hip_id),
  abha_address  abdm_hip.abha_address NOT NULL,
  status        text NOT NULL DEFAULT 'requested'
                  CONSTRAINT link_token_status_known CHECK (status IN ('requested', 'valid', 'failed', 'blocked')),
  token         text,                      -- the link-token JWT (admin/worker only)
  expires_at    timestamptz,
  abha_number_sent boolean NOT NULL DEFAULT false,  -- send abhaNumber in link/carecontext iff sent here
  request_id    uuid,                      -- REQUEST-ID of the generate-token call
  requested_at  timestamptz NOT NULL DEFAULT now(),
  retry_after   timestamptz,               -- no new request before this (1092/1027 back-off)
  last_error    text,
  PRIMARY KEY (hip_id, abha_address)
);
CREATE INDEX link_token_request_idx ON abdm_hip.link_token (request_id) WHERE request_id IS NOT NULL;

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
  PRIMARY KEY (hip_id, transaction_id)
);

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
  PRIMARY KEY (hip_id, transaction_id)
);
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
  PRIMARY KEY (hip_id, id),
  UNIQUE (request_id)
);
-- The sender's queue order. A claim moves next_attempt_at to the lease's end, so rows in flight
-- sort behind the due ones and a claim's index scan stops at the first row not yet due instead of
-- stepping over every leased row (and a claim never sorts: id is in the key).
CREATE INDEX outbox_due_idx ON abdm_hip.outbox (next_attempt_at, id) WHERE status = 'pending';

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
CREATE UNIQUE INDEX inbox_request_id_key ON abdm_hip.inbox (request_id) WHERE request_id IS NOT NULL AND http_status < 300;
CREATE INDEX inbox_received_idx ON abdm_hip.inbox (received_at);

-- Secrets: the gateway client secret. Readable only by abdm_hip_admin (and superusers).
CREATE TABLE abdm_hip.secret (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- pg_dump must dump the rows of extension tables (they are the hospital's data, not ours).
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.facility', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.patient', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.care_context', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.care_context_link', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.health_record', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.link_token', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.discovery', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.link_request', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.consent', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.consent_care_context', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.hi_request', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.transfer', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.outbox', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.inbox', '');
SELECT pg_catalog.pg_extension_config_dump('abdm_hip.secret', '');
-- Friendly refusals for the tables the HMIS writes. The CHECK constraints of 10_tables.sql are
-- the guarantee; these BEFORE triggers run first and say which column is wrong and why, without
-- echoing the whole row (a CHECK's "Failing row contains" detail would print patient data into
-- the server log).

CREATE FUNCTION abdm_hip.refuse(table_name text, column_name text, problem text, hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF hint IS NULL THEN
    RAISE EXCEPTION 'abdm_hip.%.%: %', table_name, column_name, problem
      USING ERRCODE = 'check_violation', SCHEMA = 'abdm_hip', TABLE = table_name, COLUMN = column_name;
  END IF;
  RAISE EXCEPTION 'abdm_hip.%.%: %', table_name, column_name, problem
    USING ERRCODE = 'check_violation', SCHEMA = 'abdm_hip', TABLE = table_name, COLUMN = column_name,
          HINT = hint;
END
$$;

CREATE FUNCTION abdm_hip.patient_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NEW.name IS NULL OR btrim(NEW.name) = '' THEN
    PERFORM abdm_hip.refuse('patient', 'name', 'is required');
  END IF;
  IF NEW.gender IS NULL OR NOT abdm_hip.is_gender(NEW.gender) THEN
    PERFORM abdm_hip.refuse('patient', 'gender', 'must be M, F, O or U',
                            'ABDM gender codes: M male, F female, O other, U undisclosed');
  END IF;
  IF NEW.mobile IS NOT NULL AND NOT abdm_hip.is_mobile(NEW.mobile) THEN
    PERFORM abdm_hip.refuse('patient', 'mobile', 'is not an Indian mobile number',
                            '10 digits starting with 6-9, optionally prefixed by +91');
  END IF;
  IF NEW.abha_number IS NOT NULL AND NOT abdm_hip.is_abha_number(NEW.abha_number) THEN
    PERFORM abdm_hip.refuse('patient', 'abha_number', 'is not a 14-digit ABHA number',
                            'e.g. 91178386101731 or 91-1783-8610-1731');
  END IF;
  IF NEW.abha_address IS NOT NULL AND NOT abdm_hip.is_abha_address(NEW.abha_address) THEN
    PERFORM abdm_hip.refuse('patient', 'abha_address', 'is not an ABHA address',
                            'name@sbx (sandbox) or name@abdm (production)');
  END IF;
  -- Matching uses the year of birth; derive it when only the date is known.
  IF NEW.year_of_birth IS NULL AND NEW.birth_date IS NOT NULL THEN
    NEW.year_of_birth := extract(year FROM NEW.birth_date)::int;
  ELSIF NEW.birth_date IS NOT NULL AND extract(year FROM NEW.birth_date)::int <> NEW.year_of_birth THEN
    PERFORM abdm_hip.refuse('patient', 'year_of_birth', 'does not match birth_date');
  END IF;
  IF NEW.year_of_birth IS NOT NULL
     AND NEW.year_of_birth NOT BETWEEN 1880 AND extract(year FROM now())::int + 1 THEN
    PERFORM abdm_hip.refuse('patient', 'year_of_birth', 'is out of range');
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER patient_validate BEFORE INSERT OR UPDATE ON abdm_hip.patient
  FOR EACH ROW EXECUTE FUNCTION abdm_hip.patient_validate();

CREATE FUNCTION abdm_hip.care_context_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  bad text;
BEGIN
  IF NEW.reference IS NULL OR btrim(NEW.reference) = '' THEN
    PERFORM abdm_hip.refuse('care_context', 'reference', 'is required');
  END IF;
  IF NEW.display IS NULL OR length(btrim(NEW.display)) NOT BETWEEN 1 AND 100 THEN
    PERFORM abdm_hip.refuse('care_context', 'display', 'must be 1-100 characters',
                            'a label such as "OPD visit 20 May 2024", never clinical detail');
  END IF;
  IF NEW.hi_types IS NULL OR cardinality(NEW.hi_types) = 0 THEN
    PERFORM abdm_hip.refuse('care_context', 'hi_types', 'needs at least one HI type');
  END IF;
  SELECT string_agg(coalesce(quote_literal(t), 'NULL'), ', ') INTO bad
  FROM unnest(NEW.hi_types) AS t WHERE t IS NULL OR NOT abdm_hip.is_hi_type(t);
  IF bad IS NOT NULL THEN
    PERFORM abdm_hip.refuse('care_context', 'hi_types', 'unknown HI type ' || bad,
                            'one of ' || array_to_string(abdm_hip.hi_type_names(), ', '));
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- Not on the sender's own updates (link_pending): updated_at stays the HMIS's.
CREATE TRIGGER care_context_validate
  BEFORE INSERT OR UPDATE OF hip_id, patient_ref, reference, display, hi_types, visit_at ON abdm_hip.care_context
  FOR EACH ROW EXECUTE FUNCTION abdm_hip.care_context_validate();

CREATE FUNCTION abdm_hip.health_record_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NEW.hi_type IS NULL OR NOT abdm_hip.is_hi_type(NEW.hi_type) THEN
    PERFORM abdm_hip.refuse('health_record', 'hi_type', 'unknown HI type ' || coalesce(quote_literal(NEW.hi_type), 'NULL'),
                            'one of ' || array_to_string(abdm_hip.hi_type_names(), ', '));
  END IF;
  IF NEW.bundle IS NULL OR NEW.bundle->>'resourceType' IS DISTINCT FROM 'Bundle'
     OR NEW.bundle->>'type' IS DISTINCT FROM 'document' THEN
    PERFORM abdm_hip.refuse('health_record', 'bundle', 'must be a FHIR Bundle of type document',
                            'abdm_hip.fhir_document() builds one from the HMIS record');
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER health_record_validate BEFORE INSERT OR UPDATE ON abdm_hip.health_record
  FOR EACH ROW EXECUTE FUNCTION abdm_hip.health_record_validate();
-- Configuration that is not a GUC because it is secret. The gateway client secret is kept in
-- abdm_hip.secret, readable only by abdm_hip_admin, or in a file named by the postmaster-only
-- setting abdm_hip.client_secret_file. Either way it never appears in pg_settings.
-- Tip: call set_client_secret through a psql variable or with log_statement off for that session,
-- so the statement text does not reach the server log:
--   \set s `cat /run/secrets/abdm` \\ SELECT abdm_hip.set_client_secret(:'s');

CREATE FUNCTION abdm_hip.set_client_secret(secret text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF secret IS NULL OR length(secret) < 8 THEN
    RAISE EXCEPTION 'abdm_hip.set_client_secret: secret must be at least 8 characters'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO abdm_hip.secret (name, value) VALUES ('client_secret', secret)
  ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now();
END
$$;
COMMENT ON FUNCTION abdm_hip.set_client_secret(text) IS
  'Stores the ABDM gateway client secret where only abdm_hip_admin can read it.';

-- Whether a secret is configured, without revealing it (for the status views and the demo).
CREATE FUNCTION abdm_hip.client_secret_configured() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN EXISTS (SELECT 1 FROM abdm_hip.secret WHERE name = 'client_secret')
       OR coalesce(current_setting('abdm_hip.client_secret_file', true), '') <> '';
-- Diagnostic: proves the C++ ⇄ PostgreSQL error boundary of this build (src/pg/selftest_sql.cpp).
CREATE FUNCTION abdm_hip.selftest_error_boundary(kind text) RETURNS int
LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'abdm_selftest_error_boundary';
COMMENT ON FUNCTION abdm_hip.selftest_error_boundary(text) IS
  'Diagnostic: raises each kind of C++ failure through the error boundary; live_objects must stay 0.';
-- Fidelius, the encryption ABDM prescribes for health data pushed from a HIP to a HIU (NHA ABDM
-- docs, "Encryption and Decryption — implementation guidelines"; compatible byte for byte with
-- mgrmtech/fidelius-cli). Implemented in src/core/crypto, exposed by src/pg/fidelius_sql.cpp.
-- All keys, nonces and ciphertexts are standard base64 text; public keys are accepted as the raw
-- 65-byte point or the 309-byte X.509 form. Errors name the offending argument.

CREATE FUNCTION abdm_hip.fidelius_generate_key_material() RETURNS jsonb
LANGUAGE c VOLATILE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_generate_key_material';
COMMENT ON FUNCTION abdm_hip.fidelius_generate_key_material() IS
  'Fresh ephemeral Fidelius key material: {"privateKey", "publicKey" (raw 65-byte point), '
  '"x509PublicKey" (the form to send to HIUs), "nonce" (32 bytes)}, all base64.';

CREATE FUNCTION abdm_hip.fidelius_encrypt(plaintext text, sender_private_key text, sender_nonce text,
                                          requester_public_key text, requester_nonce text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_encrypt';
COMMENT ON FUNCTION abdm_hip.fidelius_encrypt(text, text, text, text, text) IS
  'base64(AES-256-GCM ciphertext || tag) of the UTF-8 plaintext, for the requester (HIU) public key '
  'and nonce, with the sender (HIP) private key and nonce: the "content" of a data-push entry.';

CREATE FUNCTION abdm_hip.fidelius_decrypt(ciphertext text, requester_private_key text, requester_nonce text,
                                          sender_public_key text, sender_nonce text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_decrypt';
COMMENT ON FUNCTION abdm_hip.fidelius_decrypt(text, text, text, text, text) IS
  'The plaintext of a Fidelius ciphertext, as a HIU recovers it; an error (never an empty string) '
  'when the key, a nonce or the data does not match.';

CREATE FUNCTION abdm_hip.fidelius_checksum(plaintext text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fidelius_checksum';
COMMENT ON FUNCTION abdm_hip.fidelius_checksum(text) IS
  'base64(MD5(UTF-8 bytes of plaintext)): the checksum of a data-push entry, computed over exactly '
  'the text that is encrypted.';
-- FHIR document bundles (NRCES "FHIR Implementation Guide for ABDM" 6.x) from plain HMIS records,
-- and the document checks every stored bundle must pass. Implemented in src/core/fhir, exposed by
-- src/pg/fhir_sql.cpp; the record shape is docs/fhir-record.md.

CREATE FUNCTION abdm_hip.fhir_document(hi_type text, record jsonb) RETURNS jsonb
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fhir_document';
COMMENT ON FUNCTION abdm_hip.fhir_document(text, jsonb) IS
  'The ABDM FHIR document Bundle (NRCES profiles) of hi_type built from a plain HMIS record '
  '(docs/fhir-record.md). Deterministic: ids derive from the record, timestamps from document.date. '
  'A missing, unknown or malformed field is an error naming it, e.g. "record.patient.name: required".';

CREATE FUNCTION abdm_hip.fhir_check(bundle jsonb)
RETURNS TABLE (severity text, path text, message text)
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE ROWS 4
AS 'MODULE_PATHNAME', 'abdm_fhir_check';
COMMENT ON FUNCTION abdm_hip.fhir_check(jsonb) IS
  'Document rules a bundle must meet before it is stored or sent: Bundle type/identifier/timestamp/meta, '
  'unique fullUrls, the Composition first with one of the eight ABDM record profiles, its type and '
  'section codes, section entry types, references that resolve, Patient identifiers. No rows = conformant; '
  'severity "error" rows make abdm_hip.health_record refuse the bundle, "warning" rows do not.';

CREATE FUNCTION abdm_hip.fhir_hi_type(bundle jsonb) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fhir_hi_type';
COMMENT ON FUNCTION abdm_hip.fhir_hi_type(jsonb) IS
  'The ABDM HI type whose record profile the bundle''s Composition names (OPConsultRecord → '
  'OPConsultation, ...), or NULL.';

-- health_record refuses a bundle that fails the document checks or is filed under another HI type.
-- Named to fire after health_record_validate (triggers fire in name order), which has already
-- refused anything that is not a document Bundle.
CREATE FUNCTION abdm_hip.health_record_validate_fhir() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n_errors int;
  first_errors text;
  bundle_type text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.bundle IS NOT DISTINCT FROM OLD.bundle AND NEW.hi_type IS NOT DISTINCT FROM OLD.hi_type THEN
    RETURN NEW;
  END IF;
  SELECT count(*), string_agg(c.path || ': ' || c.message, '; ' ORDER BY c.n) FILTER (WHERE c.n <= 3)
    INTO n_errors, first_errors
    FROM abdm_hip.fhir_check(NEW.bundle) WITH ORDINALITY AS c(severity, path, message, n)
   WHERE c.severity = 'error';
  IF n_errors > 0 THEN
    PERFORM abdm_hip.refuse('health_record', 'bundle',
                            format('fails %s FHIR document check(s): %s%s', n_errors, first_errors,
                                   CASE WHEN n_errors > 3 THEN '; ...' ELSE '' END),
                            'SELECT * FROM abdm_hip.fhir_check(bundle) lists every problem; '
                            'abdm_hip.fhir_document() builds a conforming bundle');
  END IF;
  bundle_type := abdm_hip.fhir_hi_type(NEW.bundle);
  IF bundle_type IS DISTINCT FROM NEW.hi_type THEN
    PERFORM abdm_hip.refuse('health_record', 'hi_type',
                            format('is %s but the bundle''s Composition is a record of HI type %s', NEW.hi_type, coalesce(bundle_type, 'none')));
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER health_record_validate_fhir BEFORE INSERT OR UPDATE ON abdm_hip.health_record
  FOR EACH ROW EXECUTE FUNCTION abdm_hip.health_record_validate_fhir();

-- The HMIS builds and checks documents; the trigger runs these as the inserting role.
GRANT EXECUTE ON FUNCTION abdm_hip.fhir_document(text, jsonb), abdm_hip.fhir_check(jsonb),
  abdm_hip.fhir_hi_type(jsonb) TO abdm_hip_app;
-- The transactional outbox: how every state change asks for an outbound call, and how the sender
-- worker reports back. Outbound bodies come from the core's builders (build_message).

CREATE FUNCTION abdm_hip.build_message(kind text, input jsonb) RETURNS jsonb
LANGUAGE c STRICT STABLE AS 'MODULE_PATHNAME', 'abdm_build_message';
COMMENT ON FUNCTION abdm_hip.build_message(text, jsonb) IS
  'The exact ABDM V3 body of an outbound message (kinds: generate_token, link_carecontext, context_notify, sms_notify2, on_discover, on_init, on_confirm, consent_on_notify, hi_on_request, hi_notify, patient_status_on_notify).';

CREATE FUNCTION abdm_hip.outbound_path(kind text) RETURNS text
LANGUAGE c STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'abdm_outbound_path';

-- Queues one gateway call; returns its REQUEST-ID (stable across retries). X-HIP-ID is sent on
-- every V3 call, as NHA's wrapper does (harmless where the gateway does not need it).
CREATE FUNCTION abdm_hip.enqueue(hip_id text, kind text, body jsonb, extra_headers jsonb DEFAULT '{}',
                                 request_id uuid DEFAULT gen_random_uuid())
RETURNS uuid LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO abdm_hip.outbox (hip_id, kind, target, request_id, headers, body)
  VALUES (hip_id, kind, abdm_hip.outbound_path(kind), request_id,
          jsonb_build_object('X-HIP-ID', hip_id) || coalesce(extra_headers, '{}'), body);
  RETURN request_id;
END
$$;

-- A commit that queued or re-timed outbox rows wakes the sender at once.
CREATE FUNCTION abdm_hip.wake_sender() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'abdm_wake_sender';
CREATE TRIGGER outbox_wake_sender AFTER INSERT ON abdm_hip.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip.wake_sender();

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
CREATE FUNCTION abdm_hip.outbox_record_batch(outcomes jsonb) RETURNS void
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
      PERFORM abdm_hip.outbox_failed(failed);
    END IF;
  END LOOP;
END
$$;

-- The code of the first error a gateway answer carries ("ABDM-1092: " → "ABDM-1092"), in every
-- envelope ABDM and its API manager use; NULL when it carries none. The sender classifies
-- answers with the same reading (core/util/gateway_error).
CREATE FUNCTION abdm_hip.gateway_error_code(response jsonb) RETURNS text
LANGUAGE c STRICT IMMUTABLE AS 'MODULE_PATHNAME', 'abdm_gateway_error_code';

-- What a final failure means for the state that queued the call.
CREATE FUNCTION abdm_hip.outbox_failed(o abdm_hip.outbox) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  code text := coalesce(abdm_hip.gateway_error_code(o.response), '');
BEGIN
  IF o.kind = 'generate_token' THEN
    -- ABDM-1092: a duplicate within ~6 minutes; ABDM-1027: blocked for 24 hours. Never loop.
    UPDATE abdm_hip.link_token t
       SET status = CASE WHEN code = 'ABDM-1027' THEN 'blocked' ELSE 'failed' END,
           last_error = o.last_error,
           retry_after = now() + CASE code WHEN 'ABDM-1027' THEN interval '24 hours'
                                           WHEN 'ABDM-1092' THEN interval '7 minutes'
                                           ELSE interval '1 hour' END
     WHERE t.hip_id = o.hip_id AND t.request_id = o.request_id;
    UPDATE abdm_hip.care_context_link l
       SET status = 'failed', last_error = 'link token: ' || o.last_error
      FROM abdm_hip.link_token t
     WHERE t.hip_id = o.hip_id AND t.request_id = o.request_id
       AND l.hip_id = t.hip_id AND l.abha_address = t.abha_address AND l.status = 'requested';
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
CREATE FUNCTION abdm_hip.purge_history() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  keep interval := make_interval(days => coalesce(current_setting('abdm_hip.retention_days', true), '30')::int);
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
CREATE VIEW abdm_hip.outbox_status WITH (security_barrier) AS
SELECT o.id, o.hip_id, o.kind, o.target, o.request_id, o.status, o.attempts,
       o.next_attempt_at, o.last_http_status, o.last_error, o.created_at, o.sent_at,
       CASE WHEN o.status = 'sent' THEN o.sent_at - o.created_at END AS delivery_time,
       o.lease_until IS NOT NULL AND o.lease_until > now() AS in_flight
FROM abdm_hip.outbox o;

GRANT SELECT ON abdm_hip.outbox_status TO abdm_hip_app;
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
CREATE INDEX sms_notification_request_idx ON abdm_hip.sms_notification (request_id);

-- A link token is reused until a day before it expires (it lives ~6 months; NHA M2 v2.8 §4.3.2).
CREATE FUNCTION abdm_hip.link_token_usable(t abdm_hip.link_token) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
RETURN t.status = 'valid' AND t.token IS NOT NULL AND t.expires_at > now() + interval '1 day';

-- Sends every requested-but-unsent link of (HIP, ABHA address) in one link/carecontext call per
-- patient, grouped by HI type by the core builder.
CREATE FUNCTION abdm_hip.send_pending_links(p_hip_id text, p_abha_address text) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tok abdm_hip.link_token;
  pat record;
  rid uuid;
  sent int := 0;
BEGIN
  SELECT * INTO tok FROM abdm_hip.link_token WHERE hip_id = p_hip_id AND abha_address = p_abha_address;
  IF NOT FOUND OR NOT abdm_hip.link_token_usable(tok) THEN
    RETURN 0;
  END IF;
  FOR pat IN
    SELECT p.patient_ref, p.name, p.abha_number,
           jsonb_agg(jsonb_build_object('referenceNumber', c.reference, 'display', c.display,
                                        'hiTypes', to_jsonb(c.hi_types)) ORDER BY c.visit_at, c.reference) AS contexts,
           array_agg(c.reference) AS refs
    FROM abdm_hip.care_context_link l
    JOIN abdm_hip.care_context c ON c.hip_id = l.hip_id AND c.reference = l.care_context_ref
    JOIN abdm_hip.patient p ON p.hip_id = c.hip_id AND p.patient_ref = c.patient_ref
    WHERE l.hip_id = p_hip_id AND lower(l.abha_address) = lower(p_abha_address) AND l.status = 'requested'
      AND l.request_id IS NULL AND l.method = 'hip_initiated'
    GROUP BY p.patient_ref, p.name, p.abha_number
  LOOP
    rid := abdm_hip.enqueue(p_hip_id, 'link_carecontext',
      abdm_hip.build_message('link_carecontext', jsonb_strip_nulls(jsonb_build_object(
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

-- Asks for a link token unless one is valid, already asked for, or ABDM told us to wait.
CREATE FUNCTION abdm_hip.request_link_token(p_hip_id text, p_patient_ref text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pat abdm_hip.patient;
  tok abdm_hip.link_token;
  rid uuid;
BEGIN
  SELECT * INTO pat FROM abdm_hip.patient WHERE hip_id = p_hip_id AND patient_ref = p_patient_ref;
  SELECT * INTO tok FROM abdm_hip.link_token WHERE hip_id = p_hip_id AND abha_address = pat.abha_address FOR UPDATE;
  IF FOUND THEN
    IF abdm_hip.link_token_usable(tok) THEN RETURN false; END IF;
    -- One request in flight at a time; a request unanswered for an hour may be repeated.
    IF tok.status = 'requested' AND tok.requested_at > now() - interval '1 hour' THEN RETURN false; END IF;
    IF tok.retry_after IS NOT NULL AND tok.retry_after > now() THEN RETURN false; END IF;
  END IF;
  rid := abdm_hip.enqueue(p_hip_id, 'generate_token',
    abdm_hip.build_message('generate_token', jsonb_strip_nulls(jsonb_build_object(
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
CREATE FUNCTION abdm_hip.queue_sms_notify(p_hip_id text, p_patient_ref text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pat abdm_hip.patient;
  fac abdm_hip.facility;
  rid uuid := gen_random_uuid();
  every interval := coalesce(nullif(current_setting('abdm_hip.sms_notify_interval', true), ''), '1 day')::interval;
BEGIN
  SELECT * INTO pat FROM abdm_hip.patient WHERE hip_id = p_hip_id AND patient_ref = p_patient_ref;
  IF pat.mobile IS NULL THEN RETURN false; END IF;
  PERFORM 1 FROM abdm_hip.sms_notification s
   WHERE s.hip_id = p_hip_id AND s.patient_ref = p_patient_ref AND s.last_sent_at > now() - every
     AND s.status <> 'failed';
  IF FOUND THEN RETURN false; END IF;
  SELECT * INTO fac FROM abdm_hip.facility WHERE hip_id = p_hip_id;
  PERFORM abdm_hip.enqueue(p_hip_id, 'sms_notify2',
    abdm_hip.build_message('sms_notify2', jsonb_build_object(
      'mobile', abdm_hip.normalize_mobile(pat.mobile), 'hipId', p_hip_id, 'hipName', fac.name,
      'phoneFormat', coalesce(nullif(current_setting('abdm_hip.sms_phone_format', true), ''), '10'),
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
CREATE FUNCTION abdm_hip.queue_patient_links(p_hip_id text, p_patient_ref text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  pat abdm_hip.patient;
BEGIN
  SELECT * INTO pat FROM abdm_hip.patient WHERE hip_id = p_hip_id AND patient_ref = p_patient_ref;
  IF pat.abha_address IS NULL THEN
    PERFORM abdm_hip.queue_sms_notify(p_hip_id, p_patient_ref);
    RETURN;
  END IF;
  INSERT INTO abdm_hip.care_context_link (hip_id, care_context_ref, abha_address, status, method)
  SELECT c.hip_id, c.reference, pat.abha_address, 'requested', 'hip_initiated'
  FROM abdm_hip.care_context c
  WHERE c.hip_id = p_hip_id AND c.patient_ref = p_patient_ref
  ON CONFLICT (hip_id, care_context_ref, abha_address) DO UPDATE
    SET status = 'requested', request_id = NULL, last_error = NULL
    WHERE care_context_link.status = 'failed';
  IF abdm_hip.send_pending_links(p_hip_id, pat.abha_address) = 0 THEN
    PERFORM abdm_hip.request_link_token(p_hip_id, p_patient_ref);
  END IF;
END
$$;

-- The HMIS's insert adds nothing but the care context's entry in care_context_link_pending_idx
-- and a wake-up of the sender at commit; the sender then acts on the new care contexts, batched
-- per patient (dispatch_links below), so the HMIS's transaction stays as short as without the
-- extension.
CREATE TRIGGER care_context_wake_sender AFTER INSERT ON abdm_hip.care_context
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip.wake_sender();

-- Called by the sender: acts on up to max_links new care contexts (rows another transaction holds
-- are skipped and taken next time): per patient, a link request for every care context not yet
-- linked and one link/carecontext call, or one generate-token (queue_patient_links), or the SMS
-- deep link for a patient known only by mobile. Returns the number of care contexts taken, so
-- the caller knows whether more are waiting.
CREATE FUNCTION abdm_hip.dispatch_links(max_links int) RETURNS int
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
    PERFORM abdm_hip.queue_patient_links(p.hip_id, p.patient_ref);
  END LOOP;
  RETURN taken;
END
$$;

-- A linked care context that gains HI types: tell the consent manager (context/notify, one call
-- per care context and ABHA address, with the new types only).
CREATE FUNCTION abdm_hip.care_context_after_update() RETURNS trigger
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
    PERFORM abdm_hip.enqueue(NEW.hip_id, 'context_notify',
      abdm_hip.build_message('context_notify', jsonb_build_object(
        'abhaAddress', l.abha_address, 'patientReference', NEW.patient_ref,
        'careContextReference', NEW.reference, 'hiTypes', to_jsonb(fresh),
        'date', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'hipId', NEW.hip_id)));
    UPDATE abdm_hip.care_context_link SET hi_types_notified = hi_types_notified || fresh
     WHERE hip_id = l.hip_id AND care_context_ref = l.care_context_ref AND abha_address = l.abha_address;
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER care_context_notify_new_types AFTER UPDATE OF hi_types ON abdm_hip.care_context
  FOR EACH ROW WHEN (NEW.hi_types IS DISTINCT FROM OLD.hi_types)
  EXECUTE FUNCTION abdm_hip.care_context_after_update();

-- A record of a type the care context did not list yet adds the type (and so notifies).
CREATE FUNCTION abdm_hip.health_record_after_insert() RETURNS trigger
-- Runs as the extension owner: the HMIS role may not write links, tokens or the outbox itself.
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE abdm_hip.care_context c SET hi_types = c.hi_types || NEW.hi_type
   WHERE c.hip_id = NEW.hip_id AND c.reference = NEW.care_context_ref AND NOT NEW.hi_type = ANY (c.hi_types);
  RETURN NULL;
END
$$;
CREATE TRIGGER health_record_adds_hi_type AFTER INSERT ON abdm_hip.health_record
  FOR EACH ROW EXECUTE FUNCTION abdm_hip.health_record_after_insert();

-- ---- callbacks (called by abdm_hip.receive() with the parsed, normalised message) -------------

CREATE FUNCTION abdm_hip.handle_on_generate_token(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tok abdm_hip.link_token;
  code text := msg #>> '{error,code}';
BEGIN
  SELECT * INTO tok FROM abdm_hip.link_token
   WHERE hip_id = p_hip_id AND request_id = (msg #>> '{response,requestId}')::uuid FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'response.requestId: no generate-token request % from HIP %', msg #>> '{response,requestId}', p_hip_id
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF code IS NOT NULL THEN
    UPDATE abdm_hip.link_token
       SET status = CASE WHEN code = 'ABDM-1027' THEN 'blocked' ELSE 'failed' END,
           last_error = code || ': ' || coalesce(msg #>> '{error,message}', ''),
           retry_after = now() + CASE code WHEN 'ABDM-1027' THEN interval '24 hours'
                                           WHEN 'ABDM-1092' THEN interval '7 minutes'
                                           ELSE interval '1 hour' END
     WHERE hip_id = tok.hip_id AND abha_address = tok.abha_address;
    UPDATE abdm_hip.care_context_link
       SET status = 'failed', last_error = 'link token: ' || code || ': ' || coalesce(msg #>> '{error,message}', '')
     WHERE hip_id = tok.hip_id AND lower(abha_address) = lower(tok.abha_address) AND status = 'requested' AND request_id IS NULL;
    RETURN;
  END IF;
  UPDATE abdm_hip.link_token
     SET status = 'valid', token = msg ->> 'linkToken', last_error = NULL, retry_after = NULL,
         -- The token's own exp claim when readable, else its documented ~6-month life.
         expires_at = coalesce((msg #>> '{tokenClaims,exp}')::timestamptz, now() + interval '182 days')
   WHERE hip_id = tok.hip_id AND abha_address = tok.abha_address;
  PERFORM abdm_hip.send_pending_links(tok.hip_id, tok.abha_address);
END
$$;

CREATE FUNCTION abdm_hip.handle_on_carecontext(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  code text := msg #>> '{error,code}';
  answered uuid := (msg #>> '{response,requestId}')::uuid;
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

CREATE FUNCTION abdm_hip.handle_context_on_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- The acknowledgement is kept in the inbox; an error is surfaced on the outbox row it answers.
  UPDATE abdm_hip.outbox
     SET last_error = CASE WHEN msg ? 'error' THEN (msg #>> '{error,code}') || ': ' || coalesce(msg #>> '{error,message}', '') END
   WHERE hip_id = p_hip_id AND request_id = (msg #>> '{response,requestId}')::uuid AND kind = 'context_notify';
END
$$;

CREATE FUNCTION abdm_hip.handle_sms_on_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE abdm_hip.sms_notification
     SET status = CASE WHEN msg ? 'error' OR upper(coalesce(msg ->> 'status', '')) = 'ERRORED' THEN 'failed' ELSE 'acknowledged' END,
         last_error = CASE WHEN msg ? 'error' THEN (msg #>> '{error,code}') || ': ' || coalesce(msg #>> '{error,message}', '') END
   WHERE hip_id = p_hip_id AND request_id = (msg #>> '{resp,requestId}')::uuid;
END
$$;

-- ---- what an HMIS operator looks at -----------------------------------------------------------

CREATE VIEW abdm_hip.link_activity WITH (security_barrier) AS
SELECT c.hip_id, c.patient_ref, c.reference AS care_context_ref, c.hi_types,
       coalesce(l.abha_address, CASE WHEN c.link_pending THEN p.abha_address END) AS abha_address,
       -- A new care context the sender has not acted on yet shows as requested already.
       coalesce(l.status, CASE WHEN p.abha_address IS NULL THEN 'no_abha_address'
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

CREATE FUNCTION abdm_hip.link_status(hip_id text, patient_ref text)
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
GRANT SELECT ON abdm_hip.sms_notification TO abdm_hip_app;
-- abdm_hip.receive(): the one door for every gateway → HIP call (DESIGN.md). It checks the call in
-- the core (inbound_check), answers a re-delivered REQUEST-ID with the answer it gave before,
-- hands the parsed message to abdm_hip.handle_<kind>() — which changes state and queues the
-- asynchronous reply in the outbox, all in this transaction — records the call in the inbox and
-- returns at once (202), as the gateway's 5-second timeout requires (ProjectEKA gateway
-- application.yaml SERVICE_TIMEOUT).
--
-- The input is named request_body because PostgreSQL does not allow an input and an output
-- parameter of the same name; the result columns are (status, body).

CREATE FUNCTION abdm_hip.inbound_check(path text, headers jsonb, body jsonb) RETURNS jsonb
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'abdm_inbound_check';

CREATE FUNCTION abdm_hip.receive(path text, headers jsonb, request_body jsonb,
                                 OUT status int, OUT body jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  chk jsonb;
  ok boolean;
  rid uuid;
  hip text;
  kind text;
  prior record;
  handler regproc;
BEGIN
  chk := abdm_hip.inbound_check(path, headers, request_body);
  ok := coalesce((chk ->> 'ok')::boolean, false);
  kind := chk ->> 'kind';
  hip := chk ->> 'hipId';
  IF chk ->> 'requestId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    rid := (chk ->> 'requestId')::uuid;
  END IF;

  IF ok THEN
    -- A re-delivered REQUEST-ID gets the same answer and changes nothing twice. The lock makes
    -- two concurrent deliveries of one id wait for each other.
    PERFORM pg_advisory_xact_lock(hashtextextended('abdm_hip.inbox:' || rid::text, 0));
    SELECT i.http_status, i.response INTO prior
      FROM abdm_hip.inbox i WHERE i.request_id = rid AND i.http_status < 300;
    IF FOUND THEN
      status := prior.http_status;
      body := prior.response;
      RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM abdm_hip.facility f WHERE f.hip_id = hip AND f.active) THEN
      ok := false;
      chk := chk || jsonb_build_object('status', 400, 'error',
        jsonb_build_object('code', 'ABDM-1035', 'message', 'X-HIP-ID: unknown HIP id ' || hip));
    END IF;
  END IF;

  IF ok THEN
    handler := to_regproc('abdm_hip.handle_' || kind);
    IF handler IS NULL THEN
      status := 501;
      body := jsonb_build_object('error', jsonb_build_object('code', 'ABDM-9999',
                'message', kind || ' is not handled by this version of abdm_hip'));
    ELSE
      BEGIN
        EXECUTE format('SELECT %s($1, $2, $3)', handler) USING hip, rid, chk -> 'message';
        status := 202;
        body := NULL;
      EXCEPTION
        -- A message that parsed but does not fit our state (an unknown transaction, a reply to
        -- a request we never sent): the gateway's validation-failure answer, nothing changed.
        WHEN invalid_parameter_value OR not_null_violation OR check_violation
             OR foreign_key_violation OR invalid_text_representation OR data_exception THEN
          status := 400;
          body := jsonb_build_object('error', jsonb_build_object('code', 'ABDM-9999', 'message', SQLERRM));
        WHEN OTHERS THEN
          RAISE WARNING 'abdm_hip.receive: % failed: % (%)', kind, SQLERRM, SQLSTATE;
          status := 500;
          body := jsonb_build_object('error', jsonb_build_object('code', 'ABDM-9999',
                    'message', 'internal error at the HIP; the message may be re-delivered'));
      END;
    END IF;
  ELSE
    status := coalesce((chk ->> 'status')::int, 400);
    body := jsonb_build_object('error', chk -> 'error');
  END IF;

  INSERT INTO abdm_hip.inbox (request_id, hip_id, path, kind, headers, body, http_status, response)
  VALUES (rid, hip, coalesce(path, ''), kind, coalesce(chk -> 'headers', '{}'), request_body, status, body);
END
$$;

COMMENT ON FUNCTION abdm_hip.receive(text, jsonb, jsonb) IS
  'Entry point for every ABDM gateway call to this HIP: receive(path, headers, body) → (status, body).';

GRANT EXECUTE ON FUNCTION abdm_hip.receive(text, jsonb, jsonb) TO abdm_hip_gateway;

-- What arrived, for an operator: no bodies.
CREATE VIEW abdm_hip.inbox_status WITH (security_barrier) AS
SELECT id, request_id, hip_id, kind, path, http_status, response -> 'error' AS error, received_at
FROM abdm_hip.inbox;
GRANT SELECT ON abdm_hip.inbox_status TO abdm_hip_app;
-- User-initiated discovery and linking (V3): the patient finds this facility in the ABHA app,
-- the gateway asks us to discover their records, then to link the ones they pick, confirmed by an
-- OTP this HIP sends and checks itself. Protocol: NHA "Sandbox Documentation (ABDM_Milestone 2)"
-- v2.8 §5.3.2–§5.3.3 (discover / on-discover), §5.3.6–§5.3.7 (init / on-init), §5.3.10–§5.3.11
-- (confirm / on-confirm); the HIP owns the OTP (NHA integrator FAQ v1.4).
--
--   discover      candidates by indexed look-ups → core match → on-discover with the patient's
--                 not-yet-linked care contexts (or ABDM-1010); what was offered is kept in
--                 abdm_hip.discovery for the init that follows.
--   link init     the transaction's discovery must have offered the care contexts asked for →
--                 link_request (OTP kept only as a salted hash) → OTP to the patient → on-init.
--   link confirm  OTP checked (unknown reference, attempts, expiry, wrong OTP: own answers) →
--                 care_context_link rows → on-confirm with the linked care contexts.

-- ---- the core's rules, callable from SQL (src/pg/user_linking_sql.cpp) ------------------------

-- The discover message (as receive() hands it to the handler) against candidate patients:
-- {"outcome": "matched"|"no_match"|"ambiguous", "patientRef", "matchedBy", "nameScore", "ranked"}.
-- Candidates: [{"patientRef","name","gender","yearOfBirth","mobile","abhaNumber","abhaAddress","mr"}].
CREATE FUNCTION abdm_hip.match_patients(discover jsonb, candidates jsonb, yob_tolerance int, name_threshold real)
RETURNS jsonb LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_match_patients';

-- Six decimal digits from OpenSSL's CSPRNG.
CREATE FUNCTION abdm_hip.otp_generate() RETURNS text
LANGUAGE c VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_otp_generate';
-- "v1$salt$PBKDF2-SHA256": the only form in which an OTP is stored (a new salt each call).
CREATE FUNCTION abdm_hip.otp_hash(otp text) RETURNS text
LANGUAGE c VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_otp_hash';
-- Constant-time comparison of an OTP with its stored hash; false for a malformed hash.
CREATE FUNCTION abdm_hip.otp_verify(otp text, stored text) RETURNS boolean
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_otp_verify';
-- The on-init communicationHint: "98******32".
CREATE FUNCTION abdm_hip.mask_mobile(mobile text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_mask_mobile';
-- The verdict on a link confirmation: {"outcome": linked|unknown_reference|too_many_attempts|
-- expired|wrong_otp, "code", "message", "attemptsAfter"}. otp_hash NULL = no such link request.
-- Not STRICT for that reason; `at` is the moment of the check (now() in the handler).
CREATE FUNCTION abdm_hip.check_link_confirm(otp text, otp_hash text, expires_at timestamptz, attempts int,
                                            max_attempts int, at timestamptz)
RETURNS jsonb LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_check_link_confirm';

-- ---- helpers ---------------------------------------------------------------------------------

-- The candidate patients of a discover message: every patient of the HIP that shares its ABHA
-- address, ABHA number, mobile or MR number (= patient_ref). Each look-up uses exactly the
-- expression of its index in 10_tables.sql (or the primary key), so discovery stays a handful of
-- index probes at a million patients. A mobile is often shared (a family, or an HMIS placeholder
-- number), so each look-up is capped; the core ranks what comes back.
CREATE FUNCTION abdm_hip.discovery_candidates(p_hip_id text, msg jsonb) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH q AS (
    SELECT lower(msg #>> '{match,abhaAddress}') AS addr, msg #>> '{match,abhaNumber}' AS num,
           msg #>> '{match,mobile}' AS mobile, btrim(msg #>> '{match,mr}') AS mr
  ), refs AS (
    (SELECT p.patient_ref FROM abdm_hip.patient p, q
      WHERE p.hip_id = p_hip_id AND p.abha_address IS NOT NULL AND lower(p.abha_address) = q.addr LIMIT 50)
    UNION
    (SELECT p.patient_ref FROM abdm_hip.patient p, q
      WHERE p.hip_id = p_hip_id AND p.abha_number IS NOT NULL
        AND regexp_replace(p.abha_number, '-', '', 'g') = q.num LIMIT 50)
    UNION
    (SELECT p.patient_ref FROM abdm_hip.patient p, q
      WHERE p.hip_id = p_hip_id AND p.mobile IS NOT NULL
        AND abdm_hip.normalize_mobile(p.mobile) = q.mobile LIMIT 200)
    UNION
    (SELECT p.patient_ref FROM abdm_hip.patient p, q WHERE p.hip_id = p_hip_id AND p.patient_ref = q.mr)
  )
  SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'patientRef', p.patient_ref, 'name', p.name, 'gender', p.gender,
           'yearOfBirth', coalesce(p.year_of_birth, extract(year FROM p.birth_date)::int),
           'mobile', p.mobile, 'abhaNumber', p.abha_number, 'abhaAddress', p.abha_address,
           'mr', p.patient_ref)) ORDER BY p.patient_ref), '[]')
  FROM refs r JOIN abdm_hip.patient p ON p.hip_id = p_hip_id AND p.patient_ref = r.patient_ref;
$$;

-- The patient as the outbound builders take it ({referenceNumber, display, careContexts}), with
-- the given care contexts in visit order; the builder groups them by HI type.
CREATE FUNCTION abdm_hip.out_patient(p_hip_id text, p_patient_ref text, p_refs text[]) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object('referenceNumber', p.patient_ref, 'display', p.name,
           'careContexts', coalesce((
             SELECT jsonb_agg(jsonb_build_object('referenceNumber', c.reference, 'display', c.display,
                                                 'hiTypes', to_jsonb(c.hi_types)) ORDER BY c.visit_at, c.reference)
             FROM abdm_hip.care_context c
             WHERE c.hip_id = p_hip_id AND c.patient_ref = p_patient_ref AND c.reference = ANY (p_refs)), '[]'))
  FROM abdm_hip.patient p WHERE p.hip_id = p_hip_id AND p.patient_ref = p_patient_ref;
$$;

-- The on-discover body for a stored discovery (first answer and every repeat of the transaction).
-- A discovery without a patient is an error answer: matched_by empty = nobody matched, matched_by
-- set = several patients matched by those identifiers (ambiguous). A patient with no care
-- context left to offer is an error answer too.
CREATE FUNCTION abdm_hip.discovery_answer(d abdm_hip.discovery, p_request_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  problem text;
BEGIN
  IF d.patient_ref IS NULL AND cardinality(d.matched_by) = 0 THEN
    problem := 'Patient not found';
  ELSIF d.patient_ref IS NULL THEN
    problem := 'Patient not found: more than one patient matches (' || array_to_string(d.matched_by, ', ')
               || '); please contact the facility';
  ELSIF cardinality(d.care_context_refs) = 0 THEN
    problem := 'Care contexts not found for patient: none that is not already linked';
  END IF;
  IF problem IS NOT NULL THEN
    RETURN abdm_hip.build_message('on_discover', jsonb_build_object(
      'transactionId', d.transaction_id, 'requestId', p_request_id,
      'error', jsonb_build_object('code', 'ABDM-1010', 'message', problem)));
  END IF;
  RETURN abdm_hip.build_message('on_discover', jsonb_build_object(
    'transactionId', d.transaction_id, 'requestId', p_request_id,
    'patient', abdm_hip.out_patient(d.hip_id, d.patient_ref, d.care_context_refs),
    'matchedBy', to_jsonb(d.matched_by)));
END
$$;

-- ---- discover ------------------------------------------------------------------------------

CREATE FUNCTION abdm_hip.handle_discover(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_tx uuid := (msg ->> 'transactionId')::uuid;
  v_addr text := msg #>> '{patient,id}';
  d abdm_hip.discovery;
  m jsonb;
  v_patient text;
  v_matched text[] := '{}';
  v_refs text[] := '{}';
BEGIN
  -- One discovery per transaction: a repeat is answered from what was stored, not re-matched
  -- (the lock makes two concurrent deliveries of one transaction wait for each other).
  PERFORM pg_advisory_xact_lock(hashtextextended('abdm_hip.discovery:' || p_hip_id || ':' || v_tx, 0));
  SELECT * INTO d FROM abdm_hip.discovery WHERE hip_id = p_hip_id AND transaction_id = v_tx;
  IF FOUND THEN
    PERFORM abdm_hip.enqueue(p_hip_id, 'on_discover', abdm_hip.discovery_answer(d, p_request_id));
    RETURN;
  END IF;

  m := abdm_hip.match_patients(msg, abdm_hip.discovery_candidates(p_hip_id, msg),
         coalesce(nullif(current_setting('abdm_hip.discovery_yob_tolerance', true), ''), '5')::int,
         coalesce(nullif(current_setting('abdm_hip.discovery_name_threshold', true), ''), '0.6')::real);
  IF m ->> 'outcome' = 'matched' THEN
    v_patient := m ->> 'patientRef';
    v_matched := ARRAY(SELECT jsonb_array_elements_text(m -> 'matchedBy'));
    -- Only what is not yet linked (NHA-ABDM/ABDM-wrapper DiscoveryV3Service) — to any ABHA
    -- address: a care context linked to one address is never offered to another that merely
    -- shares the mobile and demographics (a family member), which would disclose it.
    v_refs := ARRAY(
      SELECT c.reference FROM abdm_hip.care_context c
      WHERE c.hip_id = p_hip_id AND c.patient_ref = v_patient
        AND NOT EXISTS (SELECT 1 FROM abdm_hip.care_context_link l
                        WHERE l.hip_id = c.hip_id AND l.care_context_ref = c.reference
                          AND l.status = 'linked')
      ORDER BY c.visit_at, c.reference);
  ELSIF m ->> 'outcome' = 'ambiguous' THEN
    v_matched := ARRAY(SELECT jsonb_array_elements_text(m #> '{ranked,0,matchedBy}'));
  END IF;

  INSERT INTO abdm_hip.discovery (hip_id, transaction_id, request_id, abha_address, patient_ref,
                                  care_context_refs, matched_by)
  VALUES (p_hip_id, v_tx, p_request_id, v_addr, v_patient, v_refs, v_matched)
  RETURNING * INTO d;
  PERFORM abdm_hip.enqueue(p_hip_id, 'on_discover', abdm_hip.discovery_answer(d, p_request_id));
END
$$;

-- ---- link init -----------------------------------------------------------------------------

-- Delivers an OTP: (a) an 'otp_sms' outbox row to abdm_hip.otp_sms_url when set (the sender posts
-- {mobile, otp, message, hipId, linkRefNumber} there without gateway credentials; the OTP and
-- message are removed from the row once it is sent or has failed, see otp_sms_forget below);
-- (b) NOTIFY abdm_hip_otp with {hip_id, link_ref, patient_ref, mobile, otp, expires_at} for a
-- sender inside the HMIS — when no SMS hook is set, or abdm_hip.otp_notify is on. PostgreSQL has
-- no privilege on LISTEN: every role that may connect to this database can listen, so with the
-- NOTIFY path CONNECT on it must be limited to trusted roles (README "OTP delivery").
-- Neither path writes the OTP to the server log.
CREATE FUNCTION abdm_hip.deliver_otp(p_hip_id text, p_link_ref uuid, p_patient_ref text, p_mobile text,
                                     p_otp text, p_expires_at timestamptz) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  url text := nullif(btrim(coalesce(current_setting('abdm_hip.otp_sms_url', true), '')), '');
  v_facility text;
  minutes int := greatest(1, ceil(extract(epoch FROM p_expires_at - now()) / 60)::int);
BEGIN
  IF url IS NOT NULL THEN
    IF url !~* '^https?://' THEN
      -- A configuration fault, not the gateway's: receive() answers 500 and logs this message
      -- (which holds no OTP), and the gateway re-delivers once the setting is fixed.
      RAISE EXCEPTION 'abdm_hip.otp_sms_url must be an http:// or https:// URL'
        USING ERRCODE = 'config_file_error';
    END IF;
    SELECT f.name INTO v_facility FROM abdm_hip.facility f WHERE f.hip_id = p_hip_id;
    INSERT INTO abdm_hip.outbox (hip_id, kind, target, headers, body)
    VALUES (p_hip_id, 'otp_sms', url, '{}', jsonb_build_object(
      'mobile', abdm_hip.normalize_mobile(p_mobile), 'otp', p_otp, 'hipId', p_hip_id,
      'linkRefNumber', p_link_ref,
      'message', p_otp || ' is your OTP to link your health records at ' || v_facility
                 || ' with your ABHA address. It is valid for ' || minutes
                 || ' minutes. Do not share it with anyone.'));
  END IF;
  IF url IS NOT NULL AND coalesce(current_setting('abdm_hip.otp_notify', true), 'off') <> 'on' THEN
    RETURN;
  END IF;
  PERFORM pg_notify('abdm_hip_otp', json_build_object(
    'hip_id', p_hip_id, 'link_ref', p_link_ref, 'patient_ref', p_patient_ref,
    'mobile', abdm_hip.normalize_mobile(p_mobile), 'otp', p_otp,
    'expires_at', to_char(p_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text);
END
$$;

-- Once the SMS hook has been called (or given up on), the OTP is not kept in clear.
CREATE FUNCTION abdm_hip.otp_sms_forget() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.body := NEW.body - 'otp' - 'message';
  RETURN NEW;
END
$$;
CREATE TRIGGER outbox_otp_sms_forget BEFORE UPDATE ON abdm_hip.outbox
  FOR EACH ROW WHEN (NEW.kind = 'otp_sms' AND NEW.status IN ('sent', 'failed'))
  EXECUTE FUNCTION abdm_hip.otp_sms_forget();

-- The OTP the patient typed is not kept in the inbox either (a wrong guess is often one digit off).
CREATE FUNCTION abdm_hip.inbox_mask_otp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF jsonb_typeof(NEW.body -> 'confirmation') = 'object' AND NEW.body -> 'confirmation' ? 'token' THEN
    NEW.body := jsonb_set(NEW.body, '{confirmation,token}', '"******"');
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER inbox_mask_otp BEFORE INSERT ON abdm_hip.inbox
  FOR EACH ROW WHEN (NEW.kind = 'link_confirm' AND NEW.body IS NOT NULL)
  EXECUTE FUNCTION abdm_hip.inbox_mask_otp();

CREATE FUNCTION abdm_hip.on_init_answer(lr abdm_hip.link_request, p_request_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT abdm_hip.build_message('on_init', jsonb_build_object(
    'transactionId', lr.transaction_id, 'requestId', p_request_id, 'linkRefNumber', lr.link_ref,
    'authenticationType', coalesce(nullif(current_setting('abdm_hip.link_auth_type', true), ''), 'MEDIATE'),
    'communicationHint', abdm_hip.mask_mobile(p.mobile),
    'communicationExpiry', to_char(lr.otp_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
  FROM abdm_hip.patient p WHERE p.hip_id = lr.hip_id AND p.patient_ref = lr.patient_ref;
$$;

CREATE FUNCTION abdm_hip.handle_link_init(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_tx uuid := (msg ->> 'transactionId')::uuid;
  v_addr text := msg ->> 'abhaAddress';
  d abdm_hip.discovery;
  lr abdm_hip.link_request;
  v_refs text[];
  v_mobile text;
  v_otp text;
  bad record;
  code text;
  problem text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('abdm_hip.discovery:' || p_hip_id || ':' || v_tx, 0));
  -- Every care context asked for, once, in the order asked (V3 may list one under several HI types).
  v_refs := ARRAY(SELECT ref FROM (
                    SELECT cc ->> 'referenceNumber' AS ref, min(p.i * 10000 + c.k) AS pos
                    FROM jsonb_array_elements(msg -> 'patient') WITH ORDINALITY p(pat, i),
                         jsonb_array_elements(p.pat -> 'careContexts') WITH ORDINALITY c(cc, k)
                    GROUP BY 1) s ORDER BY pos);

  SELECT * INTO d FROM abdm_hip.discovery WHERE hip_id = p_hip_id AND transaction_id = v_tx;
  IF NOT FOUND THEN
    code := 'ABDM-9999'; problem := 'transactionId: no discovery ' || v_tx || ' at HIP ' || p_hip_id;
  ELSIF d.patient_ref IS NULL OR cardinality(d.care_context_refs) = 0 THEN
    code := 'ABDM-1010'; problem := 'transactionId: discovery ' || v_tx || ' found no patient to link';
  ELSIF lower(v_addr) IS DISTINCT FROM lower(d.abha_address) THEN
    code := 'ABDM-9999'; problem := 'abhaAddress: ' || v_addr || ' is not the ABHA address of discovery ' || v_tx;
  ELSE
    SELECT format('patient[%s].referenceNumber', p.i - 1) AS field, p.pat ->> 'referenceNumber' AS ref INTO bad
    FROM jsonb_array_elements(msg -> 'patient') WITH ORDINALITY p(pat, i)
    WHERE p.pat ->> 'referenceNumber' IS DISTINCT FROM d.patient_ref ORDER BY p.i LIMIT 1;
    IF FOUND THEN
      code := 'ABDM-1010'; problem := bad.field || ': ' || bad.ref || ' is not the patient discovered in transaction ' || v_tx;
    ELSE
      SELECT format('patient[%s].careContexts[%s].referenceNumber', p.i - 1, c.k - 1) AS field,
             c.cc ->> 'referenceNumber' AS ref INTO bad
      FROM jsonb_array_elements(msg -> 'patient') WITH ORDINALITY p(pat, i),
           jsonb_array_elements(p.pat -> 'careContexts') WITH ORDINALITY c(cc, k)
      WHERE NOT (c.cc ->> 'referenceNumber') = ANY (d.care_context_refs) ORDER BY p.i, c.k LIMIT 1;
      IF FOUND THEN
        code := 'ABDM-9999'; problem := bad.field || ': ' || bad.ref || ' was not offered in transaction ' || v_tx;
      END IF;
    END IF;
  END IF;
  IF code IS NULL THEN
    SELECT p.mobile INTO v_mobile FROM abdm_hip.patient p WHERE p.hip_id = p_hip_id AND p.patient_ref = d.patient_ref;
    IF v_mobile IS NULL THEN
      code := 'ABDM-9999'; problem := 'The facility has no mobile number on file to send the OTP to';
    END IF;
  END IF;
  IF code IS NOT NULL THEN
    PERFORM abdm_hip.enqueue(p_hip_id, 'on_init', abdm_hip.build_message('on_init', jsonb_build_object(
      'transactionId', v_tx, 'requestId', p_request_id, 'error', jsonb_build_object('code', code, 'message', problem))));
    RETURN;
  END IF;

  -- The same init again (its on-init may have been lost): the same link reference, no new OTP,
  -- while that one can still be confirmed.
  SELECT * INTO lr FROM abdm_hip.link_request r
   WHERE r.hip_id = p_hip_id AND r.transaction_id = v_tx AND r.status IN ('pending', 'linked')
     AND r.care_context_refs = v_refs AND (r.status = 'linked' OR (r.otp_expires_at > now() AND r.attempts < r.max_attempts))
   ORDER BY r.created_at DESC LIMIT 1;
  IF FOUND THEN
    PERFORM abdm_hip.enqueue(p_hip_id, 'on_init', abdm_hip.on_init_answer(lr, p_request_id));
    RETURN;
  END IF;

  -- A new request replaces any other pending one of the transaction.
  UPDATE abdm_hip.link_request SET status = 'expired'
   WHERE hip_id = p_hip_id AND transaction_id = v_tx AND status = 'pending';
  v_otp := abdm_hip.otp_generate();
  INSERT INTO abdm_hip.link_request (hip_id, link_ref, transaction_id, request_id, abha_address, patient_ref,
                                     care_context_refs, otp_hash, otp_expires_at, max_attempts)
  VALUES (p_hip_id, gen_random_uuid(), v_tx, p_request_id, v_addr, d.patient_ref, v_refs,
          abdm_hip.otp_hash(v_otp),
          -- Whole milliseconds: the on-init communicationExpiry is exactly this instant.
          date_trunc('milliseconds', now() + coalesce(nullif(current_setting('abdm_hip.otp_expiry', true), ''), '600s')::interval),
          coalesce(nullif(current_setting('abdm_hip.otp_max_attempts', true), ''), '3')::int)
  RETURNING * INTO lr;
  PERFORM abdm_hip.deliver_otp(p_hip_id, lr.link_ref, lr.patient_ref, v_mobile, v_otp, lr.otp_expires_at);
  PERFORM abdm_hip.enqueue(p_hip_id, 'on_init', abdm_hip.on_init_answer(lr, p_request_id));
END
$$;

-- ---- link confirm --------------------------------------------------------------------------

CREATE FUNCTION abdm_hip.handle_link_confirm(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_ref text := msg #>> '{confirmation,linkRefNumber}';
  v_otp text := msg #>> '{confirmation,token}';
  lr abdm_hip.link_request;
  verdict jsonb;
BEGIN
  IF v_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    SELECT * INTO lr FROM abdm_hip.link_request
     WHERE hip_id = p_hip_id AND link_ref = v_ref::uuid FOR UPDATE;
  END IF;

  IF lr.status = 'linked' THEN
    -- A confirm repeated after success (its on-confirm may have been lost): the same answer,
    -- for the holder of the same OTP only.
    IF abdm_hip.otp_verify(v_otp, lr.otp_hash) THEN
      PERFORM abdm_hip.enqueue(p_hip_id, 'on_confirm', abdm_hip.build_message('on_confirm', jsonb_build_object(
        'requestId', p_request_id, 'patient', abdm_hip.out_patient(p_hip_id, lr.patient_ref, lr.care_context_refs))));
      RETURN;
    END IF;
    lr := NULL;  -- used up: answered like an unknown reference
  END IF;

  -- A request ended by other means (ABHA deactivated) counts as expired.
  verdict := abdm_hip.check_link_confirm(v_otp, lr.otp_hash,
               CASE WHEN lr.status = 'expired' THEN least(lr.otp_expires_at, now()) ELSE lr.otp_expires_at END,
               lr.attempts, coalesce(lr.max_attempts, 1), now());

  IF verdict ->> 'outcome' <> 'linked' THEN
    -- The handler returns normally, so these updates commit with the error answer.
    IF lr.link_ref IS NOT NULL THEN
      UPDATE abdm_hip.link_request
         SET attempts = (verdict ->> 'attemptsAfter')::int,
             status = CASE verdict ->> 'outcome'
                        WHEN 'expired' THEN 'expired'
                        WHEN 'too_many_attempts' THEN 'locked'
                        WHEN 'wrong_otp' THEN CASE WHEN (verdict ->> 'attemptsAfter')::int >= lr.max_attempts
                                                   THEN 'locked' ELSE status END
                        ELSE status END
       WHERE hip_id = lr.hip_id AND link_ref = lr.link_ref;
    END IF;
    PERFORM abdm_hip.enqueue(p_hip_id, 'on_confirm', abdm_hip.build_message('on_confirm', jsonb_build_object(
      'requestId', p_request_id,
      'error', jsonb_build_object('code', verdict ->> 'code', 'message', verdict ->> 'message'))));
    RETURN;
  END IF;

  -- Linked: one care_context_link per care context for this ABHA address. A link the HIP had
  -- started itself (or one that failed) becomes this one; a link already made stays as it was.
  INSERT INTO abdm_hip.care_context_link AS l (hip_id, care_context_ref, abha_address, status, method,
                                               hi_types_notified, linked_at)
  SELECT c.hip_id, c.reference, lr.abha_address, 'linked', 'user_initiated', c.hi_types, now()
  FROM abdm_hip.care_context c
  WHERE c.hip_id = p_hip_id AND c.patient_ref = lr.patient_ref AND c.reference = ANY (lr.care_context_refs)
  ON CONFLICT (hip_id, care_context_ref, abha_address) DO UPDATE
    SET status = 'linked', method = 'user_initiated', hi_types_notified = excluded.hi_types_notified,
        linked_at = now(), last_error = NULL
    WHERE l.status <> 'linked';
  UPDATE abdm_hip.link_request SET status = 'linked', confirmed_at = now()
   WHERE hip_id = lr.hip_id AND link_ref = lr.link_ref;
  PERFORM abdm_hip.enqueue(p_hip_id, 'on_confirm', abdm_hip.build_message('on_confirm', jsonb_build_object(
    'requestId', p_request_id, 'patient', abdm_hip.out_patient(p_hip_id, lr.patient_ref, lr.care_context_refs))));
END
$$;
-- Consent artefacts and ABHA status notices (NHA M2 v2.8 §6.3.1–§6.3.2; abdm-docs
-- "Store consent artefacts": share only while GRANTED and before dataEraseAt; on revocation or
-- expiry stop and delete; on ABHA deletion remove links and consents but keep clinical records).
--
-- A consent that ends keeps a tombstone row (id, HIP, status, time) so a later request for it gets
-- the precise answer ("consent not granted") instead of "unknown"; its artefact, patient and
-- care-context list are deleted.

CREATE FUNCTION abdm_hip.handle_consent_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  n jsonb := msg -> 'notification';
  d jsonb := msg #> '{notification,consentDetail}';
  v_status text := n ->> 'status';
  v_consent uuid := (n ->> 'consentId')::uuid;
  other_hip text;
BEGIN
  SELECT c.hip_id INTO other_hip FROM abdm_hip.consent c WHERE c.consent_id = v_consent;
  IF FOUND AND other_hip <> p_hip_id THEN
    RAISE EXCEPTION 'notification.consentId: consent % belongs to another HIP', v_consent
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  IF v_status = 'GRANTED' THEN
    IF d #>> '{hip,id}' IS DISTINCT FROM p_hip_id THEN
      -- Acknowledged (an unacknowledged notification blocks the HIU, NHA FAQ), not stored.
      PERFORM abdm_hip.enqueue(p_hip_id, 'consent_on_notify',
        abdm_hip.build_message('consent_on_notify', jsonb_build_object(
          'requestId', p_request_id, 'consentId', v_consent,
          'error', jsonb_build_object('code', 'ABDM-1035',
                     'message', 'consentDetail.hip.id ' || coalesce(d #>> '{hip,id}', 'null') || ' is not ' || p_hip_id))));
      RETURN;
    END IF;
    INSERT INTO abdm_hip.consent AS c (consent_id, hip_id, status, abha_address, hiu_id, purpose_code, hi_types,
                                       access_mode, date_from, date_to, data_erase_at, artefact, signature, updated_at)
    VALUES (v_consent, p_hip_id, 'GRANTED', d #>> '{patient,id}', d #>> '{hiu,id}', d #>> '{purpose,code}',
            ARRAY(SELECT jsonb_array_elements_text(d -> 'hiTypes')), d #>> '{permission,accessMode}',
            (d #>> '{permission,dateRange,from}')::timestamptz, (d #>> '{permission,dateRange,to}')::timestamptz,
            (d #>> '{permission,dataEraseAt}')::timestamptz, d, n ->> 'signature', now())
    ON CONFLICT (consent_id) DO UPDATE
      SET status = 'GRANTED', abha_address = excluded.abha_address, hiu_id = excluded.hiu_id,
          purpose_code = excluded.purpose_code, hi_types = excluded.hi_types, access_mode = excluded.access_mode,
          date_from = excluded.date_from, date_to = excluded.date_to, data_erase_at = excluded.data_erase_at,
          artefact = excluded.artefact, signature = excluded.signature, updated_at = now();
    DELETE FROM abdm_hip.consent_care_context WHERE hip_id = p_hip_id AND consent_id = v_consent;
    INSERT INTO abdm_hip.consent_care_context (hip_id, consent_id, patient_ref, care_context_ref)
    SELECT DISTINCT p_hip_id, v_consent, cc ->> 'patientReference', cc ->> 'careContextReference'
    FROM jsonb_array_elements(d -> 'careContexts') cc;
  ELSE
    -- REVOKED, EXPIRED, DENIED: nothing may be shared any more; delete what was kept.
    PERFORM abdm_hip.end_consent(p_hip_id, v_consent, v_status);
  END IF;

  PERFORM abdm_hip.enqueue(p_hip_id, 'consent_on_notify',
    abdm_hip.build_message('consent_on_notify', jsonb_build_object('requestId', p_request_id, 'consentId', v_consent)));
END
$$;

-- Ends a consent: tombstone with the status, artefact and care contexts deleted.
CREATE FUNCTION abdm_hip.end_consent(p_hip_id text, p_consent uuid, p_status text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM abdm_hip.consent_care_context WHERE hip_id = p_hip_id AND consent_id = p_consent;
  INSERT INTO abdm_hip.consent AS c (consent_id, hip_id, status, updated_at)
  VALUES (p_consent, p_hip_id, p_status, now())
  ON CONFLICT (consent_id) DO UPDATE
    SET status = excluded.status, abha_address = NULL, hiu_id = NULL, purpose_code = NULL, hi_types = '{}',
        access_mode = NULL, artefact = NULL, signature = NULL, updated_at = now();
END
$$;

-- Consents past dataEraseAt are ended as EXPIRED even when no notice arrives (run by the sender
-- worker with the history purge, and safe to call any time).
CREATE FUNCTION abdm_hip.expire_consents() RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c record;
  n int := 0;
BEGIN
  FOR c IN SELECT hip_id, consent_id FROM abdm_hip.consent
           WHERE status = 'GRANTED' AND data_erase_at <= now() FOR UPDATE SKIP LOCKED LOOP
    PERFORM abdm_hip.end_consent(c.hip_id, c.consent_id, 'EXPIRED');
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- ABHA deactivation / deletion (v0.5 /patients/status/notify; served at the V3 analogue path).
CREATE FUNCTION abdm_hip.handle_patient_status_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_status text := msg #>> '{notification,status}';
  v_abha text := msg #>> '{notification,patient,id}';
  c record;
BEGIN
  IF v_status IN ('DEACTIVATED', 'DELETED') THEN
    FOR c IN SELECT consent_id FROM abdm_hip.consent WHERE hip_id = p_hip_id AND lower(abha_address) = lower(v_abha) LOOP
      PERFORM abdm_hip.end_consent(p_hip_id, c.consent_id, 'REVOKED');
    END LOOP;
    DELETE FROM abdm_hip.care_context_link WHERE hip_id = p_hip_id AND lower(abha_address) = lower(v_abha);
    DELETE FROM abdm_hip.link_token WHERE hip_id = p_hip_id AND lower(abha_address) = lower(v_abha);
    UPDATE abdm_hip.link_request SET status = 'expired'
     WHERE hip_id = p_hip_id AND lower(abha_address) = lower(v_abha) AND status = 'pending';
    IF v_status = 'DELETED' THEN
      -- The address no longer exists: new care contexts must not try to link to it.
      UPDATE abdm_hip.patient SET abha_address = NULL
       WHERE hip_id = p_hip_id AND lower(abha_address) = lower(v_abha);
    END IF;
  END IF;
  PERFORM abdm_hip.enqueue(p_hip_id, 'patient_status_on_notify',
    abdm_hip.build_message('patient_status_on_notify', jsonb_build_object('requestId', p_request_id)));
END
$$;
-- Health-information requests (NHA M2 v2.8 §6.3.3–§6.3.4). Before acknowledging, the HIP checks
-- what abdm-docs "Request health records" and the reference HIP (ProjectEKA hip-service
-- DataFlow.cs) check: the consent is known, GRANTED and not past dataEraseAt; the requested date
-- range lies inside the consented one (refused, not trimmed); the HIU's key has not expired.
-- Then on-request ACKNOWLEDGED, and the transfer worker takes over. A refusal is answered
-- ERRORED and followed by a FAILED transfer notification: nothing is ever pushed after it
-- (NHA-ABDM/ABDM-wrapper PR #138).

CREATE FUNCTION abdm_hip.wake_transfer() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'abdm_wake_transfer';
CREATE TRIGGER hi_request_wake_transfer AFTER INSERT ON abdm_hip.hi_request
  FOR EACH STATEMENT EXECUTE FUNCTION abdm_hip.wake_transfer();

CREATE FUNCTION abdm_hip.refuse_hi_request(p_hip_id text, p_request_id uuid, p_tx uuid, p_consent uuid,
                                           p_code text, p_message text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM abdm_hip.enqueue(p_hip_id, 'hi_on_request',
    abdm_hip.build_message('hi_on_request', jsonb_build_object(
      'requestId', p_request_id, 'transactionId', p_tx,
      'error', jsonb_build_object('code', p_code, 'message', p_message))));
  PERFORM abdm_hip.enqueue(p_hip_id, 'hi_notify',
    abdm_hip.build_message('hi_notify', jsonb_build_object(
      'consentId', p_consent, 'transactionId', p_tx, 'hipId', p_hip_id, 'transferred', false,
      'doneAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'statuses', coalesce((SELECT jsonb_agg(jsonb_build_object('careContextReference', care_context_ref,
                                       'delivered', false, 'description', p_message) ORDER BY care_context_ref)
                            FROM abdm_hip.consent_care_context WHERE hip_id = p_hip_id AND consent_id = p_consent),
                           '[]'))));
END
$$;

CREATE FUNCTION abdm_hip.handle_hi_request(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  hr jsonb := msg -> 'hiRequest';
  v_tx uuid := (msg ->> 'transactionId')::uuid;
  v_consent uuid := (hr #>> '{consent,id}')::uuid;
  v_from timestamptz := (hr #>> '{dateRange,from}')::timestamptz;
  v_to timestamptz := (hr #>> '{dateRange,to}')::timestamptz;
  c abdm_hip.consent;
  prior abdm_hip.hi_request;
  code text;
  problem text;
BEGIN
  -- The same transaction asked again: answered as before, not executed twice.
  SELECT * INTO prior FROM abdm_hip.hi_request WHERE hip_id = p_hip_id AND transaction_id = v_tx;
  IF FOUND THEN
    PERFORM abdm_hip.enqueue(p_hip_id, 'hi_on_request',
      abdm_hip.build_message('hi_on_request', CASE WHEN prior.status = 'errored' THEN
        jsonb_build_object('requestId', p_request_id, 'transactionId', v_tx,
                           'error', jsonb_build_object('code', split_part(prior.error, ': ', 1),
                                                       'message', substr(prior.error, strpos(prior.error, ': ') + 2)))
      ELSE jsonb_build_object('requestId', p_request_id, 'transactionId', v_tx) END));
    RETURN;
  END IF;

  SELECT * INTO c FROM abdm_hip.consent WHERE consent_id = v_consent AND hip_id = p_hip_id;
  IF NOT FOUND THEN
    code := 'ABDM-1001'; problem := 'hiRequest.consent.id: consent ' || v_consent || ' is not known to HIP ' || p_hip_id;
  ELSIF c.status <> 'GRANTED' THEN
    code := 'ABDM-1062'; problem := 'hiRequest.consent.id: consent is ' || c.status || ', not GRANTED';
  ELSIF c.data_erase_at <= now() THEN
    code := 'ABDM-1061'; problem := 'hiRequest.consent.id: consent artefact expired at ' || c.data_erase_at;
  ELSIF v_from > v_to OR v_from < c.date_from OR v_to > c.date_to THEN
    code := 'ABDM-1063'; problem := 'hiRequest.dateRange: ' || v_from || ' – ' || v_to
                                    || ' is not inside the consented ' || c.date_from || ' – ' || c.date_to;
  ELSIF (hr #>> '{keyMaterial,dhPublicKey,expiry}')::timestamptz <= now() THEN
    code := 'ABDM-9999'; problem := 'hiRequest.keyMaterial.dhPublicKey.expiry: the HIU key expired at '
                                    || (hr #>> '{keyMaterial,dhPublicKey,expiry}');
  ELSIF NOT abdm_hip.fidelius_public_key_valid(hr #>> '{keyMaterial,dhPublicKey,keyValue}') THEN
    code := 'ABDM-9999'; problem := 'hiRequest.keyMaterial.dhPublicKey.keyValue: not a Curve25519 public key';
  END IF;

  INSERT INTO abdm_hip.hi_request (hip_id, transaction_id, request_id, consent_id, date_from, date_to,
                                   data_push_url, key_material, status, error, finished_at)
  VALUES (p_hip_id, v_tx, p_request_id, v_consent, v_from, v_to, hr ->> 'dataPushUrl', hr -> 'keyMaterial',
          CASE WHEN code IS NULL THEN 'acknowledged' ELSE 'errored' END,
          CASE WHEN code IS NOT NULL THEN code || ': ' || problem END,
          CASE WHEN code IS NOT NULL THEN now() END);

  IF code IS NOT NULL THEN
    PERFORM abdm_hip.refuse_hi_request(p_hip_id, p_request_id, v_tx, v_consent, code, problem);
    RETURN;
  END IF;
  PERFORM abdm_hip.enqueue(p_hip_id, 'hi_on_request',
    abdm_hip.build_message('hi_on_request', jsonb_build_object('requestId', p_request_id, 'transactionId', v_tx)));
END
$$;

-- Per request and care context, for an operator: state, bytes, attempts, timings, error.
CREATE VIEW abdm_hip.transfer_status WITH (security_barrier) AS
SELECT r.hip_id, r.transaction_id, r.consent_id, r.status AS request_status, t.care_context_ref,
       t.status AS care_context_status, t.entries, t.bytes, r.attempts, r.received_at,
       t.started_at, t.finished_at, coalesce(r.finished_at, t.finished_at) - r.received_at AS duration,
       coalesce(t.error, r.error) AS error
FROM abdm_hip.hi_request r
LEFT JOIN abdm_hip.transfer t ON t.hip_id = r.hip_id AND t.transaction_id = r.transaction_id;
GRANT SELECT ON abdm_hip.transfer_status TO abdm_hip_app;

CREATE FUNCTION abdm_hip.fidelius_public_key_valid(key text) RETURNS boolean
LANGUAGE c STRICT IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_fidelius_public_key_valid';

-- The transfer worker's report: per consented care context DELIVERED (records pushed) or ERRORED
-- (none in range, or the push failed), and the notification to the gateway, in one transaction.
-- Every consented care context is reported, with or without records.
CREATE FUNCTION abdm_hip.transfer_finished(p_hip_id text, p_tx uuid, p_transferred boolean, p_reason text,
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
         CASE WHEN p_transferred AND p_delivered ? cc.care_context_ref THEN 'delivered' ELSE 'errored' END,
         coalesce((p_delivered -> cc.care_context_ref ->> 'entries')::int, 0),
         coalesce((p_delivered -> cc.care_context_ref ->> 'bytes')::bigint, 0),
         r.attempts,
         CASE WHEN NOT p_transferred THEN p_reason
              WHEN NOT p_delivered ? cc.care_context_ref THEN 'no records in the requested date range and consented HI types' END,
         r.received_at, now()
  FROM (SELECT DISTINCT care_context_ref FROM abdm_hip.consent_care_context
        WHERE hip_id = p_hip_id AND consent_id = r.consent_id
        UNION SELECT jsonb_object_keys(p_delivered)) cc
  ON CONFLICT (hip_id, transaction_id, care_context_ref) DO UPDATE
    SET status = excluded.status, entries = excluded.entries, bytes = excluded.bytes,
        attempts = excluded.attempts, error = excluded.error, finished_at = excluded.finished_at;

  SELECT coalesce(jsonb_agg(jsonb_build_object('careContextReference', t.care_context_ref,
           'delivered', t.status = 'delivered',
           'description', coalesce(t.error, 'Delivered')) ORDER BY t.care_context_ref), '[]')
    INTO statuses
  FROM abdm_hip.transfer t WHERE t.hip_id = p_hip_id AND t.transaction_id = p_tx;

  UPDATE abdm_hip.hi_request
     SET status = CASE WHEN p_transferred THEN 'transferred' ELSE 'failed' END,
         error = CASE WHEN p_transferred THEN NULL ELSE p_reason END,
         finished_at = now(), lease_until = NULL
   WHERE hip_id = p_hip_id AND transaction_id = p_tx;

  PERFORM abdm_hip.enqueue(p_hip_id, 'hi_notify',
    abdm_hip.build_message('hi_notify', jsonb_build_object(
      'consentId', r.consent_id, 'transactionId', p_tx, 'hipId', p_hip_id, 'transferred', p_transferred,
      'doneAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'statuses', statuses)));
END
$$;
-- Privileges, last so that they cover every part above. PUBLIC gets nothing; the three roles of
-- 00_header.sql get what their job needs and no more.
REVOKE ALL ON ALL TABLES IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA abdm_hip FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip FROM PUBLIC;

-- Value rules run inside CHECK constraints and are useful to any caller.
GRANT EXECUTE ON FUNCTION abdm_hip.hi_type_names(), abdm_hip.is_hi_type(text),
  abdm_hip.is_abha_address(text), abdm_hip.is_abha_number(text), abdm_hip.normalize_mobile(text),
  abdm_hip.is_mobile(text), abdm_hip.is_gender(text), abdm_hip.refuse(text, text, text, text)
  TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;

-- Admin: everything, including the secret.
GRANT ALL ON ALL TABLES IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA abdm_hip TO abdm_hip_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA abdm_hip TO abdm_hip_admin;

-- The HMIS: writes its patients, care contexts and records; reads what happened to them.
GRANT SELECT ON abdm_hip.facility TO abdm_hip_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON abdm_hip.patient, abdm_hip.care_context, abdm_hip.health_record
  TO abdm_hip_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA abdm_hip TO abdm_hip_app;
GRANT SELECT ON abdm_hip.care_context_link, abdm_hip.consent, abdm_hip.consent_care_context,
  abdm_hip.hi_request, abdm_hip.transfer TO abdm_hip_app;
GRANT SELECT (hip_id, abha_address, status, expires_at, requested_at, retry_after, last_error)
  ON abdm_hip.link_token TO abdm_hip_app;
GRANT SELECT (id, hip_id, kind, target, request_id, status, attempts, next_attempt_at,
              last_http_status, last_error, created_at, sent_at)
  ON abdm_hip.outbox TO abdm_hip_app;
GRANT EXECUTE ON FUNCTION abdm_hip.client_secret_configured() TO abdm_hip_app;

-- Not for the HMIS: the secret, OTP hashes, link tokens' values, inbound message bodies.
REVOKE ALL ON abdm_hip.secret FROM abdm_hip_app, abdm_hip_gateway;
REVOKE ALL ON FUNCTION abdm_hip.selftest_error_boundary(text) FROM abdm_hip_app, abdm_hip_gateway;
