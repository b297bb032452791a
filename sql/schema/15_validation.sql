-- Friendly refusals for the tables the HMIS writes. The CHECK constraints of 10_tables.sql are
-- the guarantee; these BEFORE triggers run first and say which column is wrong and why, without
-- echoing the whole row (a CHECK's "Failing row contains" detail would print patient data into
-- the server log).

CREATE OR REPLACE FUNCTION abdm_hip_internal.refuse(table_name text, column_name text, problem text, hint text DEFAULT NULL)
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
GRANT EXECUTE ON FUNCTION abdm_hip_internal.refuse(text, text, text, text) TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;

CREATE OR REPLACE FUNCTION abdm_hip_internal.patient_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NEW.name IS NULL OR btrim(NEW.name) = '' THEN
    PERFORM abdm_hip_internal.refuse('patient', 'name', 'is required');
  END IF;
  IF NEW.gender IS NULL OR NOT abdm_hip.is_gender(NEW.gender) THEN
    PERFORM abdm_hip_internal.refuse('patient', 'gender', 'must be M, F, O or U',
                            'ABDM gender codes: M male, F female, O other, U undisclosed');
  END IF;
  IF NEW.mobile IS NOT NULL AND NOT abdm_hip.is_mobile(NEW.mobile) THEN
    PERFORM abdm_hip_internal.refuse('patient', 'mobile', 'is not an Indian mobile number',
                            '10 digits starting with 6-9, optionally prefixed by +91');
  END IF;
  IF NEW.abha_number IS NOT NULL AND NOT abdm_hip.is_abha_number(NEW.abha_number) THEN
    PERFORM abdm_hip_internal.refuse('patient', 'abha_number', 'is not a 14-digit ABHA number',
                            'e.g. 91178386101731 or 91-1783-8610-1731');
  END IF;
  IF NEW.abha_address IS NOT NULL AND NOT abdm_hip.is_abha_address(NEW.abha_address) THEN
    PERFORM abdm_hip_internal.refuse('patient', 'abha_address', 'is not an ABHA address',
                            'name@sbx (sandbox) or name@abdm (production)');
  END IF;
  -- Matching uses the year of birth; derive it when only the date is known.
  IF NEW.year_of_birth IS NULL AND NEW.birth_date IS NOT NULL THEN
    NEW.year_of_birth := extract(year FROM NEW.birth_date)::int;
  ELSIF NEW.birth_date IS NOT NULL AND extract(year FROM NEW.birth_date)::int <> NEW.year_of_birth THEN
    PERFORM abdm_hip_internal.refuse('patient', 'year_of_birth', 'does not match birth_date');
  END IF;
  IF NEW.year_of_birth IS NOT NULL
     AND NEW.year_of_birth NOT BETWEEN 1880 AND extract(year FROM now())::int + 1 THEN
    PERFORM abdm_hip_internal.refuse('patient', 'year_of_birth', 'is out of range');
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER patient_validate BEFORE INSERT OR UPDATE ON abdm_hip.patient
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.patient_validate();

CREATE OR REPLACE FUNCTION abdm_hip_internal.care_context_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  bad text;
BEGIN
  IF NEW.reference IS NULL OR btrim(NEW.reference) = '' THEN
    PERFORM abdm_hip_internal.refuse('care_context', 'reference', 'is required');
  END IF;
  IF NEW.display IS NULL OR length(btrim(NEW.display)) NOT BETWEEN 1 AND 100 THEN
    PERFORM abdm_hip_internal.refuse('care_context', 'display', 'must be 1-100 characters',
                            'a label such as "OPD visit 20 May 2024", never clinical detail');
  END IF;
  IF NEW.hi_types IS NULL OR cardinality(NEW.hi_types) = 0 THEN
    PERFORM abdm_hip_internal.refuse('care_context', 'hi_types', 'needs at least one HI type');
  END IF;
  SELECT string_agg(coalesce(quote_literal(t), 'NULL'), ', ') INTO bad
  FROM unnest(NEW.hi_types) AS t WHERE t IS NULL OR NOT abdm_hip.is_hi_type(t);
  IF bad IS NOT NULL THEN
    PERFORM abdm_hip_internal.refuse('care_context', 'hi_types', 'unknown HI type ' || bad,
                            'one of ' || array_to_string(abdm_hip.hi_type_names(), ', '));
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

-- Not on the sender's own updates (link_pending): updated_at stays the HMIS's.
CREATE OR REPLACE TRIGGER care_context_validate
  BEFORE INSERT OR UPDATE OF hip_id, patient_ref, reference, display, hi_types, visit_at ON abdm_hip.care_context
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.care_context_validate();

CREATE OR REPLACE FUNCTION abdm_hip_internal.health_record_validate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NEW.hi_type IS NULL OR NOT abdm_hip.is_hi_type(NEW.hi_type) THEN
    PERFORM abdm_hip_internal.refuse('health_record', 'hi_type', 'unknown HI type ' || coalesce(quote_literal(NEW.hi_type), 'NULL'),
                            'one of ' || array_to_string(abdm_hip.hi_type_names(), ', '));
  END IF;
  IF NEW.bundle IS NULL OR NEW.bundle->>'resourceType' IS DISTINCT FROM 'Bundle'
     OR NEW.bundle->>'type' IS DISTINCT FROM 'document' THEN
    PERFORM abdm_hip_internal.refuse('health_record', 'bundle', 'must be a FHIR Bundle of type document',
                            'abdm_hip.fhir_document() builds one from the HMIS record');
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER health_record_validate BEFORE INSERT OR UPDATE ON abdm_hip.health_record
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.health_record_validate();
