#!/usr/bin/python3
"""End-to-end benchmarks against a real cluster with the workers and the simulator (bench/run).

  transfer latency   receive() of the HI request → health-information/notify received by the
                     gateway, for 1, 10 and 100 care contexts with realistic FHIR bundles (p50/p99)
  transfer rate      HI requests completed per second with many requests queued at once
  transfer memory    peak RSS of the transfer worker for a ~200 MB transfer
  sender rate        outbox rows delivered per second (sms/notify2 to the simulated gateway)
"""
import base64
import json
import os
import statistics
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import HIP, Env, drop_extension, q, q1, reset_settings, set_settings, wait_until  # noqa: E402

RECORDS = os.path.join(ROOT, "test", "data", "fhir", "records")
# The loopback sink of the sender benchmark (bench/sink/http_sink.cpp, built by bench/run): C++ on
# libmicrohttpd, so the sink's own CPU (≈4 µs a request) is not what the figures measure.
SINK = os.environ.get("ABDM_HTTP_SINK", os.path.join(ROOT, "build-bench", "abdm_http_sink"))


def load_record(hi_type):
    with open(os.path.join(RECORDS, f"{hi_type}.json")) as f:
        return json.load(f)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def setup_patient(env, ref, n_contexts, hi_type="Prescription", record=None):
    db = env.db
    q(db, "INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth) VALUES (%s, %s, 'Bench Patient', 'F', 1980)", HIP, ref)
    rec = record or load_record(hi_type)
    rec["patient"]["ref"] = ref
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types, visit_at)
             SELECT %s, %s, %s || '-' || g, 'Visit ' || g, ARRAY[%s], '2024-03-01'::timestamptz + g * interval '1 hour'
             FROM generate_series(1, %s) g""", HIP, ref, ref, hi_type, n_contexts)
    bundle = q1(db, "SELECT abdm_hip.fhir_document(%s, %s::jsonb) AS b", hi_type, json.dumps(rec))["b"]
    q(db, """INSERT INTO abdm_hip.health_record (hip_id, care_context_ref, hi_type, recorded_at, bundle)
             SELECT %s, %s || '-' || g, %s, '2024-03-01'::timestamptz + g * interval '1 hour', %s::jsonb
             FROM generate_series(1, %s) g""", HIP, ref, hi_type, json.dumps(bundle), n_contexts)
    return len(json.dumps(bundle))


def grant(env, ref, n_contexts, hi_type="Prescription"):
    g = env.c.consent_notify(hipId=HIP, abhaAddress=f"{ref.lower()}@sbx", hiTypes=[hi_type],
                             careContexts=[{"patientReference": ref, "careContextReference": f"{ref}-{i}"}
                                           for i in range(1, n_contexts + 1)])
    env.wait_sent("consent_on_notify", count=len(env.outbox("consent_on_notify")))
    return g["consentId"]


def transfer_latency(env, n_contexts, rounds):
    ref = f"LAT{n_contexts}"
    size = setup_patient(env, ref, n_contexts)
    cid = grant(env, ref, n_contexts)
    times = []
    for _ in range(rounds):
        r = env.c.hi_request(consentId=cid)
        t = env.c.wait_for_transfer(r["transactionId"], timeout=120)
        assert t["summary"]["entries"] == n_contexts and t["summary"]["failed"] == 0, t["summary"]
        times.append(t["summary"]["requestToNotifyMs"])
    return size, times


def transfer_rate(env, n_requests, n_contexts):
    ref = "RATE"
    setup_patient(env, ref, n_contexts)
    cid = grant(env, ref, n_contexts)
    start = time.monotonic()
    txns = [env.c.hi_request(consentId=cid)["transactionId"] for _ in range(n_requests)]
    for t in txns:
        env.c.wait_for_transfer(t, timeout=300)
    return n_requests / (time.monotonic() - start)


def worker_pid(env, kind):
    return q1(env.db, "SELECT pid FROM pg_stat_activity WHERE backend_type = %s", f"abdm_hip {kind}")["pid"]


def rss_kb(pid, field="VmHWM"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def transfer_memory(env, total_mb, bundle_mb):
    """A HealthDocumentRecord per care context carrying a bundle_mb attachment."""
    n = max(1, total_mb // bundle_mb)
    rec = load_record("HealthDocumentRecord")
    raw = b"%PDF-1.4\n" + os.urandom(bundle_mb * 1024 * 1024 * 3 // 4)
    rec["attachments"] = rec["attachments"][:1]
    rec["attachments"][0]["data"] = base64.b64encode(raw).decode()
    setup_patient(env, "MEM", n, hi_type="HealthDocumentRecord", record=rec)
    cid = grant(env, "MEM", n, hi_type="HealthDocumentRecord")
    pid = worker_pid(env, "transfer")
    # Private memory (RssAnon), sampled: VmHWM would count the shared buffers the worker touched.
    before = rss_kb(pid, "RssAnon")
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid, "RssAnon"))
            time.sleep(0.01)
    threading.Thread(target=sample, daemon=True).start()
    r = env.c.hi_request(consentId=cid)
    t = env.c.wait_for_transfer(r["transactionId"], timeout=600)
    done.set()
    return n, t["summary"]["plaintextBytes"], before, peak[0], t["summary"]["requestToNotifyMs"]


def sender_rate(env, rows):
    db = env.db
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, mobile)
             SELECT %s, 'SMS-' || g, 'Patient ' || g, 'M', 1980, (9000000000 + g)::text FROM generate_series(1, %s) g""", HIP, rows)
    start = time.monotonic()
    q(db, """INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
             SELECT %s, 'SMS-' || g, 'SMS-CC-' || g, 'Visit', '{Prescription}' FROM generate_series(1, %s) g""", HIP, rows)
    wait_until(lambda: q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE kind = 'sms_notify2' AND status = 'sent'")["n"] >= rows,
               timeout=600, interval=0.1, what="all sent")
    return rows / (time.monotonic() - start)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def sender_to_sink(env, rows, in_flight, delay_ms):
    """rows outbox rows committed at once → all outcomes recorded; the sink answers 202 after
    delay_ms. Returns (deliveries/s, worker CPU seconds per 1000 deliveries)."""
    import subprocess
    import tempfile
    port_file = tempfile.mktemp()
    sink = subprocess.Popen([SINK, "--port", "0", "--port-file", port_file, "--delay-ms", str(delay_ms)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = wait_until(lambda: open(port_file).read().strip() if os.path.exists(port_file) and open(port_file).read().strip() else None,
                          what="sink port")
        db = env.db
        drop_extension(db)
        q(db, "CREATE EXTENSION abdm_hip")
        q(db, "ALTER SYSTEM SET abdm_hip.gateway_url = %s", f"http://127.0.0.1:{port}/api/hiecm")
        q(db, "ALTER SYSTEM SET abdm_hip.client_id = 'SBX_BENCH'")
        q(db, "ALTER SYSTEM SET abdm_hip.max_in_flight = %s", str(in_flight))
        q(db, "SELECT pg_reload_conf()")
        q(db, "SELECT abdm_hip.set_client_secret('bench-secret')")
        q(db, "INSERT INTO abdm_hip.facility (hip_id, name) VALUES (%s, 'Bench')", HIP)
        time.sleep(0.5)
        pid = q1(db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip sender'")["pid"]
        cpu0 = cpu_seconds(pid)
        q(db, """INSERT INTO abdm_hip.outbox (hip_id, kind, target, body)
                 SELECT %s, 'sms_notify2', '/hip/v3/link/patient/links/sms/notify2',
                        jsonb_build_object('notification', jsonb_build_object('phoneNo', (9000000000 + g)::text,
                                           'hip', jsonb_build_object('id', %s)))
                 FROM generate_series(1, %s) g""", HIP, HIP, rows)
        committed = time.time()  # autocommit: the INSERT has committed when q() returns
        wait_until(lambda: q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE status <> 'pending'")["n"] >= rows,
                   timeout=900, interval=0.2, what="all outcomes recorded")
        # From the commit to the commit of the transaction that recorded the last outcome (with
        # track_commit_timestamp, as for pg_net; else that transaction's now(), sent_at), so
        # neither the INSERT of the rows nor this script's polling interval counts.
        end_sql = ("max(pg_xact_commit_timestamp(xmin))" if q1(db, "SHOW track_commit_timestamp")["track_commit_timestamp"] == "on"
                   else "max(sent_at)")
        elapsed = q1(db, f"SELECT extract(epoch FROM {end_sql})::float8 AS t FROM abdm_hip.outbox")["t"] - committed
        cpu = cpu_seconds(pid) - cpu0
        sent = q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE status = 'sent'")["n"]
        assert sent == rows, f"{sent} of {rows} sent"
        return rows / elapsed, cpu / rows * 1000
    finally:
        sink.terminate()
        sink.wait()
        q(env.db, "ALTER SYSTEM RESET abdm_hip.max_in_flight")
        q(env.db, "SELECT pg_reload_conf()")


def trigger_overhead(env, n):
    """Single-row INSERTs into care_context (as an HMIS does), with and without what the extension
    adds to the insert for linking (the care_context_link_pending_idx entry and the statement
    trigger that wakes the sender), in the same run, passes interleaved: a new visit of a patient
    who has an ABHA address and a valid link token, so every insert with it leads to a real
    link/carecontext call. Each pass uses its own patients, so no pass inherits another's visits."""
    env.fresh()
    db = env.db
    passes = 10
    q(db, """INSERT INTO abdm_hip.patient (hip_id, patient_ref, name, gender, year_of_birth, abha_address)
             SELECT %s, 'TR-' || g, 'Patient ' || g, 'F', 1980, 'trig' || g || '@sbx' FROM generate_series(1, %s) g""",
      HIP, n * passes)
    q(db, """INSERT INTO abdm_hip.link_token (hip_id, abha_address, status, token, expires_at)
             SELECT %s, 'trig' || g || '@sbx', 'valid', abdm_hip_internal.seal_secret('link_token', 'header.payload.sig'),
                    now() + interval '180 days'
             FROM generate_series(1, %s) g""", HIP, n * passes)
    # The sender still turns the new care contexts into link/carecontext rows while the inserts
    # run (as it would in a hospital), but without a client id it defers them (30 s) unsent.
    q(db, "ALTER SYSTEM SET abdm_hip.client_id = ''")
    q(db, "SELECT pg_reload_conf()")
    index_sql = q1(db, "SELECT pg_get_indexdef('abdm_hip.care_context_link_pending_idx'::regclass) AS d")["d"]

    def linking(enable):
        if enable:
            q(db, "UPDATE abdm_hip.care_context SET link_pending = false WHERE link_pending")
            q(db, index_sql)
            q(db, "ALTER TABLE abdm_hip.care_context ENABLE TRIGGER care_context_wake_sender")
        else:
            q(db, "DROP INDEX abdm_hip.care_context_link_pending_idx")
            q(db, "ALTER TABLE abdm_hip.care_context DISABLE TRIGGER care_context_wake_sender")

    def timed(i, enable):
        if not enable:
            linking(False)  # and back on after the pass
        t0 = time.monotonic()
        q(db, f"""DO $$ BEGIN FOR g IN {i * n + 1}..{(i + 1) * n} LOOP
                    INSERT INTO abdm_hip.care_context (hip_id, patient_ref, reference, display, hi_types)
                    VALUES ('{HIP}', 'TR-' || g, 'CC-' || g, 'Visit', '{{Prescription}}');
                  END LOOP; END $$""")
        elapsed = (time.monotonic() - t0) / n * 1e6
        if not enable:
            linking(True)
        return elapsed
    without, with_ = [], []
    for i in range(passes):
        (with_ if i % 2 else without).append(timed(i, bool(i % 2)))
    linked = q1(db, "SELECT count(*) AS n FROM abdm_hip.outbox WHERE kind = 'link_carecontext'")["n"]
    assert linked > 0, "the inserts with the trigger queued no link/carecontext call"
    print("  passes (µs per insert): without", [round(x, 1) for x in without], "with", [round(x, 1) for x in with_], flush=True)
    return statistics.median(without), statistics.median(with_)


def bench_transfer(env, out):
    for n, rounds in ((1, 30), (10, 20), (100, 10)):
        env.fresh()
        size, times = transfer_latency(env, n, rounds)
        out[f"latency_{n}"] = {"p50_ms": statistics.median(times), "p99_ms": pct(times, 99), "rounds": rounds,
                               "bundle_bytes": size}
        print(f"transfer latency, {n:3d} care contexts ({size} B bundles): p50 {statistics.median(times):7.1f} ms, "
              f"p99 {pct(times, 99):7.1f} ms over {rounds} requests", flush=True)
    env.fresh()
    rate = transfer_rate(env, 50, 10)
    out["transfer_rate_per_s"] = rate
    print(f"transfer rate: {rate:.1f} HI requests/s (50 requests queued at once, 10 care contexts each)", flush=True)


def bench_sender(env, out):
    if not os.access(SINK, os.X_OK):
        sys.exit(f"{SINK} is missing: cmake --build build-bench --target abdm_http_sink (bench/run does)")
    env.fresh()
    rate = sender_rate(env, 2000)
    out["sender_rate_per_s"] = rate
    print(f"sender through the full simulator (validation + callbacks into receive()): {rate:.0f} rows/s "
          f"(2000 sms/notify2, trigger to 'sent')", flush=True)
    rows = int(os.environ.get("ABDM_BENCH_SENDER_ROWS", "20000"))
    # ABDM_BENCH_SINK_CASES="0:256 20:64" runs only those (delay ms:in flight) cases.
    cases = [tuple(int(x) for x in c.split(":")) for c in os.environ.get("ABDM_BENCH_SINK_CASES", "").split()] or \
        [(d, f) for d in (0, 20) for f in (1, 16, 64, 256)]
    for delay, inflight in cases:
        if True:
            if delay == 0 and inflight == 1:
                n = rows // 4
            elif delay == 20 and inflight <= 16:
                n = max(200, rows * inflight // 400)  # keep the 20 ms runs to a few seconds
            else:
                n = rows
            rate, cpu = sender_to_sink(env, n, inflight, delay)
            ceiling = f", {100 * rate / (inflight * 1000 / delay):.0f}% of the {inflight * 1000 // delay}/s the cap allows" if delay else ""
            out[f"sender_sink_{delay}ms_{inflight}"] = {"rows": n, "per_s": rate, "cpu_s_per_1000": cpu}
            print(f"sender → sink ({delay:2d} ms), {inflight:3d} in flight: {rate:8.0f} deliveries/s{ceiling}; "
                  f"{cpu:.3f} CPU s per 1000 ({n} rows)", flush=True)


def bench_pgnet(env, out):
    """pg_net, the best-known PostgreSQL HTTP worker, to the same sink in the same run, when the
    server has it (bench/run preloads it if it is installed; this project never installs it)."""
    import subprocess
    import tempfile
    from pgnet_compare import pgnet_to_sink
    rows = int(os.environ.get("ABDM_BENCH_SENDER_ROWS", "20000"))
    for delay in (0, 20):
        port_file = tempfile.mktemp()
        sink = subprocess.Popen([SINK, "--port", "0", "--port-file", port_file, "--delay-ms", str(delay)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = wait_until(lambda: open(port_file).read().strip() if os.path.exists(port_file) else None,
                              what="sink port")
            # Its default batch (200), and 1000: the largest that works with the server's default
            # limit of 1024 open files (pg_net opens a connection per request of a batch).
            for batch in (None, 1000):
                r = pgnet_to_sink(env.db, f"http://127.0.0.1:{port}/hip/v3/link/patient/links/sms/notify2", rows, batch)
                if r is None:
                    print("pg_net: not available on this server; comparison skipped", flush=True)
                    return
                rate, cpu, ok = r
                label = f"batch {batch}" if batch else "defaults"
                out[f"pgnet_sink_{delay}ms_{batch or 'default'}"] = {"rows": rows, "per_s": rate, "cpu_s_per_1000": cpu, "ok": ok}
                print(f"pg_net → sink ({delay:2d} ms), {label:>10}: {rate:8.0f} deliveries/s; {cpu:.3f} CPU s per 1000 "
                      f"({ok} of {rows} delivered)", flush=True)
        finally:
            sink.terminate()
            sink.wait()


def bench_trigger(env, out):
    without, with_ = trigger_overhead(env, 5000)
    out["trigger_us"] = {"without": without, "with": with_}
    print(f"care_context INSERT: {without:.1f} µs without the extension's linking (index entry + wake "
          f"trigger), {with_:.1f} µs with it ({with_ / without:.2f}×; with it each insert leads to a "
          f"link/carecontext call)", flush=True)


def bench_memory(env, out):
    total = int(os.environ.get("ABDM_BENCH_TRANSFER_MB", "200"))
    env.fresh()
    n, plain, before, peak, ms = transfer_memory(env, total, 5)
    out["memory"] = {"care_contexts": n, "plaintext_bytes": plain, "rss_before_kb": before, "peak_rss_kb": peak, "ms": ms}
    print(f"transfer memory: {plain / 1e6:.0f} MB in {n} bundles pushed in {ms / 1000:.1f} s; "
          f"transfer worker private memory peak {peak / 1024:.0f} MB (was {before / 1024:.0f} MB before)", flush=True)


SECTIONS = {"transfer": bench_transfer, "sender": bench_sender, "pgnet": bench_pgnet, "trigger": bench_trigger,
            "memory": bench_memory}


UNLIMITED = {f"abdm_hip.rate_limit_{k}": "0"
             for k in ("generate_token", "link_carecontext", "context_notify", "sms_notify2")}


def main(sections=None, out=None):
    """bench/e2e_bench.py [section ...]: all sections when none is named. Other benchmark scripts
    call it with their own sections (and the start of their JSON summary)."""
    sections = sections or SECTIONS
    names = sys.argv[1:] or list(sections)
    unknown = [n for n in names if n not in sections]
    if unknown:
        sys.exit(f"unknown section(s) {unknown}; choose from {list(sections)}")
    env = Env(callback_delay_ms=0)
    # These figures measure the sender's ceiling: the outbound rate limits per gateway endpoint
    # (abdm_hip.rate_limit_*, 50/s by default) are off, so they stay comparable with earlier runs.
    set_settings(env.db, UNLIMITED)
    out = {} if out is None else out
    try:
        for name in names:
            sections[name](env, out)
    finally:
        reset_settings(env.db, UNLIMITED)
        env.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
