"""The HTTP plumbing shared by the simulator's servers: request parsing, JSON replies, routing,
fault application and recording. Route modules (gateway_routes, hiu, control) only see `Request`
objects and return `Response` objects or raise `ApiError`.

Uses http.server with HTTP/1.1 keep-alive (every reply carries Content-Length), so a client that
reuses connections (libcurl) behaves as it would against the real gateway.
"""

import json
import socket
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 512 * 1024 * 1024  # a 200 MB transfer is ~270 MB of base64; refuse beyond that


class ApiError(Exception):
    """An error reply. body defaults to the V3 envelope {"error": {"code", "message"}}
    (NHA ABDM M2 sandbox documentation v2.8, error tables)."""

    def __init__(self, status, code, message, body=None, headers=None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.body = body if body is not None else {"error": {"code": code, "message": message}}
        self.headers = headers or {}


class Response:
    def __init__(self, status=202, body=None, headers=None, raw=None):
        self.status, self.body, self.headers, self.raw = status, body, headers or {}, raw
        self.cut = False  # a "cut_response" fault: the connection closes halfway through this reply


class Request:
    def __init__(self, handler, method, path, query, headers, raw_body):
        self.handler = handler
        self.method = method
        self.path = path                  # full path, no query
        self.query = query                # dict of lists
        self.headers = headers            # list of (name, value) as received
        self.raw_body = raw_body
        self._hmap = {}
        for k, v in headers:
            self._hmap.setdefault(k.lower(), v)
        self.route = None                 # route name, set by the router
        self.rel_path = path              # path relative to the server's base, set by the router
        self.fault = None                 # the fault rule applied to this request, if any
        self.record = {}                  # extra fields for the request log (notes, errors, ...)
        self.received_at = time.time()

    def header(self, name, default=None):
        return self._hmap.get(name.lower(), default)

    def headers_dict(self):
        return {k: v for k, v in self.headers}

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def json(self, required=True):
        """The body as JSON; ABDM-1064 "Request body missing" for an empty or unparsable body
        (NHA ABDM M2 sandbox documentation v2.8, §4.3.1 error table)."""
        if not hasattr(self, "_json"):
            if not self.raw_body.strip():
                if required:
                    raise ApiError(400, "ABDM-1064", "Request body missing")
                self._json = None
            else:
                try:
                    self._json = json.loads(self.raw_body.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise ApiError(400, "ABDM-1064", f"Request body is not JSON: {exc}") from None
        return self._json

    def json_or_raw(self):
        try:
            return self.json(required=False)
        except ApiError:
            return {"_raw": self.raw_body[:4096].decode("utf-8", "replace")}


class Router:
    """Exact-path routes (plus prefix routes for the control API) under an optional base path."""

    def __init__(self):
        self.exact = {}     # (method, path) -> (name, fn)
        self.prefix = []    # (method, prefix, name, fn)

    def add(self, method, path, name, fn):
        self.exact[(method, path)] = (name, fn)

    def add_prefix(self, method, prefix, name, fn):
        self.prefix.append((method, prefix, name, fn))

    def match(self, method, path):
        hit = self.exact.get((method, path))
        if hit:
            return hit
        for m, prefix, name, fn in self.prefix:
            if m == method and path.startswith(prefix):
                return name, fn
        if any(p == path for (_, p) in self.exact) or any(path.startswith(p) for (_, p, _, _) in self.prefix):
            return "method-not-allowed", None
        return None, None


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class SimServer(ThreadingHTTPServer):
    """A threading server that remembers its open client sockets, so that close_all() really takes
    the endpoint down (keep-alive connections included): that is how "HIU down" is simulated."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, handler_cls, app):
        self.app = app              # an object with .dispatch(request) -> Response
        self._clients = set()
        self._clients_lock = threading.Lock()
        super().__init__(addr, handler_cls)

    def process_request(self, request, client_address):
        with self._clients_lock:
            self._clients.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._clients_lock:
            self._clients.discard(request)
        super().shutdown_request(request)

    def close_all(self):
        self.shutdown()
        self.server_close()
        with self._clients_lock:
            clients = list(self._clients)
        for s in clients:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "abdm-sim/1"

    def log_message(self, fmt, *args):  # quiet by default; the app records requests itself
        if getattr(self.server.app, "verbose", False):
            super().log_message(fmt, *args)

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "ABDM-9999", "Request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "ABDM-9999", "Request body too large")
        return self.rfile.read(length) if length else b""

    def _handle(self):
        parsed = urllib.parse.urlsplit(self.path)
        try:
            body = self._read_body()
        except ApiError as exc:
            self.close_connection = True
            self.send(Response(exc.status, exc.body))
            return
        except (ValueError, OSError):
            self.close_connection = True
            return
        req = Request(self, self.command, parsed.path, urllib.parse.parse_qs(parsed.query),
                      list(self.headers.items()), body)
        resp = self.server.app.dispatch(req)
        if resp is None:   # a "drop" fault: close without answering
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(resp)

    def send(self, resp):
        if resp.raw is not None:
            payload = resp.raw
        elif resp.body is None:
            payload = b""
        else:
            payload = json_bytes(resp.body)
        try:
            self.send_response(resp.status)
            if payload:
                self.send_header("Content-Type", resp.headers.pop("Content-Type", "application/json"))
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            if resp.cut:
                # Status line and headers, then half the body (at least one byte short), then gone.
                self.end_headers()
                self.wfile.write(payload[:max(0, len(payload) // 2)] if len(payload) > 1 else b"")
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.end_headers()
            if payload and self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def start_server(port, app, host="127.0.0.1"):
    srv = SimServer((host, port), Handler, app)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                         name=f"http-{srv.server_address[1]}", daemon=True)
    t.start()
    return srv


class Listener:
    """A port that can be closed (clients get "connection refused", keep-alive connections are cut)
    and opened again on the same number: how "HIU down" and "gateway down" are simulated."""

    def __init__(self, app, port=0):
        self.app = app
        self.port = port
        self._server = None
        self._lock = threading.Lock()

    def up(self):
        with self._lock:
            if self._server is None:
                self._server = start_server(self.port, self.app)
                self.port = self._server.server_address[1]
            return self.port

    def down(self):
        with self._lock:
            srv, self._server = self._server, None
        if srv is not None:
            srv.close_all()

    @property
    def is_up(self):
        return self._server is not None


def run_route(fn, req):
    """Call a route function, turning ApiError into its reply and anything else into a 500
    whose traceback is kept in the request record (a simulator bug must be visible, not silent)."""
    try:
        resp = fn(req)
        return resp if resp is not None else Response(202)
    except ApiError as exc:
        req.record["error"] = {"status": exc.status, "code": exc.code, "message": exc.message}
        return Response(exc.status, exc.body, dict(exc.headers))
    except Exception as exc:  # noqa: BLE001 - reported, never swallowed
        req.record["error"] = {"status": 500, "code": "SIM-BUG", "message": repr(exc),
                               "traceback": traceback.format_exc()}
        return Response(500, {"error": {"code": "SIM-BUG", "message": repr(exc)}})
