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
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
from harness import HIP, Env, q, q1, wait_until  # noqa: E402

RECORDS = os.path.join(ROOT, "test", "data", "fhir", "records")


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
    before = rss_kb(pid)
    r = env.c.hi_request(consentId=cid)
    t = env.c.wait_for_transfer(r["transactionId"], timeout=600)
    peak = rss_kb(pid)
    return n, t["summary"]["plaintextBytes"], before, peak, t["summary"]["requestToNotifyMs"]


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


def main():
    env = Env(callback_delay_ms=0)
    out = {}
    try:
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
        env.fresh()
        rate = sender_rate(env, 2000)
        out["sender_rate_per_s"] = rate
        print(f"sender rate: {rate:.0f} outbox rows/s delivered (2000 sms/notify2, trigger to 'sent')", flush=True)
        total = int(os.environ.get("ABDM_BENCH_TRANSFER_MB", "200"))
        env.fresh()
        n, plain, before, peak, ms = transfer_memory(env, total, 5)
        out["memory"] = {"care_contexts": n, "plaintext_bytes": plain, "rss_before_kb": before, "peak_rss_kb": peak, "ms": ms}
        print(f"transfer memory: {plain / 1e6:.0f} MB in {n} bundles pushed in {ms / 1000:.1f} s; "
              f"transfer worker peak RSS {peak / 1024:.0f} MB (was {before / 1024:.0f} MB before)", flush=True)
    finally:
        env.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
