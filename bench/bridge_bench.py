#!/usr/bin/python3
"""The built-in bridge listener under load (bench/run bridge; not part of the tests).

wrk (Debian package wrk) sends gateway calls to the listener as the gateway sends them
(bench/bridge/on_notify.lua): POST /api/v3/links/context/on-notify, the gateway's acknowledgement
of a context notify, the commonest callback a HIP records. Each request has its own REQUEST-ID
and TIMESTAMP and carries the gateway's bearer, minted once by the simulator and reused as the
gateway reuses one for 20 minutes; the listener verifies its RS256 signature on every request,
then receive() checks the headers and body, looks up the outbox row it answers and records the
call in the inbox (one transaction).

Figures: requests/s and p50/p99 latency with 1 and 2 bridge workers (abdm_hip.bridge_workers,
a restart each), each alone and while this script holds 500 slow connections open (one byte
every 2 s, never a complete request); and, for scale, verification off, and for comparison the
same message through receive() over SQL (pgbench) from as many sessions as there are workers
(each worker is one database session). The inbox starts with 200,000 rows (prefill_inbox). Run
on a private cluster started with a listen port (bench/run does that):

    /usr/bin/python3 bench/bridge_bench.py [--duration 10] [--connections 16] [--threads 2] [--slow 500]
"""
import argparse
import json
import os
import shutil
import socket
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
from harness import HIP, Env, q, q1, restart_cluster, wait_until  # noqa: E402
from sim_state import now_iso  # noqa: E402  (test/sim, on the path through harness)

LUA = os.path.join(ROOT, "bench", "bridge", "on_notify.lua")
PATH = "/api/v3/links/context/on-notify"


def listener_address(db):
    port = int(q1(db, "SHOW abdm_hip.listen_port")["abdm_hip.listen_port"])
    addr = q1(db, "SHOW abdm_hip.listen_address")["abdm_hip.listen_address"]
    host = "127.0.0.1" if addr in ("", "*", "0.0.0.0", "::", "localhost") else addr.split(",")[0].strip()
    return host, port


def configure(env, verify=True):
    issuer = env.c.urls["root"] + "/auth/realms/central-registry"
    q(env.db, "ALTER SYSTEM SET abdm_hip.jwt_issuer = %s", issuer)
    if verify:
        q(env.db, "ALTER SYSTEM RESET abdm_hip.verify_jwt")
    else:
        q(env.db, "ALTER SYSTEM SET abdm_hip.verify_jwt = off")
    q(env.db, "SELECT pg_reload_conf()")
    time.sleep(0.5)


def one_request(host, port, token, timeout=5.0):
    """Status of one gateway call on a new connection (None if it could not be made)."""
    body = json.dumps({"requestId": str(uuid.uuid4()), "timestamp": now_iso(),
                       "acknowledgement": {"status": "SUCCESS"}, "response": {"requestId": str(uuid.uuid4())}})
    raw = (f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
           f"REQUEST-ID: {uuid.uuid4()}\r\nTIMESTAMP: {now_iso()}\r\nX-HIP-ID: {HIP}\r\n"
           f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(raw)
            head = b""
            while b"\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                head += chunk
            return int(head.split(b" ", 2)[1])
    except OSError:
        return None


def wait_ready(host, port, token, timeout=60):
    wait_until(lambda: one_request(host, port, token) == 202, timeout=timeout, interval=0.2,
               what="the listener answering 202")


class SlowClients:
    """n connections that each send a request line a byte every `every` seconds, never finishing."""

    def __init__(self, host, port, n, every=2.0):
        self.socks, self.cut = [], set()
        script = (f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nX-Slow: " + "a" * 4096).encode()
        for _ in range(n):
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(script[:1])
            self.socks.append(s)
        self.stop = threading.Event()

        def trickle():
            i = 1
            while not self.stop.wait(every):
                for k, s in enumerate(self.socks):
                    if k not in self.cut:
                        try:
                            s.send(script[i:i + 1])
                        except OSError:
                            self.cut.add(k)
                i += 1
        self.thread = threading.Thread(target=trickle, daemon=True)
        self.thread.start()

    def held(self):
        return len(self.socks) - len(self.cut)

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()


def run_wrk(host, port, token, threads, connections, duration):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", LUA,
           f"http://{host}:{port}", "--", token, HIP, PATH]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    return json.loads(line[len("WRKJSON "):])


def inbox_202(db):
    return q1(db, "SELECT count(*) AS n FROM abdm_hip.inbox WHERE http_status = 202")["n"]


def prefill_inbox(env, rows=200_000):
    """A HIP's inbox holds weeks of calls (abdm_hip.retention_days): start from 200,000, with
    statistics, so that receive()'s REQUEST-ID look-up is planned for a real table (a plan made
    while the table is empty stays cached in the worker's session until the next ANALYZE)."""
    q(env.db, """INSERT INTO abdm_hip.inbox (request_id, hip_id, path, kind, headers, body, http_status, response, received_at)
                 SELECT gen_random_uuid(), %s, %s, 'context_on_notify', '{}', '{}', 202, NULL, now() - interval '1 hour'
                 FROM generate_series(1, %s)""", HIP, PATH, rows)
    q(env.db, "VACUUM ANALYZE abdm_hip.inbox")


def measure(env, host, port, token, args, slow):
    clients = SlowClients(host, port, slow) if slow else None
    try:
        if clients:
            time.sleep(1.0)
        before = inbox_202(env.db)
        w = run_wrk(host, port, token, args.threads, args.connections, args.duration)
        held = clients.held() if clients else 0
    finally:
        if clients:
            clients.close()
    time.sleep(0.3)
    rows = inbox_202(env.db) - before
    seconds = w["duration_us"] / 1e6
    return {"rps": w["requests"] / seconds, "p50": w["p50_us"] / 1000, "p99": w["p99_us"] / 1000,
            "max": w["max_us"] / 1000, "requests": w["requests"], "non2xx": w["status"],
            "errors": w["connect"] + w["read"] + w["write"] + w["timeout"], "rows": rows, "held": held}


RECEIVE_SQL = """SELECT * FROM abdm_hip.receive('%s',
  jsonb_build_object('REQUEST-ID', gen_random_uuid(), 'X-HIP-ID', '%s',
                     'TIMESTAMP', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  jsonb_build_object('requestId', gen_random_uuid(), 'acknowledgement', jsonb_build_object('status', 'SUCCESS'),
                     'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                     'response', jsonb_build_object('requestId', gen_random_uuid())));
"""


def pgbench_receive(env, clients, duration):
    """For comparison: the same message through receive() over SQL (pgbench; no HTTP, no JWT), from
    `clients` sessions, as many as the listener has workers (each worker is one session)."""
    pgbench = os.path.join(subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/cluster.sh && abdm_pgbin"],
                                          capture_output=True, text=True, check=True).stdout.strip(), "pgbench")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(RECEIVE_SQL % (PATH, HIP))
    os.chmod(f.name, 0o644)
    try:
        out = subprocess.run([pgbench, "-n", "-f", f.name, "-c", str(clients), "-j", str(clients),
                              "-T", str(duration)], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    lat = float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))
    return tps, lat


