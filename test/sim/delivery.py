"""Delivering gateway -> HIP messages (HIE-CM requests and callbacks) to the HIP under test.

Modes (setting "delivery"):
  sql   SELECT * FROM abdm_hip.receive(path, headers, body) over psycopg2 — what an HMIS web stack
        in front of the database does with each gateway call; the function returns (status, body).
  http  POST bridge_url + path — for the extension's own HTTP listener (the bridge worker).
  none  record only (the simulator's self-tests, or a test that reads the message and replays it).

Headers are those the gateway sends to a bridge (NHA M2 doc §5.3.2, §6.3.1; sandbox observation:
REQUEST-ID, TIMESTAMP, X-HIP-ID, Authorization: Bearer <gateway JWT>, Content-Type).
Callbacks go out asynchronously after "callback_delay_ms"; HIE-CM messages sent from the control
API are delivered synchronously so the test sees receive()'s answer at once.
"""

import heapq
import itertools
import json
import threading
import time
import http.client
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

from sim_state import now_iso

try:
    import psycopg2
    import psycopg2.extras
except ImportError:  # only the sql mode needs it
    psycopg2 = None


class Deliverer:
    def __init__(self, state):
        self.state = state
        self._heap = []
        self._cv = threading.Condition()
        self._n = itertools.count()
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=state.c("delivery_threads"), thread_name_prefix="deliver")
        self._stop = False
        self._inflight = 0
        self._thread = threading.Thread(target=self._run, name="deliver-scheduler", daemon=True)
        self._thread.start()

    # -- building ------------------------------------------------------------------------------
    def new_message(self, kind, path, hip_id, body, in_reply_to=None, extra_headers=None):
        rid = str(uuid.uuid4())
        headers = {"REQUEST-ID": rid, "TIMESTAMP": now_iso(), "X-HIP-ID": hip_id,
                   "Authorization": "Bearer " + self.state.signer.bearer(),
                   "Content-Type": "application/json"}
        for k, v in (extra_headers or {}).items():
            for existing in [h for h in headers if h.lower() == k.lower()]:
                del headers[existing]
            if v is not None:
                headers[k] = v
        if self.state.c("header_case") == "lower":
            headers = {k.lower(): v for k, v in headers.items()}
        rec = {"seq": self.state.next_seq(), "requestId": rid, "kind": kind, "path": path, "hipId": hip_id,
               "headers": headers, "body": body, "inReplyTo": in_reply_to, "createdAt": time.time(),
               "mode": self.state.c("delivery"), "status": None, "response": None, "error": None,
               "deliveredAt": None, "attempts": 0, "state": "queued", "answers": []}
        self.state.add_delivery(rec)
        return rec

    # -- scheduling ----------------------------------------------------------------------------
    def schedule(self, rec, delay_ms=None):
        if delay_ms is None:
            delay_ms = self.state.c("callback_delay_ms")
        rec["dueAt"] = time.time() + delay_ms / 1000.0
        with self._cv:
            heapq.heappush(self._heap, (rec["dueAt"], next(self._n), rec))
            self._cv.notify()

    def _run(self):
        while True:
            with self._cv:
                while not self._stop and (not self._heap or self._heap[0][0] > time.time()):
                    timeout = None if not self._heap else max(0.0, self._heap[0][0] - time.time())
                    self._cv.wait(timeout)
                if self._stop:
                    return
                _, _, rec = heapq.heappop(self._heap)
                self._inflight += 1
            self._pool.submit(self._deliver_async, rec)

    def _deliver_async(self, rec):
        try:
            self.deliver(rec)
            st = rec["status"]
            if (st is None or not 200 <= st < 300) and rec["attempts"] <= self.state.c("redeliver_max") \
                    and self.state.c("redeliver_after_ms") > 0:
                rec["state"] = "redeliver-pending"
                self.schedule(rec, self.state.c("redeliver_after_ms"))
        finally:
            with self._cv:
                self._inflight -= 1

    def pending(self):
        with self._cv:
            return len(self._heap) + self._inflight

    def stop(self):
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the actual send -----------------------------------------------------------------------
    def deliver(self, rec, body_text=None):
        """Send now; fills rec's status/response/error. Returns rec."""
        mode = self.state.c("delivery")
        rec["mode"], rec["attempts"] = mode, rec["attempts"] + 1
        start = time.time()
        try:
            if mode == "sql":
                rec["status"], rec["response"] = self._via_sql(rec)
            elif mode == "http":
                rec["status"], rec["response"] = self._via_http(rec, body_text)
            else:
                rec["status"], rec["response"] = None, None
            rec["error"] = None
            rec["state"] = "recorded" if mode == "none" else "delivered"
        except Exception as exc:  # noqa: BLE001 - recorded for the test to see
            rec["error"] = f"{type(exc).__name__}: {exc}".strip()
            rec["state"] = "error"
        rec["deliveredAt"] = time.time()
        rec["elapsedMs"] = round((rec["deliveredAt"] - start) * 1000, 3)
        return rec

    def _conn(self):
        if psycopg2 is None:
            raise RuntimeError("delivery=sql needs python3-psycopg2 (apt-get install python3-psycopg2)")
        dsn = self.state.c("dsn")
        if not dsn:
            raise RuntimeError("delivery=sql needs a DSN (--dsn or config dsn)")
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or getattr(self._local, "dsn", None) != dsn:
            conn = psycopg2.connect(dsn, application_name="abdm_sim")
            conn.autocommit = True   # receive() runs as its own transaction, as a web request would
            self._local.conn, self._local.dsn = conn, dsn
        return conn

    def _via_sql(self, rec):
        fn = self.state.c("receive_function")
        if not all(part.isidentifier() for part in fn.split(".")):
            raise ValueError(f"receive_function {fn!r} is not a plain (schema.)name")
        try:
            conn = self._conn()
            with conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {fn}(%s, %s::jsonb, %s::jsonb)",
                            (rec["path"], json.dumps(rec["headers"]), json.dumps(rec["body"])))
                row = cur.fetchone()
        except psycopg2.Error as exc:
            conn = getattr(self._local, "conn", None)
            if conn is not None and (conn.closed or isinstance(exc, psycopg2.OperationalError)):
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
                self._local.conn = None
            raise RuntimeError(f"SQL {getattr(exc, 'pgcode', None) or ''} {str(exc).strip()}") from None
        if row is None or len(row) < 2:
            raise RuntimeError(f"{fn} returned {row!r}, expected (status, body)")
        return row[0], row[1]

    def _via_http(self, rec, body_text=None):
        """http.client rather than urllib: urllib rewrites header names (REQUEST-ID -> Request-id)
        and the point is to send them exactly as the gateway does."""
        base = self.state.c("bridge_url") or self.state.bridge.get("url")
        if not base:
            raise RuntimeError("delivery=http needs bridge_url (config or PATCH /gateway/v3/bridge/url)")
        u = urllib.parse.urlsplit(base.rstrip("/") + rec["path"])
        data = body_text.encode() if body_text is not None else json.dumps(rec["body"]).encode()
        cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = cls(u.hostname, u.port, timeout=self.state.c("delivery_timeout_s"))
        try:
            conn.request("POST", u.path + (f"?{u.query}" if u.query else ""), body=data, headers=rec["headers"])
            r = conn.getresponse()
            status, raw = r.status, r.read()
        finally:
            conn.close()
        try:
            return status, (json.loads(raw) if raw.strip() else None)
        except ValueError:
            return status, {"_raw": raw[:4096].decode("utf-8", "replace")}
