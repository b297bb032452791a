#!/usr/bin/python3
"""Client for the simulator's control API (/_sim/...), for tests, the demo and benchmarks.

In Python:
    sys.path.insert(0, "test/sim"); from simclient import SimProcess
    with SimProcess(delivery="sql", dsn="dbname=hmis port=5433") as sim:
        sim.client.add_fault("/v3/token/generate-token", status=500, times=2)
        ...
        sim.client.wait_for_deliveries(kind="on-generate-token", count=1)

From a shell (URL from --url, --port, --port-file, or $ABDM_SIM_URL):
    simclient.py --port-file /tmp/sim.port health
    simclient.py --port-file /tmp/sim.port cm consent-notify '{"abhaAddress": "a@sbx", "careContexts": [...]}'
    simclient.py --port-file /tmp/sim.port requests --route generate-token
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"


class SimError(Exception):
    def __init__(self, status, body):
        super().__init__(f"simulator answered {status}: {body}")
        self.status, self.body = status, body


class SimClient:
    def __init__(self, url=None, port=None, timeout=60):
        if url is None:
            url = f"http://127.0.0.1:{port}" if port else os.environ.get("ABDM_SIM_URL")
        if not url:
            raise ValueError("SimClient needs url=, port= or $ABDM_SIM_URL")
        self.url = url.rstrip("/")
        if self.url.endswith("/_sim"):
            self.url = self.url[: -len("/_sim")]
        self.timeout = timeout
        self._urls = None

    # -- transport -----------------------------------------------------------------------------
    def call(self, method, path, body=None, query=None):
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise SimError(exc.code, parsed) from None
        return json.loads(raw) if raw else None

    def get(self, path, **query):
        return self.call("GET", path, query=query)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    # -- state ---------------------------------------------------------------------------------
    def health(self):
        return self.get("/_sim/health")

    @property
    def urls(self):
        if self._urls is None:
            self._urls = self.health()["urls"]
        return self._urls

    @property
    def gateway_url(self):
        """What abdm_hip.gateway_url should be set to."""
        return self.urls["gateway"]

    @property
    def hiu_push_url(self):
        return self.urls["hiu_push"]

    def config(self):
        return self.get("/_sim/config")

    def set_config(self, **settings):
        return self.post("/_sim/config", settings)

    def requests(self, route=None, since=None, bodies=True, **filters):
        return self.get("/_sim/requests", route=route, since=since, bodies=None if bodies else "0", **filters)

    def deliveries(self, kind=None, since=None, **filters):
        return self.get("/_sim/deliveries", kind=kind, since=since, **filters)

    def clear(self, keep=None):
        return self.post("/_sim/clear", {} if keep is None else {"keep": list(keep)})

    # -- faults and tokens ---------------------------------------------------------------------
    def add_fault(self, path, **rule):
        """e.g. add_fault("/v3/token/generate-token", status=500, times=3);
        add_fault("*", delay_ms=2000); add_fault("/hip/v3/link/carecontext", error_envelope=True);
        add_fault("/v3/token/generate-token", callback={"error": {"code": "ABDM-1027", "message": "…"}})"""
        return self.post("/_sim/faults", {"path": path, **rule})[0]

    def faults(self):
        return self.get("/_sim/faults")

    def clear_faults(self, rule_id=None):
        return self.post("/_sim/faults/clear", {} if rule_id is None else {"id": rule_id})

    def set_rate_limits(self, **limits):
        """e.g. set_rate_limits(**{"generate-token": 100, "link-carecontext": {"rate": 50, "burst": 10}});
        None or 0 removes a route's limit. Above it: HTTP 429 with ABDM-1022."""
        return self.post("/_sim/rate-limits", limits)

    def rate_limits(self):
        """{"limits": {route: {rate, burst, accepted, refused}}, "refused": total ABDM-1022 answers}"""
        return self.get("/_sim/rate-limits")

    def clear_rate_limits(self):
        return self.call("DELETE", "/_sim/rate-limits")

    def expire_sessions(self):
        return self.post("/_sim/sessions/expire")

    def sessions(self):
        return self.get("/_sim/sessions")

    def mint_link_token(self, abha_address, hip_id=None, abha_number=None, ttl=None):
        return self.post("/_sim/link-tokens", {"abhaAddress": abha_address, "hipId": hip_id,
                                               "abhaNumber": abha_number, "ttl": ttl})

    def revoke_link_token(self, link_token=None, hip_id=None, abha_address=None):
        return self.post("/_sim/link-tokens/revoke", {"linkToken": link_token, "hipId": hip_id,
                                                      "abhaAddress": abha_address})

    def link_tokens(self):
        return self.get("/_sim/link-tokens")

    def register_abha(self, *entries):
        """ABHA accounts the gateway knows: {abhaAddress, abhaNumber, name, gender, yearOfBirth}."""
        return self.post("/_sim/abha", list(entries))

    def links(self, **filters):
        return self.get("/_sim/links", **filters)

    def consents(self):
        return self.get("/_sim/consents")

    # -- acting as the HIE-CM ------------------------------------------------------------------
    def cm(self, kind, **params):
        return self.post(f"/_sim/cm/{kind}", params)

    def discover(self, **p):
        return self.cm("discover", **p)

    def link_init(self, **p):
        return self.cm("link-init", **p)

    def link_confirm(self, **p):
        return self.cm("link-confirm", **p)

    def consent_notify(self, **p):
        return self.cm("consent-notify", **p)

    def hi_request(self, **p):
        return self.cm("hi-request", **p)

    def patient_status_notify(self, **p):
        """status DEACTIVATED (default), REACTIVATED or DELETED for abhaAddress."""
        return self.cm("patient-status-notify", **p)

    def phr(self, abha_address):
        """What the patient's PHR app shows for an ABHA address (test/sim/phr.py)."""
        return self.get("/_sim/phr", abhaAddress=abha_address)

    def send(self, path, body, **p):
        return self.cm("send", path=path, body=body, **p)

    # -- HIU -----------------------------------------------------------------------------------
    def hiu_transfers(self, plaintext=False, brief=False):
        return self.get("/_sim/hiu/transfers", plaintext="1" if plaintext else None, brief="1" if brief else None)

    def hiu_key_iv_reuse(self):
        """{transfersChecked, transfersWithReuse, transfers: [{transactionId, keyIvReuse}]}."""
        return self.get("/_sim/hiu/key-iv-reuse")

    def hiu_transfer(self, txn, plaintext=True):
        return self.get(f"/_sim/hiu/transfers/{txn}", plaintext="1" if plaintext else "0")

    def hiu_down(self):
        """Close the HIU port: pushes get "connection refused" until hiu_up()."""
        return self.post("/_sim/hiu/down")

    def hiu_up(self):
        return self.post("/_sim/hiu/up")

    def gateway_down(self):
        """Close the gateway port (connection refused); use a client on the control port."""
        return self.post("/_sim/gateway/down")

    def gateway_up(self):
        return self.post("/_sim/gateway/up")

    # -- waiting -------------------------------------------------------------------------------
    def wait_for(self, fn, timeout=30.0, interval=0.05, what="condition"):
        """Poll fn() until it returns something truthy; raise TimeoutError otherwise."""
        deadline = time.time() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.time() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)

    def wait_for_requests(self, route, count=1, since=None, timeout=30.0, **filters):
        return self.wait_for(lambda: (lambda r: r if len(r) >= count else None)(
            self.requests(route=route, since=since, **filters)), timeout, what=f"{count} x {route}")

    def wait_for_deliveries(self, kind=None, count=1, since=None, timeout=30.0, delivered=True, **filters):
        """Deliveries of a kind that have been attempted (state delivered/recorded/error)."""
        def probe():
            ds = [d for d in self.deliveries(kind=kind, since=since, **filters)
                  if not delivered or d["state"] in ("delivered", "recorded", "error")]
            return ds if len(ds) >= count else None
        return self.wait_for(probe, timeout, what=f"{count} x delivery {kind}")

    def wait_for_answer(self, request_id, timeout=30.0):
        """The HIP's on-* answer to a message the simulator sent (the recorded request)."""
        def probe():
            d = self.deliveries(requestId=request_id)
            if d and d[0]["answers"]:
                seq = d[0]["answers"][0]
                hit = self.requests(since=seq - 1, limit=None)
                return next((r for r in hit if r["seq"] == seq), None)
            return None
        return self.wait_for(probe, timeout, what=f"answer to {request_id}")

    def wait_for_transfer(self, txn, notified=True, pushes=1, timeout=60.0):
        def probe():
            try:
                t = self.hiu_transfer(txn, plaintext=False)
            except SimError:
                return None
            s = t["summary"]
            if s["pushes"] >= pushes and (not notified or s["notified"]):
                return self.hiu_transfer(txn, plaintext=True)
            return None
        return self.wait_for(probe, timeout, interval=0.1, what=f"transfer {txn}")


