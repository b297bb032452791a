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

-- The discover request receive() is handling (parsed once, by receive(); pg/received_message)
-- against candidate patients; callable only from receive()'s handler (SQLSTATE 55000 otherwise):
-- {"outcome": "matched"|"no_match"|"ambiguous", "patientRef", "matchedBy", "nameScore", "ranked"}.
-- Candidates: [{"patientRef","name","gender","yearOfBirth","mobile","abhaNumber","abhaAddress","mr"}].
CREATE OR REPLACE FUNCTION abdm_hip_internal.match_patients(hip_id text, request_id uuid, candidates jsonb,
  yob_tolerance int, name_threshold real)
RETURNS jsonb LANGUAGE c VOLATILE STRICT AS 'MODULE_PATHNAME', 'abdm_match_patients';

-- Six decimal digits from OpenSSL's CSPRNG.
CREATE OR REPLACE FUNCTION abdm_hip_internal.otp_generate() RETURNS text
LANGUAGE c VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_otp_generate';
-- "v1$salt$PBKDF2-SHA256": the only form in which an OTP is stored (a new salt each call).
CREATE OR REPLACE FUNCTION abdm_hip_internal.otp_hash(otp text) RETURNS text
LANGUAGE c VOLATILE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_otp_hash';
-- Constant-time comparison of an OTP with its stored hash; false for a malformed hash.
CREATE OR REPLACE FUNCTION abdm_hip_internal.otp_verify(otp text, stored text) RETURNS boolean
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_otp_verify';
-- The on-init communicationHint: "98******32".
CREATE OR REPLACE FUNCTION abdm_hip_internal.mask_mobile(mobile text) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_mask_mobile';
-- The verdict on a link confirmation: {"outcome": linked|unknown_reference|too_many_attempts|
-- expired|wrong_otp, "code", "message", "attemptsAfter"}. otp_hash NULL = no such link request.
-- Not STRICT for that reason; `at` is the moment of the check (now() in the handler).
CREATE OR REPLACE FUNCTION abdm_hip_internal.check_link_confirm(otp text, otp_hash text, expires_at timestamptz, attempts int,
                                            max_attempts int, at timestamptz)
RETURNS jsonb LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'abdm_check_link_confirm';

-- ---- helpers ---------------------------------------------------------------------------------

-- The candidate patients of a discover message: every patient of the HIP that shares its ABHA
-- address, ABHA number, mobile or MR number (= patient_ref). Each look-up uses exactly the
-- expression of its index in 10_tables.sql (or the primary key), so discovery stays a handful of
-- index probes at a million patients. A mobile is often shared (a family, or an HMIS placeholder
-- number), so each look-up is capped; the core ranks what comes back.
CREATE OR REPLACE FUNCTION abdm_hip_internal.discovery_candidates(p_hip_id text, msg jsonb) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION abdm_hip_internal.out_patient(p_hip_id text, p_patient_ref text, p_refs text[]) RETURNS jsonb
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
CREATE OR REPLACE FUNCTION abdm_hip_internal.discovery_answer(d abdm_hip.discovery, p_request_id uuid) RETURNS jsonb
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
    RETURN abdm_hip_internal.build_message('on_discover', jsonb_build_object(
      'transactionId', d.transaction_id, 'requestId', p_request_id,
      'error', jsonb_build_object('code', 'ABDM-1010', 'message', problem)));
  END IF;
  RETURN abdm_hip_internal.build_message('on_discover', jsonb_build_object(
    'transactionId', d.transaction_id, 'requestId', p_request_id,
    'patient', abdm_hip_internal.out_patient(d.hip_id, d.patient_ref, d.care_context_refs),
    'matchedBy', to_jsonb(d.matched_by)));
END
$$;

