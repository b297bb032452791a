-- Diagnostic: proves the C++ ⇄ PostgreSQL error boundary of this build (src/pg/selftest_sql.cpp).
CREATE OR REPLACE FUNCTION abdm_hip.selftest_error_boundary(kind text) RETURNS int
LANGUAGE c STRICT VOLATILE AS 'MODULE_PATHNAME', 'abdm_selftest_error_boundary';
COMMENT ON FUNCTION abdm_hip.selftest_error_boundary(text) IS
  'Diagnostic: raises each kind of C++ failure through the error boundary; live_objects must stay 0.';
