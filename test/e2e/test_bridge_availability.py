#!/usr/bin/python3
"""The listener's port answers through restarts: a client that calls it without pause meets a
503 ("try again") and never a refused or dropped connection while a listener worker restarts
(pg_terminate_backend), because the gate (src/pg/worker_bridge_gate.cpp) holds the port until a
listener is back and hands it over without cutting a request off. After a crash the postmaster
restarts every process; only for that moment (a fraction of a second) is the port closed.

The client sends a request without a token on a new connection every few milliseconds: a listener
answers 401, the gate 503."""
import os
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import bridge_port, connect, postmaster_child, q, run, wait_until  # noqa: E402


def call(port):
    """The status of one POST on a new connection, or the name of what went wrong."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /api/v3/hip/patient/care-context/discover HTTP/1.1\r\nHost: hip\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data[9:12].decode() if data.startswith(b"HTTP/1.1 ") else "no answer"
    except OSError as e:
        return type(e).__name__


class Caller:
    """Calls the port without pause in a thread; results as (seconds since start, status)."""

    def __init__(self, port):
        self.port, self.results, self._stop = port, [], False
        self.t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            self.results.append((time.monotonic() - self.t0, call(self.port)))
            time.sleep(0.005)

    def now(self):
        return time.monotonic() - self.t0

    def stop(self):
        self._stop = True
        self._thread.join()
        return self.results


class PortAlwaysAnswers(unittest.TestCase):
    def setUp(self):
        self.db = connect()
        self.port = bridge_port(self.db)
        self.assertNotEqual(self.port, 0, "the test cluster has a listener (test/lib/cluster.sh)")
        self.assertEqual(call(self.port), "401")

    def tearDown(self):
        self.db.close()

    def listeners_back(self):
        wait_until(lambda: call(self.port) == "401", timeout=30, what="a listener answering again")

    def test_listener_restart_is_covered_by_the_gate(self):
        for _ in range(2):  # twice: the gate steps aside and takes over again
            caller = Caller(self.port)
            time.sleep(0.5)
            q(self.db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'abdm_hip bridge'")
            # The postmaster starts the listeners again after 5 s; meanwhile the gate answers.
            wait_until(lambda: caller.results and caller.results[-1][1] == "401" and
                       any(r == "503" for _, r in caller.results), timeout=30, what="gate, then a listener")
            time.sleep(0.5)
            results = caller.stop()
            counts = {s: sum(1 for _, r in results if r == s) for s in {r for _, r in results}}
            print(f"listener restart: {counts}", file=sys.stderr)
            self.assertEqual({r for _, r in results} - {"401", "503"}, set(),
                             f"every call answered, by a listener (401) or the gate (503): {counts}")
            self.assertGreater(counts.get("503", 0), 10)

    def test_after_a_crash_the_port_is_closed_only_while_the_postmaster_restarts(self):
        caller = Caller(self.port)
        time.sleep(0.5)
        killed_at = caller.now()
        os.kill(postmaster_child("abdm_hip transfer"), signal.SIGKILL)  # a crash: every process restarts
        self.db.close()
        self.db = wait_until(lambda: _try(connect), timeout=60, what="the server after crash recovery")
        self.listeners_back()
        time.sleep(0.5)
        results = caller.stop()
        failed = [(t, r) for t, r in results if r not in ("401", "503")]
        counts = {s: sum(1 for _, r in results if r == s) for s in {r for _, r in results}}
        window = (max(t for t, _ in failed) - killed_at) if failed else 0.0
        print(f"crash: {counts}; unanswered calls within {window:.2f} s of the kill", file=sys.stderr)
        self.assertTrue(all(t >= killed_at - 0.05 for t, _ in failed), failed[:5])
        self.assertLess(window, 2.0, f"the port was closed for longer than the restart: {failed[:5]} ...")
        self.assertEqual(results[-1][1], "401")


def _try(fn):
    try:
        return fn()
    except Exception:  # noqa: BLE001 - the server is still recovering
        return None


if __name__ == "__main__":
    sys.exit(run())