-- ---- discover ------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_discover(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
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
    PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_discover', abdm_hip_internal.discovery_answer(d, p_request_id));
    RETURN;
  END IF;

  m := abdm_hip_internal.match_patients(p_hip_id, p_request_id, abdm_hip_internal.discovery_candidates(p_hip_id, msg),
         current_setting('abdm_hip.discovery_yob_tolerance')::int,
         current_setting('abdm_hip.discovery_name_threshold')::real);
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
                                  care_context_refs, matched_by, abha_number)
  VALUES (p_hip_id, v_tx, p_request_id, v_addr, v_patient, v_refs, v_matched, msg #>> '{match,abhaNumber}')
  RETURNING * INTO d;
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_discover', abdm_hip_internal.discovery_answer(d, p_request_id));
END
$$;

-- ---- link init -----------------------------------------------------------------------------

-- A care context is linked to one ABHA address: discovery offers only unlinked ones, and init and
-- confirm check again, because a discovery made before another address's link committed (or
-- minutes before it, while the patient typed an OTP) may have offered it
-- (test/isolation/specs/discovery_confirm_other_address.spec). The first of refs that is linked
-- to an address other than abha_address, or NULL.
CREATE OR REPLACE FUNCTION abdm_hip_internal.linked_elsewhere(p_hip_id text, refs text[], abha_address text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT l.care_context_ref FROM abdm_hip.care_context_link l
  WHERE l.hip_id = p_hip_id AND l.care_context_ref = ANY (refs) AND l.status = 'linked'
    AND lower(l.abha_address) <> lower(linked_elsewhere.abha_address)
  ORDER BY array_position(refs, l.care_context_ref) LIMIT 1
$$;

-- Delivers an OTP: (a) an 'otp_sms' outbox row to abdm_hip.otp_sms_url when set (the sender posts
-- {mobile, otp, message, hipId, linkRefNumber} there without gateway credentials; the OTP and
-- message are removed from the row once it is sent or has failed, see otp_sms_forget below);
-- (b) NOTIFY abdm_hip_otp with {hip_id, link_ref, patient_ref, mobile, otp, expires_at} for a
-- sender inside the HMIS — when no SMS hook is set, or abdm_hip.otp_notify is on. PostgreSQL has
-- no privilege on LISTEN: every role that may connect to this database can listen, so with the
-- NOTIFY path CONNECT on it must be limited to trusted roles (README "OTP delivery").
-- Neither path writes the OTP to the server log.
CREATE OR REPLACE FUNCTION abdm_hip_internal.deliver_otp(p_hip_id text, p_link_ref uuid, p_patient_ref text, p_mobile text,
                                     p_otp text, p_expires_at timestamptz) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  url text := nullif(btrim(current_setting('abdm_hip.otp_sms_url')), '');
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
      'mobile', abdm_hip.normalize_mobile(p_mobile), 'otp', abdm_hip_internal.seal_secret('otp', p_otp),
      'hipId', p_hip_id, 'linkRefNumber', p_link_ref,
      -- Sealed like the OTP it holds; the sender opens both as it calls the hook.
      'message', abdm_hip_internal.seal_secret('otp', p_otp || ' is your OTP to link your health records at '
                 || v_facility || ' with your ABHA address. It is valid for ' || minutes
                 || ' minutes. Do not share it with anyone.')));
  END IF;
  IF url IS NOT NULL AND NOT current_setting('abdm_hip.otp_notify')::boolean THEN
    RETURN;
  END IF;
  PERFORM pg_notify('abdm_hip_otp', json_build_object(
    'hip_id', p_hip_id, 'link_ref', p_link_ref, 'patient_ref', p_patient_ref,
    'mobile', abdm_hip.normalize_mobile(p_mobile), 'otp', p_otp,
    'expires_at', to_char(p_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text);
END
$$;

-- Once the SMS hook has been called (or given up on), the OTP is not kept in clear.
CREATE OR REPLACE FUNCTION abdm_hip_internal.otp_sms_forget() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.body := NEW.body - 'otp' - 'message';
  RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER outbox_otp_sms_forget BEFORE UPDATE ON abdm_hip.outbox
  FOR EACH ROW WHEN (NEW.kind = 'otp_sms' AND NEW.status IN ('sent', 'failed'))
  EXECUTE FUNCTION abdm_hip_internal.otp_sms_forget();

-- The OTP the patient typed is not kept in the inbox either (a wrong guess is often one digit off).
CREATE OR REPLACE TRIGGER inbox_mask_otp BEFORE INSERT ON abdm_hip.inbox
  FOR EACH ROW WHEN (NEW.kind = 'link_confirm' AND NEW.body IS NOT NULL)
  EXECUTE FUNCTION abdm_hip_internal.inbox_mask('confirmation', 'token');

CREATE OR REPLACE FUNCTION abdm_hip_internal.on_init_answer(lr abdm_hip.link_request, p_request_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT abdm_hip_internal.build_message('on_init', jsonb_build_object(
    'transactionId', lr.transaction_id, 'requestId', p_request_id, 'linkRefNumber', lr.link_ref,
    'authenticationType', current_setting('abdm_hip.link_auth_type'),
    'communicationHint', abdm_hip_internal.mask_mobile(p.mobile),
    'communicationExpiry', to_char(lr.otp_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
  FROM abdm_hip.patient p WHERE p.hip_id = lr.hip_id AND p.patient_ref = lr.patient_ref;
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_link_init(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
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
      ELSIF abdm_hip_internal.linked_elsewhere(p_hip_id, v_refs, v_addr) IS NOT NULL THEN
        code := 'ABDM-1056';
        problem := 'careContexts: ' || abdm_hip_internal.linked_elsewhere(p_hip_id, v_refs, v_addr) || ' is already linked to another ABHA address';
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
    PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_init', abdm_hip_internal.build_message('on_init', jsonb_build_object(
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
    PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_init', abdm_hip_internal.on_init_answer(lr, p_request_id));
    RETURN;
  END IF;

  -- A new request replaces any other pending one of the transaction.
  UPDATE abdm_hip.link_request SET status = 'expired'
   WHERE hip_id = p_hip_id AND transaction_id = v_tx AND status = 'pending';
  v_otp := abdm_hip_internal.otp_generate();
  INSERT INTO abdm_hip.link_request (hip_id, link_ref, transaction_id, request_id, abha_address, patient_ref,
                                     care_context_refs, otp_hash, otp_expires_at, max_attempts)
  VALUES (p_hip_id, gen_random_uuid(), v_tx, p_request_id, v_addr, d.patient_ref, v_refs,
          abdm_hip_internal.otp_hash(v_otp),
          -- Whole milliseconds: the on-init communicationExpiry is exactly this instant.
          date_trunc('milliseconds', now() + current_setting('abdm_hip.otp_expiry')::interval),
          current_setting('abdm_hip.otp_max_attempts')::int)
  RETURNING * INTO lr;
  PERFORM abdm_hip_internal.deliver_otp(p_hip_id, lr.link_ref, lr.patient_ref, v_mobile, v_otp, lr.otp_expires_at);
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_init', abdm_hip_internal.on_init_answer(lr, p_request_id));
END
$$;

-- ---- link confirm --------------------------------------------------------------------------


-- A patient the HMIS knew without ABHA (say, one who followed the SMS deep link) has just proved
-- an ABHA address by linking: the HMIS gets that address and the ABHA number the HIE-CM verified
-- at discovery, so it shows them and the next visit links by itself. Only what the HMIS left
-- empty is filled, never a value it wrote; the number only for the address it belongs to.
CREATE OR REPLACE FUNCTION abdm_hip_internal.adopt_abha_identity(lr abdm_hip.link_request) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_number text;
BEGIN
  SELECT d.abha_number INTO v_number FROM abdm_hip.discovery d
   WHERE d.hip_id = lr.hip_id AND d.transaction_id = lr.transaction_id;
  IF NOT coalesce(abdm_hip.is_abha_number(v_number), false) THEN v_number := NULL; END IF;
  IF NOT coalesce(abdm_hip.is_abha_address(lr.abha_address), false) THEN RETURN; END IF;
  UPDATE abdm_hip.patient p
     SET abha_address = coalesce(p.abha_address, lr.abha_address),
         abha_number = CASE WHEN p.abha_number IS NULL AND lower(coalesce(p.abha_address, lr.abha_address)) = lower(lr.abha_address)
                            THEN v_number ELSE p.abha_number END,
         updated_at = now()
   WHERE p.hip_id = lr.hip_id AND p.patient_ref = lr.patient_ref
     AND (p.abha_address IS NULL OR (p.abha_number IS NULL AND v_number IS NOT NULL
                                     AND lower(p.abha_address) = lower(lr.abha_address)));
END
$$;

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_link_confirm(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_ref text := msg #>> '{confirmation,linkRefNumber}';
  v_otp text := msg #>> '{confirmation,token}';
  lr abdm_hip.link_request;
  verdict jsonb;
  v_taken text;
BEGIN
  IF v_ref ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    SELECT * INTO lr FROM abdm_hip.link_request
     WHERE hip_id = p_hip_id AND link_ref = v_ref::uuid FOR UPDATE;
  END IF;

  IF lr.status = 'linked' THEN
    -- A confirm repeated after success (its on-confirm may have been lost): the same answer,
    -- for the holder of the same OTP only.
    IF abdm_hip_internal.otp_verify(v_otp, lr.otp_hash) THEN
      PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_confirm', abdm_hip_internal.build_message('on_confirm', jsonb_build_object(
        'requestId', p_request_id, 'patient', abdm_hip_internal.out_patient(p_hip_id, lr.patient_ref, lr.care_context_refs))));
      RETURN;
    END IF;
    lr := NULL;  -- used up: answered like an unknown reference
  END IF;

  -- A request ended by other means (ABHA deactivated) counts as expired.
  verdict := abdm_hip_internal.check_link_confirm(v_otp, lr.otp_hash,
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
    PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_confirm', abdm_hip_internal.build_message('on_confirm', jsonb_build_object(
      'requestId', p_request_id,
      'error', jsonb_build_object('code', verdict ->> 'code', 'message', verdict ->> 'message'))));
    RETURN;
  END IF;

  -- The OTP is right; the care contexts must still be free. The row locks serialise confirms of
  -- the same care context for different addresses, and the check after them (a new statement,
  -- so a new snapshot) sees a link the other committed meanwhile.
  PERFORM 1 FROM abdm_hip.care_context c
   WHERE c.hip_id = p_hip_id AND c.patient_ref = lr.patient_ref AND c.reference = ANY (lr.care_context_refs)
   ORDER BY c.reference FOR UPDATE;
  v_taken := abdm_hip_internal.linked_elsewhere(p_hip_id, lr.care_context_refs, lr.abha_address);
  IF v_taken IS NOT NULL THEN
    UPDATE abdm_hip.link_request SET status = 'expired' WHERE hip_id = lr.hip_id AND link_ref = lr.link_ref;
    PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_confirm', abdm_hip_internal.build_message('on_confirm', jsonb_build_object(
      'requestId', p_request_id, 'error', jsonb_build_object('code', 'ABDM-1056',
        'message', 'careContexts: ' || v_taken || ' is already linked to another ABHA address'))));
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
  PERFORM abdm_hip_internal.adopt_abha_identity(lr);
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'on_confirm', abdm_hip_internal.build_message('on_confirm', jsonb_build_object(
    'requestId', p_request_id, 'patient', abdm_hip_internal.out_patient(p_hip_id, lr.patient_ref, lr.care_context_refs))));
END
$$;
