-- Consent artefacts and ABHA status notices (NHA M2 v2.8 §6.3.1–§6.3.2; abdm-docs
-- "Store consent artefacts": share only while GRANTED and before dataEraseAt; on revocation or
-- expiry stop and delete; on ABHA deletion remove links and consents but keep clinical records).
--
-- A consent that ends keeps a tombstone row (id, HIP, status, time) so a later request for it gets
-- the precise answer ("consent not granted") instead of "unknown"; its artefact, patient and
-- care-context list are deleted.

CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_consent_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
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
      PERFORM abdm_hip_internal.enqueue(p_hip_id, 'consent_on_notify',
        abdm_hip_internal.build_message('consent_on_notify', jsonb_build_object(
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
    PERFORM abdm_hip_internal.end_consent(p_hip_id, v_consent, v_status);
  END IF;

  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'consent_on_notify',
    abdm_hip_internal.build_message('consent_on_notify', jsonb_build_object('requestId', p_request_id, 'consentId', v_consent)));
END
$$;

-- Ends a consent: tombstone with the status, artefact and care contexts deleted.
CREATE OR REPLACE FUNCTION abdm_hip_internal.end_consent(p_hip_id text, p_consent uuid, p_status text) RETURNS void
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
CREATE OR REPLACE FUNCTION abdm_hip.expire_consents() RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c record;
  n int := 0;
BEGIN
  FOR c IN SELECT hip_id, consent_id FROM abdm_hip.consent
           WHERE status = 'GRANTED' AND data_erase_at <= now() FOR UPDATE SKIP LOCKED LOOP
    PERFORM abdm_hip_internal.end_consent(c.hip_id, c.consent_id, 'EXPIRED');
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- ABHA deactivation / deletion (v0.5 /patients/status/notify; served at the V3 analogue path).
CREATE OR REPLACE FUNCTION abdm_hip_internal.handle_patient_status_notify(p_hip_id text, p_request_id uuid, msg jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_status text := msg #>> '{notification,status}';
  v_abha text := msg #>> '{notification,patient,id}';
  c record;
BEGIN
  IF v_status IN ('DEACTIVATED', 'DELETED') THEN
    FOR c IN SELECT consent_id FROM abdm_hip.consent WHERE hip_id = p_hip_id AND lower(abha_address) = lower(v_abha) LOOP
      PERFORM abdm_hip_internal.end_consent(p_hip_id, c.consent_id, 'REVOKED');
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
  PERFORM abdm_hip_internal.enqueue(p_hip_id, 'patient_status_on_notify',
    abdm_hip_internal.build_message('patient_status_on_notify', jsonb_build_object('requestId', p_request_id)));
END
$$;
