#!/usr/bin/python3
"""The README's reference is the whole interface: every function, view, table, domain and setting
the extension installs in schema `abdm_hip` is named there, and every setting sits in the
"Settings" table with the context PostgreSQL gives it (restart or reload). A release that adds a
function, a view or a setting without documenting it fails here; so does a README row for a
setting that no longer exists.

Reads the catalog of a fresh `CREATE EXTENSION abdm_hip` in a database of its own on the running
cluster (PGHOST/PGPORT, test/lib/cluster.sh), removed at the end. Ends with "N passed, N failed".
"""
import os
import re
import sys

import psycopg2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DB = "abdm_reference_check"

passed = failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}" + (f"\n    {detail}" if detail else ""))


def readme_reference():
    """The README from "Using it from the HMIS" to "Benchmarks": the SQL reference, the schema,
    roles, settings and the parts' own sections. Returns (every backtick span, the settings rows)."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    start, end = text.index("\n## Using it from the HMIS"), text.index("\n## Benchmarks")
    part = text[start:end]
    # A code span, or an indented SQL/shell block line: both are how the README writes names.
    spans = re.findall(r"`([^`\n]+)`", part)
    spans += [line for line in part.splitlines() if line.startswith("    ") or line.startswith("SELECT")]
    settings = {}
    table = part[part.index("\n### Settings"):]
    for m in re.finditer(r"^\| `abdm_hip\.([a-z_0-9]+)` \| [^|]* \| (restart|reload) \|", table, re.M):
        settings[m.group(1)] = m.group(2)
    return spans, settings


def named(spans, name):
    word = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])")
    return any(word.search(s) for s in spans)


def main():
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
    try:
        conn = psycopg2.connect(dbname=DB)
        with conn.cursor() as c:
            c.execute("CREATE EXTENSION abdm_hip")
            c.execute("""SELECT DISTINCT proname FROM pg_proc
                          WHERE pronamespace = 'abdm_hip'::regnamespace ORDER BY 1""")
            functions = [r[0] for r in c.fetchall()]
            c.execute("""SELECT relname, relkind FROM pg_class
                          WHERE relnamespace = 'abdm_hip'::regnamespace AND relkind IN ('r', 'p', 'v')
                          ORDER BY 1""")
            relations = c.fetchall()
            c.execute("""SELECT typname FROM pg_type WHERE typnamespace = 'abdm_hip'::regnamespace
                          AND typtype IN ('d', 'e') ORDER BY 1""")
            domains = [r[0] for r in c.fetchall()]
            c.execute("""SELECT substr(name, 10), context FROM pg_settings
                          WHERE name LIKE 'abdm\\_hip.%' ORDER BY 1""")
            gucs = c.fetchall()
        conn.close()
    finally:
        with admin.cursor() as c:
            c.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.close()

    spans, settings = readme_reference()
    check(len(functions) >= 20 and len(relations) >= 20 and len(gucs) >= 40,
          f"the catalog lists the interface ({len(functions)} functions, {len(relations)} tables and "
          f"views, {len(domains)} domains, {len(gucs)} settings)")

    missing = [f for f in functions if not named(spans, f)]
    check(not missing, "every function in schema abdm_hip is named in the README", f"not named: {missing}")
    missing = [f"{name} ({'view' if kind == 'v' else 'table'})" for name, kind in relations if not named(spans, name)]
    check(not missing, "every table and view in schema abdm_hip is named in the README", f"not named: {missing}")
    missing = [d for d in domains if not named(spans, d)]
    check(not missing, "every domain in schema abdm_hip is named in the README", f"not named: {missing}")

    context = {"postmaster": "restart", "sighup": "reload", "superuser": "reload", "user": "reload"}
    missing = [g for g, _ in gucs if g not in settings]
    check(not missing, "every abdm_hip.* setting has a row in the README's Settings table", f"no row: {missing}")
    wrong = [f"{g}: README says {settings[g]}, PostgreSQL {ctx}" for g, ctx in gucs
             if g in settings and settings[g] != context.get(ctx, ctx)]
    check(not wrong, "each setting's context in the README is PostgreSQL's (restart or reload)", "; ".join(wrong))
    stale = sorted(set(settings) - {g for g, _ in gucs})
    check(not stale, "the Settings table names no setting that does not exist", f"stale rows: {stale}")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
