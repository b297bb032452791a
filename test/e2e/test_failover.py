#!/usr/bin/python3
"""Hot standby and fail-over with a real primary and standby (pg_basebackup, streaming
replication, synchronous commit; both on loopback), the simulator as the gateway.

- While the primary runs, the standby runs no abdm_hip worker: it sends nothing and writes
  nothing (the workers start only once recovery has finished, bgw_start_time).
- The primary links a first batch of care contexts (confirmed: outbox rows `sent`), then starts a
  second batch while the gateway answers 503, and is stopped with an immediate shutdown.
- After pg_promote() the new primary's workers finish the queue: every care context is linked,
  and no call whose delivery had been confirmed is accepted by the gateway a second time.

This module makes its own two clusters (the run-all cluster is not used) and removes them.
"""
import base64
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import psycopg2
import psycopg2.extras

sys.path.insert(0, os.path.dirname(__file__))
from harness import CLIENT_ID, CLIENT_SECRET, HIP, ROOT, q, q1, run, wait_until  # noqa: E402
from simclient import SimProcess  # noqa: E402

CLUSTER_SH = os.path.join(ROOT, "test", "lib", "cluster.sh")


def bash(script, *args):
    return subprocess.run(["bash", "-c", f'source "{CLUSTER_SH}" && {script}', "_", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


PGBIN = bash("abdm_pgbin")


def as_pg(*cmd):
    """A server command as the 'postgres' OS user, from / (test/lib/cluster.sh: abdm_as_pg)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    return subprocess.run(prefix + list(cmd), cwd="/", check=True, capture_output=True, text=True)


class Node:
    def __init__(self, home, port):
        self.home, self.port, self.data = home, int(port), os.path.join(home, "data")

    @property
    def dsn(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def connect(self):
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        return conn

    def pg_ctl(self, *args):
        return as_pg(os.path.join(PGBIN, "pg_ctl"), "-D", self.data, *args)

    def stop(self, mode="fast"):
        try:
            self.pg_ctl("-m", mode, "-w", "stop")
        except subprocess.CalledProcessError:
            pass  # not running

    def remove(self):
        self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)


def start_primary():
    out = bash('abdm_cluster_start failover_primary "$@" >&2 && echo "$PGDATA $PGPORT"')
    data, port = out.split()
    return Node(os.path.dirname(data), port)


def start_standby(primary, name):
    """pg_basebackup of the primary, following it (-R); its walreceiver reports `name` as its
    application_name (cluster_name), which synchronous_standby_names refers to."""
    home = tempfile.mkdtemp(prefix=f"abdm_hip-{name}.", dir=os.environ.get("ABDM_CLUSTER_DIR", "/tmp"))
    os.chmod(home, 0o755)
    if os.getuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    node = Node(home, bash("abdm_free_port"))
    node.bridge_port = int(bash("abdm_free_port"))
    as_pg(os.path.join(PGBIN, "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
          "-D", node.data, "-R", "-X", "stream", "-c", "fast")
    # The copied postgresql.conf is the primary's; the later lines win.
    with open(os.path.join(node.data, "postgresql.conf"), "a") as fh:
        fh.write(f"port = {node.port}\nunix_socket_directories = '{node.data}'\ncluster_name = '{name}'\n"
                 f"abdm_hip.listen_port = {node.bridge_port}\n")
    node.pg_ctl("-l", os.path.join(node.data, "server.log"), "-w", "-t", "60", "start")
    return node


def post_to_listener(port, path="/api/v3/hip/patient/care-context/discover"):
    """(status, headers, JSON body) of one POST to an extension's listener."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body="{}", headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read() or b"null")
    finally:
        conn.close()


def abdm_workers(db):
    return [r["backend_type"] for r in
            q(db, "SELECT backend_type FROM pg_stat_activity WHERE backend_type LIKE 'abdm_hip%%' ORDER BY 1")]


def add_linkable_patients(db, prefix, n):
    """n patients with an ABHA address, one care context each: n generate-token calls, then n
    link/carecontext calls."""
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile, abha_address)
             SELECT %s, %s || g, 'Patient ' || g, 'F', 1985, (9800000000 + g)::text, 'patient.' || lower(%s) || g || '@sbx'
             FROM generate_series(1, %s) g""", HIP, prefix, prefix, n)
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
             SELECT %s, %s || g, %s || 'CC-' || g, 'Visit', '{Prescription}' FROM generate_series(1, %s) g""",
      HIP, prefix, prefix, n)


