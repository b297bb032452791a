#!/usr/bin/python3
r"""abdm_sim — a local ABDM V3 gateway (HIE-CM) and HIU for testing the abdm_hip extension.

  /usr/bin/python3 test/sim/abdm_sim.py --port 0 --port-file /tmp/sim.port \
      --delivery sql --dsn "dbname=hmis host=/tmp port=5433"

Listens on 127.0.0.1 only. The gateway lives under <base-path> (default /api/hiecm) on --port, the
control API under /_sim/ on the same port and on --control-port (which stays up while the gateway
port is taken down), the HIU's dataPushUrl on --hiu-port. See README.md.
Only the standard library plus Debian's python3-cryptography and python3-psycopg2.
"""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from control import Control  # noqa: E402
from delivery import Deliverer  # noqa: E402
from gateway_routes import Gateway  # noqa: E402
from hiu import Hiu, summarise  # noqa: E402
from sim_app import App  # noqa: E402
from sim_http import Listener, Router  # noqa: E402
from sim_state import DEFAULTS, State  # noqa: E402
from sim_tokens import CallbackSigner  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="gateway + control port (0 = any free port)")
    p.add_argument("--hiu-port", type=int, default=0, help="HIU dataPushUrl port (0 = any free port)")
    p.add_argument("--control-port", type=int, default=0, help="control-API-only port (0 = any free port)")
    p.add_argument("--port-file", help="write the gateway port number here once listening")
    p.add_argument("--info-file", help="write a JSON object with every port and URL here once listening")
    p.add_argument("--config", help="JSON file of settings (keys as in GET /_sim/config)")
    p.add_argument("--client-id", help="accepted clientId (with --client-secret; replaces the default)")
    p.add_argument("--client-secret")
    p.add_argument("--hip-id", action="append", help="known HIP id (repeatable); none = accept any")
    p.add_argument("--cm-id", help="X-CM-ID expected (default sbx)")
    p.add_argument("--base-path", help="gateway base path (default /api/hiecm)")
    p.add_argument("--expires-in", type=int, help="session expiresIn seconds (default 1200)")
    p.add_argument("--delivery", choices=["none", "sql", "http"],
                   help="how messages reach the HIP (default: sql with --dsn, http with --bridge-url, else none)")
    p.add_argument("--dsn", help="libpq DSN for --delivery sql")
    p.add_argument("--bridge-url", help="HIP bridge base URL for --delivery http")
    p.add_argument("--callback-delay-ms", type=int, help="delay before callbacks (default 100)")
    p.add_argument("--verbose", action="store_true", help="log every HTTP request on stderr")
    return p.parse_args(argv)


def build_settings(args):
    settings = {}
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            settings.update(json.load(fh))
    if args.client_id or args.client_secret:
        if not (args.client_id and args.client_secret):
            sys.exit("abdm_sim: --client-id and --client-secret go together")
        settings["clients"] = {args.client_id: args.client_secret}
    for arg, key in (("hip_id", "hip_ids"), ("cm_id", "cm_id"), ("base_path", "base_path"),
                     ("expires_in", "expires_in"), ("delivery", "delivery"), ("dsn", "dsn"),
                     ("bridge_url", "bridge_url"), ("callback_delay_ms", "callback_delay_ms")):
        v = getattr(args, arg)
        if v is not None:
            settings[key] = v
    if "delivery" not in settings:   # the HMIS way (SQL) whenever a database is named
        settings["delivery"] = "sql" if settings.get("dsn") else "http" if settings.get("bridge_url") else "none"
    if settings.get("hip_ids") and "default_hip_id" not in settings:
        settings["default_hip_id"] = settings["hip_ids"][0]
    return settings


def write_atomically(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


class Simulator:
    """Everything wired together; also usable in-process.

    Three listeners on 127.0.0.1: the gateway port (gateway routes + control API + hooks), the HIU
    port (dataPushUrl) and the control port (control API only, so it stays reachable while the
    gateway port is down)."""

    def __init__(self, settings=None, port=0, hiu_port=0, control_port=0, verbose=False):
        self.state = st = State(settings)
        base = st.c("base_path").rstrip("/")
        self.deliverer = st.deliverer = Deliverer(st)
        hiu = Hiu(st)
        self.listeners = {}
        control = Control(st, self.listeners)

        gw_router = Router()
        Gateway(st).register(gw_router, base)
        control.register(gw_router)
        hiu_router = Router()
        hiu.register(hiu_router)
        ctl_router = Router()
        control.register(ctl_router)

        def app(router, name, **kw):
            a = App(st, router, name, **kw)
            a.verbose = verbose
            return a

        self.listeners["gateway"] = Listener(app(gw_router, "gateway", base_path=base), port)
        self.listeners["hiu"] = Listener(app(hiu_router, "hiu", body_summary=summarise), hiu_port)
        self.control_listener = Listener(app(ctl_router, "control"), control_port)
        for listener in (*self.listeners.values(), self.control_listener):
            listener.up()
        self.port = self.listeners["gateway"].port
        self.hiu_port = self.listeners["hiu"].port
        self.control_port = self.control_listener.port
        root = f"http://127.0.0.1:{self.port}"
        st.urls = {"gateway": root + base, "root": root, "control": f"http://127.0.0.1:{self.control_port}",
                   "hiu_push": f"http://127.0.0.1:{self.hiu_port}/hiu/data-push", "hooks": root + "/hooks"}
        st.signer = CallbackSigner(root + "/auth/realms/central-registry")

    def info(self):
        return {"port": self.port, "hiuPort": self.hiu_port, "controlPort": self.control_port,
                **self.state.urls, "pid": os.getpid()}

    def stop(self):
        self.deliverer.stop()
        for listener in (*self.listeners.values(), self.control_listener):
            listener.down()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = build_settings(args)
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        sys.exit(f"abdm_sim: unknown settings {sorted(unknown)}")
    sim = Simulator(settings, args.port, args.hiu_port, args.control_port, args.verbose)
    info = sim.info()
    if args.info_file:
        write_atomically(args.info_file, json.dumps(info, indent=1) + "\n")
    if args.port_file:
        write_atomically(args.port_file, f"{sim.port}\n")
    print(f"abdm_sim listening port={sim.port} hiu_port={sim.hiu_port} control_port={sim.control_port} "
          f"gateway={info['gateway']} control={info['control']}/_sim hiu={info['hiu_push']} "
          f"delivery={sim.state.c('delivery')}", flush=True)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
