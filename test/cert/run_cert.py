#!/usr/bin/python3
"""ABDM Milestone 2 certification cases, end to end (issue 18): one scenario per case, named as
ABDM names them, against the real system — the cluster with the extension preloaded, its sender,
transfer and bridge workers, the listener verifying the gateway's JWTs, and the local
gateway/HIE-CM/HIU/PHR simulator over HTTP on 127.0.0.1 (test/e2e/harness.py Env).

Prints `PASS <case>` or `FAIL <case>: <reason>` for each and ends with `N passed, N failed`.
Run it on a cluster from test/lib/cluster.sh, as test/run-all does:
    source test/lib/cluster.sh; abdm_cluster_start cert; /usr/bin/python3 test/cert/run_cert.py
`run_cert.py CASE...` runs only the named cases.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from certlib import CASES, run_cases  # noqa: E402
from harness import Env, q1  # noqa: E402

# Registration order is the order ABDM lists the cases in.
import case_records  # noqa: E402,F401
import case_hip_linking  # noqa: E402,F401
import case_hiecm_notify  # noqa: E402,F401
import case_user_linking  # noqa: E402,F401
import case_consent  # noqa: E402,F401
import case_share  # noqa: E402,F401


def main(argv):
    wanted = set(argv)
    unknown = wanted - {name for name, _ in CASES}
    if unknown:
        print(f"unknown cases: {sorted(unknown)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    env = Env()
    try:
        env.fresh()
        # The certification runs with the gateway's tokens checked: the listener must be the way in.
        if env.delivery != "http" or q1(env.db, "SHOW abdm_hip.verify_jwt")["abdm_hip.verify_jwt"] != "on":
            print("FAIL setup: the gateway's calls must reach the listener with JWT verification on "
                  f"(delivery {env.delivery})")
            print("0 passed, 1 failed")
            return 1
        _, failed = run_cases(env, [(n, f) for n, f in CASES if not wanted or n in wanted])
    finally:
        env.close()
    print(f"# {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
