"""The runner of every Python test suite (simulator self-tests, end-to-end tests): runs every
TestCase of a module, so a class nobody listed still runs, and ends with the lines
test/lib/tally.py reads:

    skip: <test>: <reason>
    <passed> passed, <failed> failed, <skipped> skipped

A test counts as passed only when it ran and succeeded. A test that never ran (its setUpClass or
setUpModule failed) counts as failed, and so does a fixture error after the tests (tearDownClass);
an unexpected success is a failure. Exit status 1 on any failure, and when nothing ran.
"""
import sys
import unittest


class _CountingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.succeeded = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.succeeded += 1


def _is_fixture(test):
    # unittest reports a class or module fixture error as an _ErrorHolder named after it.
    return not isinstance(test, unittest.TestCase)


def count(suite, stream=sys.stdout):
    """Runs the suite; returns (passed, failed, skipped [(test id, reason)])."""
    expected = suite.countTestCases()
    result = unittest.TextTestRunner(verbosity=2, stream=stream, resultclass=_CountingResult).run(suite)
    skips = [(t.id(), reason) for t, reason in result.skipped]
    passed = result.succeeded
    # Tests that failed, errored, succeeded unexpectedly, or never ran because a fixture failed.
    failed = expected - passed - len(skips)
    # A fixture error that stopped no test (tearDownClass, tearDownModule) is a failure of its own.
    failed += sum(1 for t, _ in result.errors
                  if _is_fixture(t) and ('tearDown' in str(t) or 'doCleanups' in str(t)))
    return passed, failed, skips


def report(passed, failed, skips):
    for test_id, reason in skips:
        print(f"skip: {test_id}: {reason}")
    print(f"{passed} passed, {failed} failed, {len(skips)} skipped")
    sys.stdout.flush()
    return 1 if failed or passed + failed + len(skips) == 0 else 0


def run_module(module_name="__main__"):
    """Every TestCase in the module, then the summary; exits with the status."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])
    sys.exit(report(*count(suite)))
