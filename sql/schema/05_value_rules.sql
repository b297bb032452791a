-- Value rules shared by tables, domains and functions. Each rule is one IMMUTABLE function, so
-- the CHECK constraints, the domains and the friendly validation triggers (15_validation.sql)
-- cannot drift apart.

-- The eight health-information types of ABDM (NHA "Sandbox Documentation (ABDM_Milestone 2)"
-- v2.8, HI types; Invoice is V3-only). CamelCase is the wire spelling.
CREATE OR REPLACE FUNCTION abdm_hip.hi_type_names() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY['OPConsultation', 'Prescription', 'DischargeSummary', 'DiagnosticReport',
             'ImmunizationRecord', 'HealthDocumentRecord', 'WellnessRecord', 'Invoice'];

CREATE OR REPLACE FUNCTION abdm_hip.is_hi_type(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value = ANY (abdm_hip.hi_type_names());

-- ABHA address: <handle>@sbx (sandbox) or <handle>@abdm (production). Handles are 4-32 letters,
-- digits, '.' or '_', starting and ending with a letter or digit.
CREATE OR REPLACE FUNCTION abdm_hip.is_abha_address(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value ~ '^[A-Za-z0-9]([A-Za-z0-9._]{2,30})[A-Za-z0-9]@(sbx|abdm)$';

-- ABHA number: 14 digits, stored bare or in the printed form 12-3456-7890-1234.
CREATE OR REPLACE FUNCTION abdm_hip.is_abha_number(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value ~ '^([0-9]{14}|[0-9]{2}-[0-9]{4}-[0-9]{4}-[0-9]{4})$';

-- Indian mobile number: 10 digits starting 6-9, optionally +91/91/0 prefixed; spaces and
-- dashes allowed between digits (normalised by abdm_hip.normalize_mobile()).
CREATE OR REPLACE FUNCTION abdm_hip.normalize_mobile(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE
  WHEN regexp_replace(value, '[\s-]', '', 'g') ~ '^(\+?91|0)?[6-9][0-9]{9}$'
  THEN right(regexp_replace(value, '[\s-]', '', 'g'), 10)
END;

CREATE OR REPLACE FUNCTION abdm_hip.is_mobile(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN abdm_hip.normalize_mobile(value) IS NOT NULL;

CREATE OR REPLACE FUNCTION abdm_hip.is_gender(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN value IN ('M', 'F', 'O', 'U');

-- Value rules run inside CHECK constraints and are useful to any caller.
GRANT EXECUTE ON FUNCTION abdm_hip.hi_type_names(), abdm_hip.is_hi_type(text),
  abdm_hip.is_abha_address(text), abdm_hip.is_abha_number(text), abdm_hip.normalize_mobile(text),
  abdm_hip.is_mobile(text), abdm_hip.is_gender(text)
  TO abdm_hip_admin, abdm_hip_app, abdm_hip_gateway;
