#!/usr/bin/python3
"""Reads what one test runner left behind and prints its count the one way test/run-all adds up:

    skip: <test>: <reason>          one line per skipped test
    note: failed: <what>            one line per failed check the runner named, with its first
                                    detail, so the end of the output says what failed
    note: <text>                    why a count is not what the runner claimed
    <passed> <failed> <skipped>     the last line

A runner whose exit status says failure, that ran nothing, or that left tests of its list unrun
never counts as green: what did not run is failed, not passed.

    tally.py ctest JUNIT_XML EXIT_STATUS
    tally.py regress LOG EXIT_STATUS TEST...      (the schedule: every name must have a result)
    tally.py summary LOG EXIT_STATUS              (a script ending with "N passed, N failed[, N skipped]")
"""
import re
import sys
import xml.etree.ElementTree as ET

SUMMARY = re.compile(r'^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$')


def ctest(junit_path, status):
    """CTest's JUnit report (ctest --output-junit): one <testcase> per test, status="run",
    "fail" or "notrun" (a skip: SKIP_RETURN_CODE or SKIP_REGULAR_EXPRESSION), "disabled"."""
    notes, skips = [], []
    passed = failed = 0
    try:
        cases = ET.parse(junit_path).getroot().iter('testcase')
    except (OSError, ET.ParseError) as e:
        return 0, 1, [], [f'no CTest report ({e})']
    for case in cases:
        name, st = case.get('name'), case.get('status')
        if st == 'run':
            passed += 1
        elif st in ('notrun', 'disabled'):
            out = case.findtext('system-out') or ''
            # GoogleTest prints "<file>:<line>: Skipped" then the GTEST_SKIP() message.
            m = re.search(r'Skipped\s*\n(.+)', out)
            skips.append((name, m.group(1).strip() if m else st))
        else:
            failed += 1
            notes.append(f'failed: {name}')
    return finish(passed, failed, skips, notes[:MAX_FAILS], status)


def regress(log_path, status, schedule):
    """pg_regress (PostgreSQL 15): "test NAME ... ok|FAILED" per test, in schedule order. It stops
    at the first test it cannot run (no expected file, no server), so the rest have no line."""
    notes = []
    try:
        text = open(log_path, encoding='utf-8', errors='replace').read()
    except OSError as e:
        text = ''
        notes.append(f'no pg_regress log ({e})')
    results = {}
    for m in re.finditer(r'^(?:test\s+|\s+)(\S+)\s+\.\.\.\s+(.*)$', text, re.M):
        results.setdefault(m.group(1), m.group(2).strip())
    passed = failed = 0
    for name in schedule:
        res = results.get(name)
        if res is None:
            failed += 1
            notes.append(f'{name}: did not run')
        elif re.match(r'ok\b', res):
            passed += 1
        else:
            failed += 1
            notes.append(f'{name}: {res}')
    return finish(passed, failed, [], notes, status)


def summary(log_path, status):
    """A script of ours (Python suites, FHIR validation): its last summary line and skip lines."""
    notes, skips = [], []
    try:
        lines = open(log_path, encoding='utf-8', errors='replace').read().splitlines()
    except OSError as e:
        return 0, 1, [], [f'no log ({e})']
    found = None
    fails = failures(lines)
    for line in lines:
        m = SUMMARY.match(line.strip())
        if m:
            found = m
        s = re.match(r'^skip: (.+?): (.*)$', line)
        if s:
            skips.append((s.group(1), s.group(2)))
    if not found:
        return 0, 1, skips, fails + ['no "N passed, N failed" line: the runner did not finish']
    p, f, s = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
    if s != len(skips):
        notes.append(f'{s} skipped but {len(skips)} skip lines')
        f += 1
    return finish(p, f, skips, fails + notes, status)


# A failed check as our scripts print it (test/lib/check.sh: "FAIL what" and indented detail;
# the certification suite: "FAIL CASE: reason") or as unittest does ("FAIL: test (...)" or
# "ERROR: test (...)", then a traceback whose last line is the exception).
CHECK_FAIL = re.compile(r'^\s*FAIL (.+)$')
UNITTEST_FAIL = re.compile(r'^(?:FAIL|ERROR): (\S+)')
EXCEPTION = re.compile(r'^\s*(\w+(?:Error|Exception|Exit)\b.*)$')
MAX_FAILS, MAX_LEN = 6, 1800  # room for a fuzz input of 1 KB in base64


def failures(lines):
    """The failed checks a log names, each with its first detail line, as notes."""
    out = []
    for i, line in enumerate(lines):
        m = CHECK_FAIL.match(line)
        if m:
            details = []
            for d in lines[i + 1:i + 3]:
                if not d.startswith('       ') or not d.strip():
                    break
                details.append(d.strip())
            detail = ' | '.join(details)
            out.append(m.group(1) + (f' — {detail}' if detail else ''))
            continue
        m = UNITTEST_FAIL.match(line)
        if m:
            rest = lines[i + 2:]  # past the "-----" under the header
            end = next((j for j, d in enumerate(rest) if d.startswith('-----') or d.startswith('=====')), len(rest))
            cause = next((e.group(1) for e in map(EXCEPTION.match, reversed(rest[:end])) if e), '')
            out.append(m.group(1) + (f' — {cause}' if cause else ''))
    return [('failed: ' + f)[:MAX_LEN] for f in out[:MAX_FAILS]]


def finish(passed, failed, skips, notes, status):
    if passed + failed + len(skips) == 0:
        failed += 1
        notes.append('ran no test')
    if status != 0 and failed == 0:
        failed += 1
        notes.append(f'exit status {status} with no failed test')
    if status == 0 and failed:
        notes.append('exit status 0 with failed tests')
    return passed, failed, skips, notes


def main(argv):
    kind, path, status = argv[0], argv[1], int(argv[2])
    if kind == 'ctest':
        p, f, skips, notes = ctest(path, status)
    elif kind == 'regress':
        p, f, skips, notes = regress(path, status, argv[3:])
    elif kind == 'summary':
        p, f, skips, notes = summary(path, status)
    else:
        sys.exit(f'tally.py: unknown runner {kind}')
    for name, reason in skips:
        print(f'skip: {name}: {reason}')
    for n in notes:
        print(f'note: {n}')
    print(p, f, len(skips))


if __name__ == '__main__':
    main(sys.argv[1:])
