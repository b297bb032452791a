"""End-to-end test harness: the private cluster started by test/run-all (PG* environment), the
extension freshly created in the database the workers serve, and the gateway/HIU simulator.

Every test module runs as a plain script with /usr/bin/python3: run() runs every TestCase in it
and ends with "N passed, N failed, N skipped" (test/lib/pyrun.py; test/run-all reads it).
"""
import json
import os
import subprocess
import sys
import time
import traceback
import unittest

import psycopg2
import psycopg2.extras

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "sim"))
sys.path.insert(0, os.path.join(ROOT, "test", "lib"))
from simclient import SimProcess  # noqa: E402
import pyrun  # noqa: E402

HIP = "IN2710000001"
CLIENT_ID = "SBX_E2E"
CLIENT_SECRET = "e2e-client-secret"


RECORDS = os.path.join(ROOT, "test", "data", "fhir", "records")


def record_input(hi_type, patient_ref, date):
    """The sample HMIS record of an HI type (docs/fhir-record.md: test/data/fhir/records), for
    this patient and date, without its document id (fhir_document derives one)."""
    with open(os.path.join(RECORDS, f"{hi_type}.json")) as f:
        rec = json.load(f)
    rec["patient"]["ref"] = patient_ref
    rec["document"]["date"] = date
    rec["document"].pop("id", None)
    return rec


def connect():
    conn = psycopg2.connect("")  # PGHOST, PGPORT, PGUSER, PGDATABASE from test/run-all
    conn.autocommit = True
    return conn


def q(conn, sql, *args):
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []


def q1(conn, sql, *args):
    rows = q(conn, sql, *args)
    return rows[0] if rows else None


def _try_connect():
    try:
        return connect()
    except psycopg2.OperationalError:
        return None


def drop_extension(db):
    """DROP EXTENSION while the system runs. The workers never deadlock with it (every worker
    transaction takes a share lock on the extension first, which DROP EXTENSION takes exclusively
    before anything else), but the simulator's callbacks run receive() in sessions of their own,
    and a DROP can meet one of those: the server cancels the DROP, so try again."""
    for _ in range(10):
        try:
            q(db, "DROP EXTENSION IF EXISTS abdm_hip CASCADE")
            return
        except psycopg2.errors.DeadlockDetected:
            time.sleep(0.2)
    q(db, "DROP EXTENSION IF EXISTS abdm_hip CASCADE")


def server_log_size():
    return os.path.getsize(os.path.join(os.environ["PGDATA"], "server.log"))


def server_log_since(offset):
    with open(os.path.join(os.environ["PGDATA"], "server.log"), errors="replace") as f:
        f.seek(offset)
        return f.read()