def linked(db, prefix):
    return q1(db, """SELECT count(*) AS n FROM abdm_hip.care_context_link
                     WHERE hip_id = %s AND care_context_ref LIKE %s || '%%' AND status = 'linked'""",
              HIP, prefix)["n"]


class FailOver(unittest.TestCase):
    BATCH = 20

    @classmethod
    def setUpClass(cls):
        cls.primary = cls.standby = cls.sim = None
        cls.primary = start_primary()
        db = cls.primary.connect()
        q(db, "CREATE EXTENSION abdm_hip")
        q(db, "INSERT INTO abdm_hip.facility (hip_id, name) VALUES (%s, 'City General Hospital')", HIP)
        q(db, "SELECT abdm_hip.set_client_secret(%s)", CLIENT_SECRET)
        cls.db = db

    @classmethod
    def tearDownClass(cls):
        for closer in (lambda: cls.db.close(), lambda: cls.sim and cls.sim.__exit__(None, None, None),
                       lambda: cls.standby and cls.standby.remove(), lambda: cls.primary.remove()):
            try:
                closer()
            except Exception:  # noqa: BLE001 - clean up as much as possible
                pass

    def test_standby_idle_then_promoted_finishes_the_queue_without_duplicates(self):
        P = self.primary
        db = self.db
        # The settings live in postgresql.auto.conf, which pg_basebackup copies and replication
        # does not: a standby must be configured like its primary (the README says so).
        S_name = "abdm_standby1"
        cls = type(self)
        cls.standby = S = start_standby(P, S_name)
        # The simulator calls back whichever server accepts writes. A callback that meets the
        # dead primary's connection is delivered again half a second later: the gateway's own
        # re-delivery, which this test relies on. (Callbacks that never come at all are the
        # callback deadlines' case, not a fail-over's.)
        cls.sim = SimProcess(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, hip_id=[HIP], settings={
            "callback_delay_ms": 20, "redeliver_after_ms": 500, "redeliver_max": 20,
            "dsn": f"host=127.0.0.1,127.0.0.1 port={P.port},{S.port} user=postgres dbname=postgres "
                   "target_session_attrs=read-write"})
        self.sim.__enter__()
        c = self.sim.client
        for node in (P, S):
            with open(os.path.join(node.data, "postgresql.conf"), "a") as fh:
                fh.write(f"abdm_hip.gateway_url = '{c.gateway_url}'\nabdm_hip.client_id = '{CLIENT_ID}'\n")
        q(db, "ALTER SYSTEM SET synchronous_standby_names = %s", S_name)
        q(db, "SELECT pg_reload_conf()")
        sdb = S.connect()
        q(sdb, "SELECT pg_reload_conf()")
        wait_until(lambda: q1(db, "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s",
                              S_name) == {"sync_state": "sync"}, what="the standby streaming synchronously")

        # 1. The primary links a first batch; the standby runs no worker meanwhile.
        add_linkable_patients(db, "FA", self.BATCH)
        wait_until(lambda: linked(db, "FA") == self.BATCH, timeout=60, what="the first batch linked")
        wait_until(lambda: q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE status <> 'sent'")["n"] == 0,
                   what="every call of the first batch recorded as sent")
        self.assertTrue(q1(sdb, "SELECT pg_is_in_recovery() AS r")["r"])
        # Only the listener runs on a standby, and it answers every call 503 (the gateway
        # re-delivers) without writing: a standby can take no write.
        self.assertEqual(abdm_workers(sdb), ["abdm_hip bridge"], "no sending worker on a standby")
        status, headers, body = post_to_listener(S.bridge_port)
        self.assertEqual((status, headers.get("Retry-After"), body["error"]["code"]), (503, "5", "ABDM-9999"), body)
        self.assertIn("recovery", body["error"]["message"])
        self.assertEqual(linked(sdb, "FA"), self.BATCH, "the standby has every confirmed link")
        # The client secret is stored sealed; pg_basebackup copied the key file, so the standby
        # holds the same key and bridge_status has nothing to say about it (README "Secrets at rest").
        self.assertEqual(q1(sdb, "SELECT abdm_hip.secret_key_id() AS k")["k"], q1(db, "SELECT abdm_hip.secret_key_id() AS k")["k"])
        self.assertEqual(key_warnings(sdb), [])

        # 2. A second batch while the gateway answers 503: the calls stay queued, retried.
        c.add_fault("/v3/token/generate-token", status=503, times=100000)
        add_linkable_patients(db, "FB", self.BATCH)
        wait_until(lambda: q1(db, """SELECT count(*) AS n FROM abdm_hip.outbox
                                     WHERE kind = 'generate_token' AND attempts >= 1 AND status = 'pending'""")["n"]
                   == self.BATCH,
                   timeout=60, what="every call of the second batch tried and refused")
        refused_before = len([r for r in c.requests(route="generate-token") if r["status"] == 503])
        self.assertGreaterEqual(refused_before, self.BATCH)
        db.close()
        P.stop("immediate")  # the primary is gone, as in a crash

        # 3. Promotion: the new primary's workers start and finish the queue.
        self.assertEqual(abdm_workers(sdb), ["abdm_hip bridge"], "still no sending worker before the promotion")
        c.clear_faults()
        q(sdb, "SELECT pg_promote(true, 60)")
        self.assertFalse(q1(sdb, "SELECT pg_is_in_recovery() AS r")["r"])
        wait_until(lambda: "abdm_hip sender" in abdm_workers(sdb), timeout=30, what="the sender on the new primary")
        # The listener that answered 503 during recovery now judges calls (this one has no token).
        self.assertEqual(post_to_listener(S.bridge_port)[0], 401)
        wait_until(lambda: linked(sdb, "FB") == self.BATCH, timeout=90, what="the second batch linked after fail-over")
        self.assertEqual(linked(sdb, "FA") + linked(sdb, "FB"), 2 * self.BATCH, "nothing lost")

        # 4. No confirmed delivery was accepted twice: each outbox row recorded as sent reached
        #    the gateway with a 2xx exactly once (its REQUEST-ID is the row's).
        wait_until(lambda: q1(sdb, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE status <> 'sent'")["n"] == 0,
                   timeout=30, what="every call recorded as sent")
        accepted = {}
        for r in c.requests():
            rid = next((v for k, v in r["headers"].items() if k.lower() == "request-id"), None)
            if rid and r["status"] is not None and 200 <= r["status"] < 300:
                accepted[rid] = accepted.get(rid, 0) + 1
        sent = [str(r["request_id"]) for r in q(sdb, "SELECT request_id FROM abdm_hip.outbox WHERE status = 'sent'")]
        self.assertEqual(len(sent), 4 * self.BATCH, "two calls per care context")
        self.assertEqual({rid: accepted.get(rid, 0) for rid in sent if accepted.get(rid, 0) != 1}, {},
                         "each confirmed call accepted exactly once")
        print(f"fail-over: {len(sent)} calls, {refused_before} refused before the crash, "
              f"0 lost, 0 accepted twice", file=sys.stderr)

        # 5. A node without the key its secrets were sealed under says so in bridge_status: the
        #    file missing, then another key in its place.
        key = os.path.join(S.data, "abdm_hip_secret.key")
        os.rename(key, key + ".saved")
        try:
            self.assertEqual([w.split(":")[0] for w in key_warnings(sdb)], ["stored secrets cannot be opened"])
            self.assertIn("missing", key_warnings(sdb)[0])
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, base64.b64encode(os.urandom(32)) + b"\n")
            os.close(fd)
            st = os.stat(S.data)
            os.chown(key, st.st_uid, st.st_gid)
            w = key_warnings(sdb)
            self.assertEqual(len(w), 1, w)
            self.assertRegex(w[0], r"^secrets sealed under key [0-9a-f]{16} cannot be opened with this server's key [0-9a-f]{16}")
        finally:
            if os.path.exists(key):
                os.unlink(key)
            os.rename(key + ".saved", key)
        self.assertEqual(key_warnings(sdb), [])
        sdb.close()


def key_warnings(conn):
    return [w for w in q1(conn, "SELECT warnings FROM abdm_hip.bridge_status")["warnings"] if "secret" in w]


if __name__ == "__main__":
    sys.exit(run())
