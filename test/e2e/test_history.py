#!/usr/bin/python3
"""Linking the hospital's history within ABDM's limits, end to end: legacy care contexts (inserted
with link_pending = false) announced with abdm_hip.announce_history() go out at the configured
rate per endpoint against a simulated gateway that enforces a rate limit and answers ABDM-1022
above it; a 1022 storm slows the sender down; a new visit inserted during the backfill is linked
within 2 s; ABDM-1027 shows in abdm_hip.link_blocks."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (HIP, Env, q, q1, reset_settings, run, server_log_since, server_log_size,  # noqa: E402
                     set_settings, wait_until)

ENV = None
# Calls/s per endpoint, the sender's and the simulated gateway's: low enough that the Python
# simulator's callbacks keep up on a loaded machine (its own backlog would delay the new visit).
RATE = 15


def add_legacy_patients(db, prefix, n, visit_at="2019-06-01"):
    """n patients with an ABHA address and one hidden history care context each."""
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
             SELECT %s, %s || i, 'Legacy ' || i, 'F', 1970 + i %% 40, %s || i || '@sbx'
             FROM generate_series(1, %s) i""", HIP, prefix, prefix.lower().replace("-", "."), n)
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at, link_pending)
             SELECT %s, %s || i, %s || i || '-OPD', 'OPD visit', '{Prescription}', %s, false
             FROM generate_series(1, %s) i""", HIP, prefix, prefix, visit_at, n)


def progress(db):
    return q1(db, "SELECT * FROM abdm_hip.history_progress WHERE hip_id = %s", HIP)


def accepted_times(c, route):
    return sorted(r["time"] for r in c.requests(route=route, bodies=False) if r["status"] == 202)


def token_endpoint(db):
    """The link-token endpoint's row of abdm_hip.rate_limits (waits for the sender to publish)."""
    wait_until(lambda: q1(db, "SELECT count(*) AS n FROM abdm_hip.rate_limits "
                              "WHERE endpoint_kind = 'generate_token'")["n"] == 1,
               timeout=5, interval=0.1, what="the sender's rate limits published")
    r = q1(db, "SELECT configured_per_s, current_per_s::float8 AS current_per_s, state, throttles, "
               "last_throttled_at FROM abdm_hip.rate_limits WHERE endpoint_kind = 'generate_token'")
    return dict(r)


def rate_of(times):
    """Calls per second after the first second (the bucket's initial burst left out)."""
    times = [t for t in times if t >= times[0] + 1.0]
    return (len(times) - 1) / (times[-1] - times[0])


