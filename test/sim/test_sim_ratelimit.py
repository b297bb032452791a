#!/usr/bin/python3
"""Self-test of the simulator's per-endpoint rate limits (sim_ratelimit.py): calls above a route's
rate are answered HTTP 429 with ABDM-1022 and counted, other routes are untouched, the limit
refills at its rate, and the control API refuses nonsense.

Run: /usr/bin/python3 test/sim/test_sim_ratelimit.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import simtest_harness as H  # noqa: E402
from simtest_harness import *  # noqa: E402,F401,F403
from simclient import SimError  # noqa: E402
from testutil import run_main  # noqa: E402

C = None


def setUpModule():
    global C
    H.start_module()
    C = H.C


def tearDownModule():
    H.stop_module()


def notify(token):
    body = {"notification": {"patient": {"id": "x@sbx"}, "careContext": {"patientReference": "P1",
            "careContextReference": "C1"}, "hiTypes": ["OPConsultation"], "date": now_iso(), "hip": {"id": HIP}}}
    return call("/hip/v3/link/context/notify", body, gw_headers(token, X_HIP_ID=HIP))


class RateLimits(unittest.TestCase):
    def tearDown(self):
        C.clear_rate_limits()

    def test_calls_above_the_burst_get_1022(self):
        token = session()
        C.set_rate_limits(**{"generate-token": {"rate": 1, "burst": 3}})
        answers = [gen_token(token, uniq())[0] for _ in range(5)]
        statuses = [a[0] for a in answers]
        self.assertEqual(statuses[:3], [202, 202, 202])
        self.assertEqual(statuses[3:], [429, 429])
        self.assertEqual(code_of(answers[3][1]), "ABDM-1022")
        view = C.rate_limits()
        self.assertEqual(view["limits"]["generate-token"]["accepted"], 3)
        self.assertEqual(view["limits"]["generate-token"]["refused"], 2)
        self.assertEqual(view["refused"], 2)
        # The refused calls are recorded (status 429) and caused no callback.
        recs = [r for r in C.requests(route="generate-token") if r["status"] == 429]
        self.assertGreaterEqual(len(recs), 2)

    def test_other_routes_are_not_limited(self):
        token = session()
        C.set_rate_limits(**{"generate-token": {"rate": 1, "burst": 1}})
        for _ in range(5):
            st, body, _ = notify(token)
            self.assertNotEqual(st, 429, body)
        self.assertEqual(C.rate_limits()["refused"], 0)

    def test_the_bucket_refills_at_its_rate(self):
        token = session()
        C.set_rate_limits(**{"generate-token": {"rate": 20, "burst": 1}})
        self.assertEqual(gen_token(token, uniq())[0][0], 202)
        self.assertEqual(gen_token(token, uniq())[0][0], 429)
        time.sleep(0.1)  # two calls' worth at 20/s
        self.assertEqual(gen_token(token, uniq())[0][0], 202)

    def test_sustained_rate_is_enforced(self):
        # 2 s of calls as fast as they go against 25/s (burst 5): about 55 accepted, the rest refused.
        token = session()
        C.set_rate_limits(**{"generate-token": {"rate": 25, "burst": 5}})
        end = time.time() + 2
        while time.time() < end:
            gen_token(token, uniq())
        lim = C.rate_limits()["limits"]["generate-token"]
        self.assertGreater(lim["refused"], 0)
        self.assertGreaterEqual(lim["accepted"], 45)
        self.assertLessEqual(lim["accepted"], 5 + 25 * 2.5)

    def test_removing_and_clearing(self):
        C.set_rate_limits(**{"generate-token": 5, "link-carecontext": {"rate": 7}})
        view = C.rate_limits()["limits"]
        self.assertEqual(view["generate-token"]["burst"], 5)      # one second's worth by default
        self.assertEqual(view["link-carecontext"]["rate"], 7)
        C.set_rate_limits(**{"generate-token": None})
        self.assertEqual(set(C.rate_limits()["limits"]), {"link-carecontext"})
        C.clear_rate_limits()
        self.assertEqual(C.rate_limits(), {"limits": {}, "refused": 0})

    def test_nonsense_is_refused(self):
        for bad in ({"generate-token": "fast"}, {"generate-token": {"rate": -1}},
                    {"generate-token": {"per": 3}}, {"generate-token": True}):
            with self.assertRaises(SimError) as ctx:
                C.set_rate_limits(**bad)
            self.assertEqual(ctx.exception.status, 400)


if __name__ == "__main__":
    run_main()