class SimProcess:
    """Start abdm_sim.py as a child process on free ports; use as a context manager.
    Keyword arguments become command-line options (delivery="sql" -> --delivery sql;
    hip_id=["A", "B"] -> --hip-id A --hip-id B); settings= is written to a --config file."""

    def __init__(self, settings=None, python=PYTHON, log=None, **options):
        self._dir = tempfile.mkdtemp(prefix="abdm_sim_")
        self.info_file = os.path.join(self._dir, "info.json")
        args = [python, os.path.join(HERE, "abdm_sim.py"), "--port", str(options.pop("port", 0)),
                "--info-file", self.info_file]
        if settings:
            cfg = os.path.join(self._dir, "config.json")
            with open(cfg, "w", encoding="utf-8") as fh:
                json.dump(settings, fh)
            args += ["--config", cfg]
        for k, v in options.items():
            for item in (v if isinstance(v, list) else [v]):
                if item is True:
                    args.append("--" + k.replace("_", "-"))
                elif item not in (None, False):
                    args += ["--" + k.replace("_", "-"), str(item)]
        self._log = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=self._log if log else None)
        deadline = time.time() + 20
        while not os.path.exists(self.info_file):
            if self.proc.poll() is not None:
                raise RuntimeError(f"abdm_sim exited with {self.proc.returncode}: {' '.join(args)}")
            if time.time() > deadline:
                self.stop()
                raise RuntimeError("abdm_sim did not start within 20 s")
            time.sleep(0.05)
        with open(self.info_file, encoding="utf-8") as fh:
            self.info = json.load(fh)
        self.client = SimClient(self.info["control"])   # the port that never goes down

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not subprocess.DEVNULL:
            self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# -- CLI ---------------------------------------------------------------------------------------