class History(unittest.TestCase):
    SETTINGS = {}

    def setUp(self):
        ENV.fresh()
        self.db, self.c = ENV.db, ENV.c
        self.addCleanup(self.c.clear_rate_limits)

    def configure(self, **settings):
        set_settings(self.db, settings)
        self.addCleanup(reset_settings, self.db, settings)
        time.sleep(0.3)  # the sender re-reads its settings at the next SIGHUP

    def test_history_goes_at_the_configured_rate_and_new_visits_first(self):
        n = 240
        self.configure(**{"abdm_hip.rate_limit_generate_token": str(RATE),
                          "abdm_hip.rate_limit_link_carecontext": str(RATE)})
        self.c.set_rate_limits(**{"generate-token": {"rate": RATE, "burst": RATE / 2},
                                  "link-carecontext": {"rate": RATE, "burst": RATE / 2}})
        add_legacy_patients(self.db, "HIST-", n)
        self.assertEqual(q1(self.db, "SELECT abdm_hip.announce_history(%s) AS n", HIP)["n"], n)
        self.assertEqual(q1(self.db, "SELECT abdm_hip.announce_history(%s) AS n", HIP)["n"], 0, "announced once")

        # A new visit arrives three seconds into the backfill: linked within 2 s.
        time.sleep(3)
        mid = progress(self.db)
        self.assertGreater(mid["linked"], 0)
        self.assertGreater(mid["queued"] + mid["in_progress"], 0, "still going")
        self.assertIsNotNone(mid["time_left"], "an estimate while it runs")
        q(self.db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
                      VALUES (%s, 'NEW-1', 'New Visit', 'M', 1985, 'new.visit@sbx')""", HIP)
        t0 = time.monotonic()
        q(self.db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                      VALUES (%s, 'NEW-1', 'NEW-1-OPD', 'OPD today', '{Prescription}')""", HIP)
        wait_until(lambda: q1(self.db, "SELECT count(*) AS n FROM abdm_hip.care_context_link "
                                       "WHERE care_context_ref = 'NEW-1-OPD' AND status = 'linked'")["n"] == 1,
                   timeout=10, interval=0.02, what="the new visit linked")
        new_visit_s = time.monotonic() - t0
        self.assertLess(new_visit_s, 2.0, "a new visit is not starved by the backfill")
        self.assertGreater(progress(self.db)["queued"] + progress(self.db)["in_progress"], 0,
                           "the backfill was still going when the new visit was linked")

        wait_until(lambda: progress(self.db)["linked"] == n, timeout=40, interval=0.2, what=f"{n} linked")
        p = progress(self.db)
        self.assertEqual((p["failed"], p["blocked"], p["queued"], p["in_progress"]), (0, 0, 0, 0))
        self.assertEqual(str(p["time_left"]), "0:00:00")
        self.assertEqual(self.c.rate_limits()["refused"], 0, "no ABDM-1022 at the configured rate")
        tokens = accepted_times(self.c, "generate-token")
        self.assertEqual(len(tokens), n + 1, "one token request per patient (and the new visit's)")
        # The token endpoint is kept busy, at its rate; link/carecontext follows the token
        # callbacks (as fast as the simulator delivers them), never above its own rate.
        r = rate_of(tokens)
        self.assertGreaterEqual(r, RATE * 0.95, f"generate-token at {r:.1f}/s")
        self.assertLessEqual(r, RATE * 1.05, f"generate-token at {r:.1f}/s")
        r = rate_of(accepted_times(self.c, "link-carecontext"))
        self.assertLessEqual(r, RATE * 1.05, f"link-carecontext at {r:.1f}/s")
        print(f"  history: {n} linked, generate-token {rate_of(tokens):.1f}/s, new visit linked in "
              f"{new_visit_s:.3f} s", file=sys.stderr)

    def test_a_1022_storm_slows_the_sender(self):
        # The sender thinks RATE (15/s); the gateway takes 10/s and answers ABDM-1022 above it.
        n = 100
        self.configure(**{"abdm_hip.rate_limit_generate_token": str(RATE), "abdm_hip.max_attempts": "30"})
        self.c.set_rate_limits(**{"generate-token": {"rate": 10, "burst": 2}})
        log_at = server_log_size()
        throttles_before = token_endpoint(self.db)["throttles"]
        add_legacy_patients(self.db, "STORM-", n)
        q(self.db, "SELECT abdm_hip.announce_history(%s)", HIP)
        seen = []  # abdm_hip.rate_limits during the storm

        def linked():
            seen.append(token_endpoint(self.db))
            return progress(self.db)["linked"] == n
        wait_until(linked, timeout=40, interval=0.2, what=f"{n} linked")
        p = progress(self.db)
        self.assertEqual((p["failed"], p["blocked"]), (0, 0), "1022 is retried, never failed")
        lim = self.c.rate_limits()["limits"]["generate-token"]
        self.assertEqual(lim["accepted"], n)
        self.assertGreater(lim["refused"], 0, "the storm happened")
        # At full speed 15/s against 10/s, one call in three would be refused (and retried into
        # the storm); halving the rate on each 1022 keeps the refusals to a fraction of the calls.
        self.assertLess(lim["refused"], n / 2, f"{lim['refused']} ABDM-1022 answers for {n} calls")
        log = server_log_since(log_at)
        self.assertIn("the gateway throttled generate_token", log)
        # The view shows it: the rate went down while the gateway refused, and every refusal
        # the gateway counted is counted once.
        self.assertEqual(token_endpoint(self.db)["configured_per_s"], RATE)
        slowest = min(seen, key=lambda r: r["current_per_s"])
        self.assertEqual(slowest["state"], "slowed")
        self.assertLessEqual(slowest["current_per_s"], RATE / 2)
        wait_until(lambda: token_endpoint(self.db)["throttles"] - throttles_before == lim["refused"],
                   timeout=3, interval=0.1,
                   what=f"{lim['refused']} throttles counted in rate_limits")
        self.assertIsNotNone(token_endpoint(self.db)["last_throttled_at"])
        # 1022 never used up the rows: every token call was sent in the end.
        self.assertEqual(q1(self.db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE kind = 'generate_token' "
                                     "AND status <> 'sent'")["n"], 0)

    def test_1027_shows_in_link_blocks(self):
        # The gateway blocks any address asked for more than 0 times a day: the first request
        # already gets ABDM-1027 in on-generate-token.
        self.c.set_config(generate_token_daily_limit=0)
        self.addCleanup(self.c.set_config, generate_token_daily_limit=3)
        add_legacy_patients(self.db, "BLK-", 1)
        q(self.db, "SELECT abdm_hip.announce_history(%s)", HIP)
        block = wait_until(lambda: q1(self.db, "SELECT * FROM abdm_hip.link_blocks WHERE abha_address = 'blk.1@sbx'"),
                           timeout=15, what="the block in link_blocks")
        self.assertTrue(block["blocked_now"])
        self.assertGreater((block["blocked_until"] - q1(self.db, "SELECT now() AS t")["t"]).total_seconds(), 23.9 * 3600)
        self.assertEqual(block["waiting_links"], 1)
        self.assertIn("ABDM-1027", block["last_error"])
        p = progress(self.db)
        self.assertEqual((p["blocked"], p["failed"], p["linked"]), (1, 0, 0))
        # No further call for that address while it is blocked.
        time.sleep(2)
        self.assertEqual(len(self.c.requests(route="generate-token")), 1)


if __name__ == "__main__":
    # The simulated gateway calls back from more threads than its default, as the real one does
    # concurrently: with 4, its callbacks would queue behind the backfill's.
    ENV = Env(delivery_threads=16)
    try:
        status = run()
    finally:
        ENV.close()
    sys.exit(status)
