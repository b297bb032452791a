-- FHIR document bundles (NRCES "FHIR Implementation Guide for ABDM" 6.x) from plain HMIS records,
-- and the document checks every stored bundle must pass. Implemented in src/core/fhir, exposed by
-- src/pg/fhir_sql.cpp; the record shape is docs/fhir-record.md.

CREATE OR REPLACE FUNCTION abdm_hip.fhir_document(hi_type text, record jsonb) RETURNS jsonb
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fhir_document';
COMMENT ON FUNCTION abdm_hip.fhir_document(text, jsonb) IS
  'The ABDM FHIR document Bundle (NRCES profiles) of hi_type built from a plain HMIS record '
  '(docs/fhir-record.md). Deterministic: ids derive from the record, timestamps from document.date. '
  'A missing, unknown or malformed field is an error naming it, e.g. "record.patient.name: required".';

CREATE OR REPLACE FUNCTION abdm_hip.fhir_check(bundle jsonb)
RETURNS TABLE (severity text, path text, message text)
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE ROWS 4
AS 'MODULE_PATHNAME', 'abdm_fhir_check';
COMMENT ON FUNCTION abdm_hip.fhir_check(jsonb) IS
  'Document rules a bundle must meet before it is stored or sent: Bundle type/identifier/timestamp/meta, '
  'unique fullUrls, the Composition first with one of the eight ABDM record profiles, its type and '
  'section codes, section entry types, references that resolve, Patient identifiers. No rows = conformant; '
  'severity "error" rows make abdm_hip.health_record refuse the bundle, "warning" rows do not.';

CREATE OR REPLACE FUNCTION abdm_hip_internal.fhir_hi_type(bundle jsonb) RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'abdm_fhir_hi_type';
COMMENT ON FUNCTION abdm_hip_internal.fhir_hi_type(jsonb) IS
  'The ABDM HI type whose record profile the bundle''s Composition names (OPConsultRecord → '
  'OPConsultation, ...), or NULL.';

-- health_record refuses a bundle that fails the document checks or is filed under another HI type.
-- Named to fire after health_record_validate (triggers fire in name order), which has already
-- refused anything that is not a document Bundle.
CREATE OR REPLACE FUNCTION abdm_hip_internal.health_record_validate_fhir() RETURNS trigger
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
    PERFORM abdm_hip_internal.refuse('health_record', 'bundle',
                            format('fails %s FHIR document check(s): %s%s', n_errors, first_errors,
                                   CASE WHEN n_errors > 3 THEN '; ...' ELSE '' END),
                            'SELECT * FROM abdm_hip.fhir_check(bundle) lists every problem; '
                            'abdm_hip.fhir_document() builds a conforming bundle');
  END IF;
  bundle_type := abdm_hip_internal.fhir_hi_type(NEW.bundle);
  IF bundle_type IS DISTINCT FROM NEW.hi_type THEN
    PERFORM abdm_hip_internal.refuse('health_record', 'hi_type',
                            format('is %s but the bundle''s Composition is a record of HI type %s', NEW.hi_type, coalesce(bundle_type, 'none')));
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER health_record_validate_fhir BEFORE INSERT OR UPDATE ON abdm_hip.health_record
  FOR EACH ROW EXECUTE FUNCTION abdm_hip_internal.health_record_validate_fhir();

-- The HMIS builds and checks documents; the trigger runs these as the inserting role.
GRANT EXECUTE ON FUNCTION abdm_hip.fhir_document(text, jsonb), abdm_hip.fhir_check(jsonb),
  abdm_hip_internal.fhir_hi_type(jsonb) TO abdm_hip_app;