def _cli(argv):
    p = argparse.ArgumentParser(description="Drive a running abdm_sim through its control API.")
    p.add_argument("--url", help="simulator root URL, e.g. http://127.0.0.1:8089")
    p.add_argument("--port", type=int)
    p.add_argument("--port-file")
    p.add_argument("command", help="health | config | set-config | requests | deliveries | clear | fault | "
                                   "faults | clear-faults | expire-sessions | mint-link-token | abha | links | "
                                   "consents | phr | cm | transfers | transfer | hiu-down | hiu-up | gateway-down | gateway-up | "
                                   "get | post")
    p.add_argument("args", nargs="*", help="command arguments; JSON where a body is expected")
    p.add_argument("--route")
    p.add_argument("--kind")
    p.add_argument("--since", type=int)
    a = p.parse_args(argv)
    port = a.port
    if a.port_file:
        with open(a.port_file, encoding="utf-8") as fh:
            port = int(fh.read().strip())
    c = SimClient(a.url, port)

    def body(i=0):
        return json.loads(a.args[i]) if len(a.args) > i else {}

    cmd = a.command
    table = {
        "health": lambda: c.health(),
        "config": lambda: c.config(),
        "set-config": lambda: c.post("/_sim/config", body()),
        "requests": lambda: c.requests(route=a.route, since=a.since),
        "deliveries": lambda: c.deliveries(kind=a.kind, since=a.since),
        "clear": lambda: c.clear(),
        "fault": lambda: c.post("/_sim/faults", body()),
        "faults": lambda: c.faults(),
        "clear-faults": lambda: c.clear_faults(),
        "expire-sessions": lambda: c.expire_sessions(),
        "mint-link-token": lambda: c.post("/_sim/link-tokens", body()),
        "abha": lambda: c.post("/_sim/abha", body()) if a.args else c.get("/_sim/abha"),
        "links": lambda: c.links(),
        "consents": lambda: c.consents(),
        "phr": lambda: c.phr(a.args[0]),
        "cm": lambda: c.post(f"/_sim/cm/{a.args[0]}", body(1)),
        "transfers": lambda: c.hiu_transfers(),
        "transfer": lambda: c.hiu_transfer(a.args[0]),
        "key-iv-reuse": lambda: c.hiu_key_iv_reuse(),
        "hiu-down": lambda: c.hiu_down(),
        "hiu-up": lambda: c.hiu_up(),
        "gateway-down": lambda: c.gateway_down(),
        "gateway-up": lambda: c.gateway_up(),
        "get": lambda: c.get(a.args[0]),
        "post": lambda: c.post(a.args[0], body(1)),
    }
    if cmd not in table:
        p.error(f"unknown command {cmd}")
    try:
        out = table[cmd]()
    except SimError as exc:
        print(json.dumps({"status": exc.status, "body": exc.body}, indent=1), file=sys.stderr)
        return 1
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
