#!/usr/bin/python3
"""The hospital's history announced within ABDM's limits (bench/run history; not part of the
tests).

N patients (default 100,000) with an ABHA address and one hidden history care context each
(link_pending = false) are announced with abdm_hip.announce_history() against the simulated
gateway, which enforces a rate limit per endpoint (generate-token and link-carecontext, RATE/s,
a burst of half a second) and answers ABDM-1022 above it; the sender is configured at the same
rate. Meanwhile a new visit (a new patient with a care context) is inserted every 2 s.

Figures: care contexts linked per second (first to last link) and generate-token calls per second
against the configured rate (goal ±5 %), ABDM-1022 answers (goal 0), each new visit's time from
its insert to its link (p50/p99/max; goal under 2 s), and the accuracy of history_progress's
time_left (the finish it predicted at 10 %, 25 %, 50 %, 75 % and 90 % against the real one).

    /usr/bin/python3 bench/history_bench.py [N] [--rate 100]
"""
import argparse
import os
import statistics
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
from harness import HIP, Env, connect, q, q1, reset_settings, set_settings  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--visit-every", type=float, default=2.0)
    a = ap.parse_args()
    n, rate = a.n, a.rate

    # The simulator's callbacks go to receive() over SQL unless ABDM_DELIVERY says otherwise: over
    # HTTP, with an RS256 bearer signed in Python for each, it delivers well under the 200
    # callbacks/s a 100/s run needs on this 2-core machine, and its own backlog would be measured.
    os.environ.setdefault("ABDM_DELIVERY", "sql")
    env = Env(delivery_threads=32, max_records=20_000)
    settings = {"abdm_hip.rate_limit_generate_token": str(rate), "abdm_hip.rate_limit_link_carecontext": str(rate)}
    try:
        env.fresh()
        db, c = env.db, env.c
        set_settings(db, settings)
        c.set_rate_limits(**{"generate-token": {"rate": rate, "burst": rate / 2},
                             "link-carecontext": {"rate": rate, "burst": rate / 2}})
        t = time.monotonic()
        q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
                 SELECT %s, 'H' || i, 'Legacy ' || i, CASE WHEN i %% 2 = 0 THEN 'F' ELSE 'M' END, 1940 + i %% 70,
                        'legacy.' || i || '@sbx'
                 FROM generate_series(1, %s) i""", HIP, n)
        q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
                 SELECT %s, 'H' || i, 'H' || i || '-OPD', 'OPD visit', '{Prescription}',
                        '2015-01-01'::timestamptz + make_interval(days => i %% 3000), false
                 FROM generate_series(1, %s) i""", HIP, n)
        q(db, "ANALYZE abdm_hip.patient; ANALYZE abdm_hip.care_context")
        print(f"history: {n} patients with a care context each, loaded in {time.monotonic() - t:.1f} s; "
              f"rate limit {rate:g}/s per endpoint (sender and gateway); callbacks over {env.delivery}", flush=True)

        t0 = time.time()
        queued = q1(db, "SELECT abdm_hip.announce_history(%s) AS n", HIP)["n"]
        assert queued == n, queued
        samples = []   # (time, linked, time_left seconds)
        visits = []
        stop = threading.Event()

        def new_visits():
            vdb = connect()
            i = 0
            while not stop.is_set():
                i += 1
                q(vdb, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
                          VALUES (%s, %s, 'New Visit', 'F', 1990, %s)""", HIP, f"V{i}", f"new.visit.{i}@sbx")
                q(vdb, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                          VALUES (%s, %s, %s, 'OPD today', '{Prescription}')""", HIP, f"V{i}", f"V{i}-OPD")
                visits.append(f"V{i}-OPD")
                stop.wait(a.visit_every)
            vdb.close()

        th = threading.Thread(target=new_visits, daemon=True)
        th.start()
        deadline = time.time() + max(120, 4 * n / rate)
        last_print = 0
        while time.time() < deadline:
            p = q1(db, "SELECT linked, failed, blocked, queued, in_progress, rate, "
                       "extract(epoch FROM time_left) AS left_s FROM abdm_hip.history_progress WHERE hip_id = %s", HIP)
            now = time.time()
            samples.append((now, p["linked"], float(p["left_s"]) if p["left_s"] is not None else None))
            if now - last_print >= 30:
                last_print = now
                print(f"  {now - t0:6.0f} s: linked {p['linked']}, in progress {p['in_progress']}, "
                      f"queued {p['queued']}, {p['rate']}/s, time left {p['left_s']}", flush=True)
            if p["linked"] + p["failed"] + p["blocked"] >= n:
                break
            time.sleep(1)
        stop.set()
        th.join(timeout=10)
        time.sleep(3)  # the last new visit's link

        r = q1(db, """SELECT count(*) FILTER (WHERE l.status = 'linked') AS linked,
                             count(*) FILTER (WHERE l.status = 'failed') AS failed,
                             extract(epoch FROM max(l.linked_at) - min(l.linked_at)) AS span,
                             min(l.linked_at) AS first, max(l.linked_at) AS last
                      FROM abdm_hip.history_item h
                      JOIN abdm_hip.care_context_link l ON l.hip_id = h.hip_id AND l.care_context_ref = h.care_context_ref""")
        tok = q1(db, """SELECT count(*) AS n, extract(epoch FROM max(sent_at) - min(sent_at)) AS span
                        FROM abdm_hip.outbox WHERE kind = 'generate_token' AND priority = 1 AND status = 'sent'""")
        lat = [float(x["s"]) for x in q(db, """
            SELECT extract(epoch FROM l.linked_at - c.created_at) AS s
            FROM abdm_hip.care_context c JOIN abdm_hip.care_context_link l
              ON l.hip_id = c.hip_id AND l.care_context_ref = c.reference
            WHERE c.reference = ANY (%s) AND l.status = 'linked'""", visits)]
        limits = c.rate_limits()
        wall = (r["last"] - r["first"]).total_seconds() if r["last"] else 0
        linked_rate = (r["linked"] - 1) / float(r["span"]) if r["span"] else 0
        token_rate = (tok["n"] - 1) / float(tok["span"]) if tok["span"] else 0
        finish = r["last"].timestamp() if r["last"] else time.time()
        print(f"history: {r['linked']} of {n} linked ({r['failed']} failed) in {wall:.0f} s from first to last link")
        print(f"  linked/s {linked_rate:.1f} (configured {rate:g}, {100 * (linked_rate / rate - 1):+.1f} %); "
              f"generate-token calls/s {token_rate:.1f}")
        print(f"  ABDM-1022 answers: {limits['refused']} "
              f"(gateway accepted generate-token {limits['limits'].get('generate-token', {}).get('accepted')}, "
              f"link-carecontext {limits['limits'].get('link-carecontext', {}).get('accepted')})")
        if lat:
            print(f"  new visits during the backfill: {len(lat)} of {len(visits)} linked; insert → linked "
                  f"p50 {statistics.median(lat):.3f} s, p99 {pct(lat, 99):.3f} s, max {max(lat):.3f} s")
        # The time_left estimate at points of the run, against the real finish.
        for frac in (0.1, 0.25, 0.5, 0.75, 0.9):
            s = next((s for s in samples if s[1] >= frac * n and s[2] is not None), None)
            if not s:
                continue
            predicted, actual = s[2], finish - s[0]
            print(f"  at {int(frac * 100):>2} % linked: time_left said {predicted:.0f} s, it took {actual:.0f} s "
                  f"({100 * (predicted - actual) / actual:+.1f} %)" if actual > 0 else "")
    finally:
        try:
            reset_settings(env.db, settings)
            env.c.clear_rate_limits()
        finally:
            env.close()


if __name__ == "__main__":
    main()
