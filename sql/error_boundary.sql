-- A C++ exception thrown in the core becomes an ordinary SQL error; the session survives, the
-- next query works, and no C++ object is leaked by a skipped destructor.
\set VERBOSITY default
SELECT abdm_hip.selftest_error_boundary('ok') AS live_while_running;
SELECT abdm_hip.selftest_error_boundary('abdm_error');
SELECT abdm_hip.selftest_error_boundary('std_exception');
SELECT abdm_hip.selftest_error_boundary('bad_alloc');
SELECT abdm_hip.selftest_error_boundary('unknown_exception');
-- A PostgreSQL error raised under C++ frames keeps its own SQLSTATE (22012 division_by_zero), and
-- so does an error inside SPI (what the workers' queries may meet: 42883 undefined_function).
DO $$ BEGIN PERFORM abdm_hip.selftest_error_boundary('pg_error');
EXCEPTION WHEN others THEN RAISE NOTICE 'caught % %', SQLSTATE, SQLERRM; END $$;
DO $$ BEGIN PERFORM abdm_hip.selftest_error_boundary('spi_error');
EXCEPTION WHEN others THEN RAISE NOTICE 'caught % %', SQLSTATE, SQLERRM; END $$;
SELECT abdm_hip.selftest_error_boundary('spi_error');
\set VERBOSITY default
SELECT abdm_hip.selftest_error_boundary('no-such-kind');
-- Every object the failed calls created was destroyed.
SELECT abdm_hip.selftest_error_boundary('live_objects') AS live_after_errors;
-- Inside a transaction: the error aborts it like any SQL error, and rollback recovers.
BEGIN;
SELECT abdm_hip.selftest_error_boundary('abdm_error');
SELECT 1;
ROLLBACK;
SELECT 'session still works' AS status;
