"""What the certification scenarios share: the registry of cases, the runner that prints
`PASS <case>` / `FAIL <case>: <reason>` and the closing `N passed, N failed` line (the form
test/lib/tally.py `summary` reads), and the HMIS-side helpers every scenario writes data with.

The cluster, the extension and the simulator are the end-to-end harness's (test/e2e/harness.py
Env): one Env, one fresh extension, for the whole suite. Scenarios stay independent by giving
their patients, care contexts and ABHA addresses names of their own."""
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import HIP, ROOT, q, q1, record_input, wait_until  # noqa: E402,F401  (re-exported for the cases)

HI_TYPES = ["OPConsultation", "Prescription", "DiagnosticReport", "DischargeSummary",
            "ImmunizationRecord", "HealthDocumentRecord", "WellnessRecord", "Invoice"]

CASES = []   # (name, function), in the order ABDM lists them


class CaseFailed(AssertionError):
    """An expectation of a certification case that did not hold."""


def case(name):
    def register(fn):
        CASES.append((name, fn))
        return fn
    return register


def check(condition, reason):
    if not condition:
        raise CaseFailed(reason)


def equal(got, want, what):
    if got != want:
        raise CaseFailed(f"{what}: got {got!r}, want {want!r}")


def run_cases(env, cases):
    """Runs every case against env; one that raises is a FAIL with its reason and the rest go on."""
    passed = failed = 0
    for name, fn in cases:
        started = time.monotonic()
        try:
            fn(env)
        except CaseFailed as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        except Exception as e:  # a scenario that throws is a FAIL with the reason, not the end
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f"FAIL {name}: {type(e).__name__}: {e} ({os.path.basename(where.filename)}:{where.lineno})",
                  flush=True)
        else:
            passed += 1
            print(f"PASS {name}", flush=True)
        print(f"    {time.monotonic() - started:.1f} s", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return passed, failed


# ---- the HMIS side: what a hospital's system writes ---------------------------------------------

def add_patient(db, ref, name, gender="F", birth_date="1990-04-12", mobile=None, abha_address=None, abha_number=None):
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date, mobile, abha_number, abha_address)
             VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""", HIP, ref, name, gender, birth_date, mobile, abha_number, abha_address)


def add_care_context(db, patient_ref, reference, hi_types, visit_at="2024-03-14 10:05+05:30", display=None,
                     link_pending=True):
    """A visit. The display is what the patient's app shows, so it carries the visit's date and
    time (the V3 link messages have no other place for them)."""
    if display is None:
        display = q1(db, "SELECT 'Visit ' || to_char(%s::timestamptz AT TIME ZONE 'Asia/Kolkata', 'DD Mon YYYY HH24:MI') AS d",
                     visit_at)["d"]
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
             VALUES (%s, %s, %s, %s, %s, %s, %s)""", HIP, patient_ref, reference, display, hi_types, visit_at, link_pending)



def add_record(db, care_context_ref, hi_type, patient_ref, recorded_at):
    """A health record as the HMIS writes it: the bundle built by abdm_hip.fhir_document()."""
    rec = record_input(hi_type, patient_ref, recorded_at)
    return q1(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                     VALUES (%s, %s, %s, %s, abdm_hip.fhir_document(%s, %s::jsonb)) RETURNING id""",
              HIP, care_context_ref, hi_type, recorded_at, hi_type, json.dumps(rec))["id"]


def link_states(db, patient_ref):
    return {r["care_context_ref"]: r["link_status"]
            for r in q(db, "SELECT * FROM abdm_hip.link_status(%s, %s)", HIP, patient_ref)}


def wait_linked(db, patient_ref, refs, timeout=20):
    want = {r: "linked" for r in refs}
    wait_until(lambda: {k: v for k, v in link_states(db, patient_ref).items() if k in want} == want,
               timeout=timeout, what=f"{sorted(refs)} linked")


def accepted(c, route, pred=lambda body: True):
    """The calls of a gateway route the simulator accepted (202, not a repeated REQUEST-ID)."""
    return [r for r in c.requests(route=route)
            if r["status"] == 202 and not r.get("duplicate") and pred(r.get("body") or {})]


def fhir_errors(db, bundle_json):
    return [r for r in q(db, "SELECT * FROM abdm_hip.fhir_check(%s::jsonb)", bundle_json) if r["severity"] == "error"]
