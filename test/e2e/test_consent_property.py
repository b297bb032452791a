#!/usr/bin/python3
"""Consent as a property (issue 17): for randomised consents (care contexts, HI types, date
range) and health-information requests over a pool of records of every HI type, the set of
records the HIU decrypts equals exactly the set the consent allows: the consented care contexts,
the consented HI types, recorded inside both the consented and the requested date range.
Nothing more, nothing missing. A request reaching outside its consent's range is refused
(ERRORED) and nothing is pushed for it.

Records are recognised on the HIU's side by the SHA-256 of the plaintext it decrypted, matched
against the SHA-256 of each stored bundle's text. The cases run through the real workers and the
simulator, many requests in flight at once. ABDM_PROPERTY_CASES (default 200) and
ABDM_PROPERTY_SEED (default: random, printed) repeat a run."""
import datetime as dt
import json
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import HIP, ROOT, Env, q, q1, run, wait_until  # noqa: E402

ENV = None
HI_TYPES = ["OPConsultation", "Prescription", "DiagnosticReport", "DischargeSummary", "ImmunizationRecord",
            "HealthDocumentRecord", "WellnessRecord", "Invoice"]
RECORDS = os.path.join(ROOT, "test", "data", "fhir", "records")
START = dt.datetime(2022, 1, 1, tzinfo=dt.timezone.utc)
DAYS = 3 * 365
PATIENTS, CONTEXTS, RECORDS_EACH = 4, 5, 8
BATCH = 25


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class ConsentProperty(unittest.TestCase):
    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c

    def make_pool(self, rng):
        """PATIENTS patients, each with CONTEXTS care contexts of RECORDS_EACH records of random HI
        types on distinct random days. Returns {patient: {cc: [(sha256, hi_type, recorded_at)]}}."""
        db = self.db
        days = rng.sample(range(DAYS), PATIENTS * CONTEXTS * RECORDS_EACH)
        templates = {t: json.load(open(os.path.join(RECORDS, f"{t}.json"))) for t in HI_TYPES}
        pool = {}
        for p in range(PATIENTS):
            ref = f"CP-{p}"
            q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, birth_date)
                     VALUES (%s, %s, %s, 'F', '1980-01-01')""", HIP, ref, f"Prop Patient {p}")
            pool[ref] = {}
            for k in range(CONTEXTS):
                cc = f"{ref}-{k}"
                q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, link_pending)
                         VALUES (%s, %s, %s, %s, %s, false)""", HIP, ref, cc, f"Visit {k}", HI_TYPES)
                pool[ref][cc] = []
                for _ in range(RECORDS_EACH):
                    t = rng.choice(HI_TYPES)
                    at = START + dt.timedelta(days=days.pop(), hours=10)
                    rec = json.loads(json.dumps(templates[t]))
                    rec["patient"]["ref"] = ref
                    rec["document"]["date"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
                    rec["document"].pop("id", None)
                    row = q1(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
                                    VALUES (%s, %s, %s, %s, abdm_hip.fhir_document(%s, %s::jsonb))
                                    RETURNING encode(sha256(convert_to(bundle::text, 'UTF8')), 'hex') AS sha""",
                             HIP, cc, t, at, t, json.dumps(rec))
                    pool[ref][cc].append((row["sha"], t, at))
        return pool

    def random_case(self, rng, pool):
        ref = rng.choice(sorted(pool))
        ccs = rng.sample(sorted(pool[ref]), rng.randint(1, CONTEXTS))
        types = rng.sample(HI_TYPES, rng.randint(1, len(HI_TYPES)))
        a, b = sorted(rng.sample(range(DAYS), 2))
        c_from, c_to = START + dt.timedelta(days=a), START + dt.timedelta(days=b, hours=23)
        inside = rng.random() < 0.9
        if inside and rng.random() < 0.4:  # the whole consented range, as HIUs mostly ask
            r_from, r_to = c_from, c_to
        elif inside:
            x, y = sorted(rng.sample(range(a, b + 1), 2)) if b > a else (a, b)
            r_from, r_to = START + dt.timedelta(days=x), START + dt.timedelta(days=y, hours=23)
            r_to = min(r_to, c_to)
        else:  # reaching past the consent on one side
            r_from, r_to = (c_from - dt.timedelta(days=rng.randint(1, 30)), c_to) if rng.random() < 0.5 \
                else (c_from, c_to + dt.timedelta(days=rng.randint(1, 30)))
        expected = {sha for cc in ccs for sha, t, at in pool[ref][cc]
                    if t in types and max(c_from, r_from) <= at <= min(c_to, r_to)} if inside else set()
        return {"ref": ref, "ccs": ccs, "types": types, "consent": (c_from, c_to), "request": (r_from, r_to),
                "inside": inside, "expected": expected}

    def start(self, case):
        c = self.c
        g = c.consent_notify(hipId=HIP, abhaAddress=f"{case['ref'].lower()}@sbx", hiTypes=case["types"],
                             careContexts=[{"patientReference": case["ref"], "careContextReference": cc} for cc in case["ccs"]],
                             dateRange={"from": iso(case["consent"][0]), "to": iso(case["consent"][1])})
        self.assertEqual(g["delivery"]["status"], 202, g["delivery"])
        case["consentId"] = g["consentId"]
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.consent WHERE consent_id = %s",
                              g["consentId"])["n"] == 1, what="consent stored")
        r = c.hi_request(consentId=g["consentId"],
                         dateRange={"from": iso(case["request"][0]), "to": iso(case["request"][1])})
        self.assertEqual(r["delivery"]["status"], 202, r["delivery"])
        case["txn"] = r["transactionId"]

    def finished(self, case):
        st = q1(self.db, "SELECT status FROM abdm_hip.hi_request WHERE transaction_id = %s", case["txn"])
        return st and st["status"] in ("errored", "transferred", "failed")

    def test_the_hiu_decrypts_exactly_what_the_consent_allows(self):
        cases_n = int(os.environ.get("ABDM_PROPERTY_CASES", "200"))
        seed = int(os.environ.get("ABDM_PROPERTY_SEED", str(random.SystemRandom().randrange(1 << 30))))
        print(f"    seed {seed} (ABDM_PROPERTY_SEED={seed} repeats this run), {cases_n} cases")
        rng = random.Random(seed)
        pool = self.make_pool(rng)
        cases = [self.random_case(rng, pool) for _ in range(cases_n)]
        t0 = time.time()
        for i in range(0, len(cases), BATCH):
            batch = cases[i:i + BATCH]
            for case in batch:
                self.start(case)
            for case in batch:
                wait_until(lambda: self.finished(case), timeout=120, what=f"request {case['txn']} finished")
        took = time.time() - t0

        counts = {"records shared": 0, "refused": 0, "empty": 0}
        for n, case in enumerate(cases):
            where = f"case {n} (seed {seed}): {json.dumps({k: str(v) for k, v in case.items() if k != 'expected'})}"
            status = q1(self.db, "SELECT status FROM abdm_hip.hi_request WHERE transaction_id = %s", case["txn"])["status"]
            if not case["inside"]:
                self.assertEqual(status, "errored", where)
                self.assertFalse([r for r in self.c.requests(server="hiu") if r["method"] == "POST"
                                  and (r.get("body") or {}).get("transactionId") == case["txn"]], where)
                counts["refused"] += 1
                continue
            t = self.c.wait_for_transfer(case["txn"], pushes=max(1, len(case["expected"])), timeout=60)
            # The HIU's record of every pushed entry, once all pages it took are in it.
            t = wait_until(lambda: (lambda t: t if len(t["entries"]) >= sum(p["entryCount"] for p in t["pushes"])
                                    else None)(self.c.hiu_transfer(case["txn"], plaintext=False)),
                           timeout=10, what="the HIU's entries")
            got = {e["plaintextSha256"] for e in t["entries"] if e.get("ok")}
            if got != case["expected"]:  # what the HIP recorded, for the failure message
                where += " pages: " + json.dumps(q(self.db, "SELECT page_number, status, record_ids, error FROM "
                                                   "abdm_hip.transfer_page WHERE transaction_id = %s", case["txn"]),
                                                 default=str)
                where += " consent as stored: " + json.dumps(q(self.db, """
                    SELECT c.status, c.hi_types, c.date_from, c.date_to,
                           (SELECT array_agg(care_context_ref ORDER BY 1) FROM abdm_hip.consent_care_context cc
                             WHERE cc.consent_id = c.consent_id) AS ccs
                    FROM abdm_hip.consent c WHERE c.consent_id = %s""", case["consentId"]), default=str)
                where += " transfer_records now: " + json.dumps(q(self.db, """
                    SELECT r.id, h.care_context_ref, h.hi_type, h.recorded_at,
                           q.date_from AS req_from, q.date_to AS req_to, q.received_at
                    FROM abdm_hip_internal.transfer_records(%s, %s) r JOIN abdm_hip.health_record h ON h.id = r.id
                    JOIN abdm_hip.hi_request q ON q.transaction_id = %s""", HIP, case["txn"], case["txn"]), default=str)
                where += " differing records: " + json.dumps(
                    [(cc, t_, str(at)) for cc in pool[case["ref"]] for sha, t_, at in pool[case["ref"]][cc]
                     if sha in got ^ case["expected"]])
                where += " hiu: " + json.dumps({k: t.get(k) for k in ("pageCount", "pagesReceived", "missingPages",
                                                                     "pageProblems", "allOk")}, default=str)
                where += " pushes: " + json.dumps([(p["pageNumber"], p["entryCount"]) for p in t["pushes"]])
                where += " entries: " + json.dumps([(e["pageNumber"], e["careContextReference"], e.get("ok"),
                                                     e.get("plaintextSha256", "")[:8]) for e in t["entries"]])
            self.assertEqual(len(got), sum(1 for e in t["entries"]), f"every entry decrypts and checks: {where}")
            self.assertEqual(got - case["expected"], set(), f"shared beyond the consent: {where}")
            self.assertEqual(case["expected"] - got, set(), f"consented records missing: {where}")
            self.assertTrue(t.get("allOk", True), where)
            counts["records shared"] += len(got)
            counts["empty"] += not got
        print(f"    {cases_n} cases in {took:.1f} s: {counts['records shared']} records decrypted, all and only the "
              f"consented; {counts['refused']} requests outside their consent refused; {counts['empty']} with nothing "
              "in range")
        self.assertGreater(counts["records shared"], 0)
        self.assertGreater(counts["refused"] + counts["empty"], 0)


if __name__ == "__main__":
    ENV = Env()
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