def set_workers(env, n):
    q(env.db, "ALTER SYSTEM SET abdm_hip.bridge_workers = %s", str(n))
    restart_cluster()
    env.reconnect()
    got = q1(env.db, "SHOW abdm_hip.bridge_workers")["abdm_hip.bridge_workers"]
    assert int(got) == n, f"abdm_hip.bridge_workers is {got}, wanted {n}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--slow", type=int, default=500, help="slow connections held open (default 500)")
    p.add_argument("--workers", default="1,2", help="bridge worker counts to measure (default 1,2)")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bridge_bench: wrk is not installed (apt-get install -y wrk; test/lib/deps.sh lists it)")
    if args.duration >= 25 and args.slow:
        print("note: the slow connections are cut at abdm_hip.listen_request_timeout (30 s); "
              "measurements this long lose them part-way")

    env = Env()
    try:
        host, port = listener_address(env.db)
        if not port:
            sys.exit("bridge_bench: abdm_hip.listen_port is 0 (start the cluster with a listen port)")
        env.fresh()
        configure(env)
        prefill_inbox(env)
        token = env.c.post("/_sim/bearer", {})["token"]
        rows, baselines = [], []
        for n in [int(x) for x in args.workers.split(",")]:
            baselines.append((n, *pgbench_receive(env, n, args.duration)))
            set_workers(env, n)
            wait_ready(host, port, token)
            run_wrk(host, port, token, args.threads, args.connections, 2)      # warm-up
            for slow in (0, args.slow):
                r = measure(env, host, port, token, args, slow)
                rows.append((n, slow, "on", r))
                print(f"  measured: {n} worker(s), {slow} slow connections: {r['rps']:.0f} req/s", flush=True)
        # For scale: what verifying the signature costs (last worker count, no slow clients).
        configure(env, verify=False)
        try:
            wait_ready(host, port, token)
            r = measure(env, host, port, token, args, 0)
            rows.append((n, 0, "off", r))
        finally:
            configure(env, verify=True)
        q(env.db, "ALTER SYSTEM RESET abdm_hip.bridge_workers")
    finally:
        env.close()

    cores = os.cpu_count()
    print()
    print(f"bridge listener: POST {PATH} (context on-notify; receive() checks it, looks up the outbox row it")
    print("answers, records it in the inbox), RS256 bearer verified on every request unless JWT says off;")
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s on the same {cores}-core machine "
          f"(wrk, listener and PostgreSQL share the cores)")
    print()
    print(f"{'workers':>7} {'slow conns':>10} {'JWT':>4} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'non-2xx':>7} {'errors':>6} {'inbox 202':>9}")
    for n, slow, jwt, r in rows:
        slow_txt = f"{slow}" if not slow else f"{r['held']}/{slow}"
        print(f"{n:>7} {slow_txt:>10} {jwt:>4} {r['rps']:>8.0f} {r['p50']:>7.2f} {r['p99']:>7.2f} {r['max']:>7.1f} "
              f"{r['non2xx']:>7} {r['errors']:>6} {r['rows']:>9}")
    print()
    for n, tps, lat in baselines:
        print(f"for comparison, receive() over SQL from {n} session(s) (pgbench -c{n}: a client round trip per "
              f"call, no HTTP, no JWT): {tps:.0f} calls/s, {lat:.2f} ms average")
    print()
    print("slow conns: held open at the end / opened. inbox 202: calls receive() accepted during the run "
          "(wrk's count can differ by the requests in flight when it stops).")
    bad = [r for *_, r in rows if r["non2xx"] or r["errors"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
