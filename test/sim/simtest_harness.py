#!/usr/bin/python3
"""What the simulator's self-tests share (test_sim_gateway.py, test_sim_hiecm.py): one simulator
per test module, delivering over HTTP to a bridge run by the test, and helpers that call it as a
HIP would. A test module imports everything from here and starts the simulator with
start_module() / stop_module() (its own setUpModule / tearDownModule), then reads `SIM`, `BRIDGE`
and `C` from this module."""

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fidelius_py as F  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from sim_state import now_iso  # noqa: E402
from simclient import SimError, SimProcess  # noqa: E402

HIP = "HIP_A"
CLIENT, SECRET = "SBX_TEST", "s3cret"


class Bridge:
    """A stand-in for the HIP's bridge: records every gateway -> HIP call, answers `status`."""

    def __init__(self):
        self.calls, self.status, self.lock = [], 202, threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.calls.append({"path": self.path, "headers": dict(self.headers.items()),
                                        "body": json.loads(body) if body else None})
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"

    def wait(self, path, n=1, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hits = [c for c in self.calls if c["path"] == path]
            if len(hits) >= n:
                return hits
            time.sleep(0.02)
        raise AssertionError(f"no {n} call(s) to {path} on the bridge; got {[c['path'] for c in self.calls]}")

    def wait_for(self, pred, timeout=10):
        """The single call matching pred (fails on none or several)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hits = [c for c in self.calls if pred(c)]
            if hits:
                time.sleep(0.1)   # a second (wrong) delivery would arrive about now
                with self.lock:
                    hits = [c for c in self.calls if pred(c)]
                assert len(hits) == 1, f"{len(hits)} matching calls"
                return hits[0]
            time.sleep(0.02)
        raise AssertionError("no matching call on the bridge")

    def count(self, path):
        with self.lock:
            return sum(1 for c in self.calls if c["path"] == path)


SIM = BRIDGE = C = None


def start_module():
    global SIM, BRIDGE, C
    BRIDGE = Bridge()
    SIM = SimProcess(settings={"hip_ids": [HIP, "HIP_B"], "callback_delay_ms": 10,
                               "generate_token_dup_window_s": 2},
                     client_id=CLIENT, client_secret=SECRET, delivery="http", bridge_url=BRIDGE.url)
    C = SIM.client


def stop_module():
    SIM.stop()
    BRIDGE.srv.shutdown()
    BRIDGE.srv.server_close()


def gw_headers(token=None, **extra):
    h = {"REQUEST-ID": str(uuid.uuid4()), "TIMESTAMP": now_iso(), "X-CM-ID": "sbx",
         "Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    for k, v in extra.items():
        k = k.replace("_", "-")
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    return h


def call(path, body=None, headers=None, method="POST", raw=None, url=None):
    """(status, parsed body, response headers)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request((url or C.gateway_url) + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, payload, rh = r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        status, payload, rh = exc.code, exc.read(), dict(exc.headers)
    return status, (json.loads(payload) if payload else None), rh


def session(client=CLIENT, secret=SECRET):
    st, body, _ = call("/gateway/v3/sessions", {"clientId": client, "clientSecret": secret,
                                                "grantType": "client_credentials"}, gw_headers())
    assert st == 200, (st, body)
    return body["accessToken"]


def code_of(body):
    return (body or {}).get("error", {}).get("code")


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def gen_token(token, address, hip=HIP, name="Hina Patel", gender="F", yob=1990, number=None, rid=None):
    body = {"abhaAddress": address, "name": name, "gender": gender, "yearOfBirth": yob}
    if number:
        body["abhaNumber"] = number
    h = gw_headers(token, X_HIP_ID=hip)
    if rid:
        h["REQUEST-ID"] = rid
    return call("/v3/token/generate-token", body, h), h["REQUEST-ID"]


def uniq(prefix="pt"):
    return f"{prefix}{uuid.uuid4().hex[:10]}@sbx"


def cc_entry(pref, hi_type, refs, count=None):
    return {"referenceNumber": pref, "display": "Patient", "hiType": hi_type,
            "careContexts": [{"referenceNumber": r, "display": f"Visit {r}"} for r in refs],
            "count": len(refs) if count is None else count}