def anon_rss_kb(pid):
    """Private (anonymous) resident memory of a process: what the worker itself allocated, without
    the shared buffers it touched."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def restart_cluster():
    """pg_ctl restart of the harness cluster (workers included)."""
    subprocess.run(["bash", "-c", f"source {ROOT}/test/lib/cluster.sh && abdm_cluster_restart"],
                   check=True)


def postmaster_child(name):
    """The pid of the harness cluster's process `name` (e.g. "abdm_hip sender"), or None: only
    this cluster's, whatever else runs on the machine."""
    with open(os.path.join(os.environ["PGDATA"], "postmaster.pid")) as f:
        postmaster = f.readline().strip()
    out = subprocess.run(["pgrep", "-P", postmaster, "-f", name], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def set_settings(db, settings):
    """ALTER SYSTEM SET each of {name: value} and reload (reset_settings undoes it)."""
    for k, v in settings.items():
        q(db, f"ALTER SYSTEM SET {k} = %s", v)
    q(db, "SELECT pg_reload_conf()")


def reset_settings(db, settings):
    for k in settings:
        q(db, f"ALTER SYSTEM RESET {k}")
    q(db, "SELECT pg_reload_conf()")


def wait_until(fn, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def bridge_port(db):
    """The port of the extension's own listener (abdm_hip.listen_port; 0 = none)."""
    return int(q1(db, "SHOW abdm_hip.listen_port")["abdm_hip.listen_port"])


def gateway_issuer(sim_client):
    """The iss of the simulated gateway's bearer tokens (test/sim/sim_tokens.py CallbackSigner)."""
    return sim_client.urls["root"] + "/auth/realms/central-registry"


class Env:
    """One simulator for a test module; a fresh extension for every test.

    The simulator delivers the gateway's calls the way the real gateway does, over HTTP to the
    extension's listener with a signed bearer token, whenever the cluster has a listener
    (test/lib/cluster.sh gives every cluster one); ABDM_DELIVERY=sql makes it call receive()
    over SQL instead, as an HMIS web stack in front of the database would."""

    def __init__(self, **sim_settings):
        self.db = connect()
        port = bridge_port(self.db)
        self.delivery = os.environ.get("ABDM_DELIVERY") or ("http" if port else "sql")
        settings = {"callback_delay_ms": 20}
        if self.delivery == "http":
            settings.update(delivery="http", bridge_url=f"http://127.0.0.1:{port}")
        settings.update(sim_settings)
        dsn = "host={} port={} user={} dbname={}".format(
            os.environ["PGHOST"], os.environ["PGPORT"], os.environ.get("PGUSER", "postgres"),
            os.environ.get("PGDATABASE", "postgres"))
        self.sim = SimProcess(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, hip_id=[HIP],
                              dsn=dsn, settings=settings)
        self.sim.__enter__()
        self.c = self.sim.client

    def close(self):
        try:
            self.db.close()
        finally:
            self.sim.__exit__(None, None, None)

    def connect_another(self):
        """A second connection, for a watcher thread."""
        return connect()

    def reconnect(self):
        """After a cluster restart: a new connection once the server accepts them again."""
        try:
            self.db.close()
        except Exception:
            pass
        self.db = wait_until(lambda: _try_connect(), timeout=60, what="the restarted server")

    def fresh(self):
        """Drop and re-create the extension, point it at the simulator, register the facility."""
        db = self.db
        drop_extension(db)
        q(db, "CREATE EXTENSION abdm_hip")
        q(db, "ALTER SYSTEM SET abdm_hip.gateway_url = %s", self.c.gateway_url)
        q(db, "ALTER SYSTEM SET abdm_hip.client_id = %s", CLIENT_ID)
        q(db, "ALTER SYSTEM SET abdm_hip.jwt_issuer = %s", gateway_issuer(self.c))
        q(db, "ALTER SYSTEM SET abdm_hip.sms_notify_interval = '1 day'")
        # Linking OTPs go to the simulator's SMS hook (any JSON it receives is recorded).
        q(db, "ALTER SYSTEM SET abdm_hip.otp_sms_url = %s", self.c.urls["hooks"] + "/sms")
        q(db, "SELECT pg_reload_conf()")
        q(db, "SELECT abdm_hip.set_client_secret(%s)", CLIENT_SECRET)
        q(db, "INSERT INTO abdm_hip.facility (hip_id, name) VALUES (%s, 'City General Hospital')", HIP)
        self.c.clear(keep=["sessions"])
        self.c.clear_faults()
        time.sleep(0.2)  # let the workers see the reloaded settings

    def outbox(self, kind=None):
        if kind:
            return q(self.db, "SELECT * FROM abdm_hip.outbox_status WHERE kind = %s ORDER BY id", kind)
        return q(self.db, "SELECT * FROM abdm_hip.outbox_status ORDER BY id")

    def wait_sent(self, kind, count=1, timeout=30.0):
        return wait_until(lambda: (lambda rows: rows if len(rows) >= count else None)(
            [r for r in self.outbox(kind) if r["status"] == "sent"]), timeout, what=f"{count} sent {kind}")


def run():
    """Runs every TestCase of the test module (a class nobody listed runs too) and prints the
    summary line test/run-all reads; returns the exit status."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules["__main__"])
    return pyrun.report(*pyrun.count(suite))
