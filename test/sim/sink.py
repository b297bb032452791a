#!/usr/bin/python3
"""A fast loopback HTTP sink for the sender benchmark (issue: 20,000 outbox rows to a sink that
answers 202 at once, and to one that waits 20 ms): no validation, no callbacks — only counting.

  /usr/bin/python3 test/sim/sink.py --port 0 --port-file /tmp/sink.port [--delay-ms 20]

- POST .../gateway/v3/sessions answers 200 with a session (accessToken "sink-token"), so a sender
  can point abdm_hip.gateway_url at http://127.0.0.1:PORT/api/hiecm unchanged.
- Every other request answers --status (default 202, empty body) after --delay-ms.
- GET /_sink/stats: counts (total, per path, distinct REQUEST-IDs, duplicates), first/last
  arrival, rate, peak concurrency and connections; POST /_sink/reset clears them.
HTTP/1.1 keep-alive and pipelining; one asyncio loop, no threads. Standard library only.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time

SESSION = json.dumps({"accessToken": "sink-token", "expiresIn": 1200, "refreshExpiresIn": 1800,
                      "refreshToken": "sink-refresh", "tokenType": "bearer"}).encode()
REASONS = {200: b"OK", 201: b"Created", 202: b"Accepted", 204: b"No Content", 400: b"Bad Request",
           401: b"Unauthorized", 429: b"Too Many Requests", 500: b"Internal Server Error",
           503: b"Service Unavailable"}


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.total = 0
        self.by_path = {}
        self.request_ids = set()
        self.duplicates = 0
        self.first = self.last = None
        self.inflight = self.peak_inflight = 0
        self.connections_total = 0
        self.bytes_in = 0

    def view(self, open_connections):
        span = (self.last - self.first) if self.first is not None and self.last != self.first else None
        return {"total": self.total, "byPath": self.by_path, "distinctRequestIds": len(self.request_ids),
                "duplicateRequestIds": self.duplicates, "first": self.first, "last": self.last,
                "ratePerS": round((self.total - 1) / span, 1) if span else None,
                "peakInflight": self.peak_inflight, "connectionsTotal": self.connections_total,
                "connectionsOpen": open_connections, "bytesIn": self.bytes_in}


class SinkProtocol(asyncio.Protocol):
    def __init__(self, sink):
        self.sink = sink
        self.buf = bytearray()
        self.transport = None
        self.continued = False

    def connection_made(self, transport):
        self.transport = transport
        self.sink.open += 1
        self.sink.stats.connections_total += 1

    def connection_lost(self, exc):
        self.sink.open -= 1

    def data_received(self, data):
        buf = self.buf
        buf += data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(buf[:end]).split(b"\r\n")
            try:
                method, target, version = lines[0].split(b" ", 2)
            except ValueError:
                self.transport.close()
                return
            # HTTP/1.0 closes unless the client asked for keep-alive (then say so, as ab expects).
            http10 = version.strip() == b"HTTP/1.0"
            clen, rid, expect, close, keep = 0, None, False, http10, False
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                k = k.strip().lower()
                if k == b"content-length":
                    clen = int(v)
                elif k == b"request-id":
                    rid = v.strip()
                elif k == b"expect" and b"100-continue" in v.lower():
                    expect = True
                elif k == b"connection":
                    if b"close" in v.lower():
                        close = True
                    elif http10 and b"keep-alive" in v.lower():
                        close, keep = False, True
            total = end + 4 + clen
            if len(buf) < total:
                if expect and not self.continued:
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.continued = True
                return
            body = bytes(buf[end + 4:total])
            del buf[:total]
            self.continued = False
            self.sink.handle(self.transport, method, target.decode("latin-1"), rid, body, close, keep)


class Sink:
    def __init__(self, status, delay_ms):
        self.status, self.delay = status, delay_ms / 1000.0
        self.stats = Stats()
        self.open = 0
        self.loop = None

    @staticmethod
    def response(status, body=b"", ctype=b"application/json", keep=False):
        head = b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (status, REASONS.get(status, b"Status"), len(body))
        if keep:
            head += b"Connection: keep-alive\r\n"
        if body:
            head += b"Content-Type: " + ctype + b"\r\n"
        return head + b"\r\n" + body

    def handle(self, transport, method, path, rid, body, close, keep):
        path = path.split("?", 1)[0]
        if path.startswith("/_sink/"):
            if path == "/_sink/reset" and method == b"POST":
                self.stats.reset()
            out = json.dumps(self.stats.view(self.open)).encode()
            transport.write(self.response(200, out, keep=keep))
            if close:
                transport.close()
            return
        st = self.stats
        now = time.time()
        if st.first is None:
            st.first = now
        st.last = now
        st.total += 1
        st.bytes_in += len(body)
        st.by_path[path] = st.by_path.get(path, 0) + 1
        if rid is not None:
            if rid in st.request_ids:
                st.duplicates += 1
            else:
                st.request_ids.add(rid)
        if path.endswith("/gateway/v3/sessions"):
            transport.write(self.response(200, SESSION, keep=keep))
            if close:
                transport.close()
            return
        payload = self.response(self.status, keep=keep)
        if self.delay <= 0:
            transport.write(payload)
            if close:
                transport.close()
            return
        st.inflight += 1
        if st.inflight > st.peak_inflight:
            st.peak_inflight = st.inflight

        def answer():
            st.inflight -= 1
            if not transport.is_closing():
                transport.write(payload)
                if close:
                    transport.close()
        self.loop.call_later(self.delay, answer)


async def serve(args):
    sink = Sink(args.status, args.delay_ms)
    sink.loop = asyncio.get_running_loop()
    server = await sink.loop.create_server(lambda: SinkProtocol(sink), "127.0.0.1", args.port,
                                           backlog=1024, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"abdm sink listening port={port} status={args.status} delay_ms={args.delay_ms}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        sink.loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--status", type=int, default=202)
    p.add_argument("--delay-ms", type=float, default=0.0)
    asyncio.run(serve(p.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
