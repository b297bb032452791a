-- One-time: domains over the value rules of 05_value_rules.sql.
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
