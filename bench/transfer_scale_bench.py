#!/usr/bin/python3
"""Paged, concurrent transfers at scale (bash bench/run transfer-scale; not part of the tests).

1. burst: 100 HI requests arriving at once, 10 care contexts each (one small Prescription bundle
   per care context, so 10 pages a request at the default of one record per page). Figures:
   requests/s (100 ÷ first request sent → last hi-notify received by the gateway) and p50/p99 of
   each request's time from the HI request to its notify, with abdm_hip.transfer_concurrency = 1
   and = 8 in the same run, side by side. Goals: >= 43 requests/s (4x the 10.8/s of the worker that
   took one request at a time) and p99 < 5 s.
2. big: one request of 1,000 care contexts, ~0.5 MB each (~500 MB in all). Figures: pages, wall
   time (HI request → notify), the transfer worker's peak private memory (sampled
   /proc/<pid>/smaps_rollup Private_Clean + Private_Dirty, and RssAnon), the longest transaction it
   held open (sampled pg_stat_activity.xact_start), and the simulator's own CPU time. Goals:
   < 15 s, < 100 MB, no transaction open longer than 1 s.

Every run is checked from the HIU side (test/sim/hiu_pages.py): every transfer complete, allOk,
no AES-GCM (key, IV) pair used for two entries. Figures are medians of ABDM_TRANSFER_RUNS runs
(default 3). The HIU decrypts every ABDM_HIU_DECRYPT_EVERY-th entry of the big transfer (default
25) so the simulator's Python does not dominate what is measured; the key derivation runs on
OpenSSL (test/sim/fidelius_fast.py).

Run on a private cluster (bench/run does that):
    /usr/bin/python3 bench/transfer_scale_bench.py [burst] [big]
"""
import base64
import concurrent.futures
import os
import statistics
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import connect, q, q1, reset_settings, set_settings, wait_until  # noqa: E402
import e2e_bench  # noqa: E402
from e2e_bench import grant, load_record, pct, setup_patient  # noqa: E402

RUNS = int(os.environ.get("ABDM_TRANSFER_RUNS", "3"))
DECRYPT_EVERY = int(os.environ.get("ABDM_HIU_DECRYPT_EVERY", "25"))
BURST_REQUESTS = int(os.environ.get("ABDM_BURST_REQUESTS", "100"))
BURST_CONTEXTS = 10
BIG_CONTEXTS = int(os.environ.get("ABDM_BIG_CONTEXTS", "1000"))
BIG_RECORD_KB = int(os.environ.get("ABDM_BIG_RECORD_KB", "500"))


def cpu_s(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def private_kb(pid):
    """(Private_Clean + Private_Dirty from smaps_rollup, RssAnon), in kB."""
    priv = anon = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                priv += int(line.split()[1])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                anon = int(line.split()[1])
    return priv, anon


def cluster_cpu_s():
    """CPU seconds used so far by every process of the cluster (postmaster's children: the
    workers, the bridge's receive(), autovacuum, ...), finished children not counted."""
    with open(os.path.join(os.environ["PGDATA"], "postmaster.pid")) as f:
        postmaster = f.readline().strip()
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = f.read().rsplit(")", 1)[1].split()[1]
                if ppid == postmaster:
                    total += cpu_s(int(pid))
            except (OSError, IndexError):
                pass
    return total


def worker_pid(db):
    return wait_until(lambda: (q1(db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'abdm_hip transfer'")
                               or {}).get("pid"), timeout=30, what="the transfer worker")


def hiu_check(env, txns):
    """The HIU's verdict on these transfers: (all complete and allOk, transfers with (key, IV) reuse)."""
    views = {t["transactionId"]: t for t in env.c.hiu_transfers(brief=True)}
    bad = [x for x in txns if not (views.get(x, {}).get("allOk") and views[x].get("complete"))]
    reuse = [x for x in txns if views.get(x, {}).get("keyIvReuse")]
    return bad, reuse, views


def wait_notified(env, txns, timeout):
    def all_in():
        views = {t["transactionId"]: t for t in env.c.hiu_transfers(brief=True)}
        return all(views.get(x, {}).get("summary", {}).get("notified") for x in txns) and views
    return wait_until(all_in, timeout=timeout, interval=0.5, what=f"{len(txns)} notifications")


# -- 1. burst --------------------------------------------------------------------------------------
def burst_once(env, cid, concurrency):
    set_settings(env.db, {"abdm_hip.transfer_concurrency": str(concurrency)})
    time.sleep(0.5)
    env.c.clear(keep=["sessions", "consents"])
    cpu0, sim0, load0 = cluster_cpu_s(), cpu_s(env.sim.proc.pid), os.getloadavg()[0]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:   # "at once": sent in parallel
        txns = list(pool.map(lambda _: env.c.hi_request(consentId=cid)["transactionId"], range(BURST_REQUESTS)))
    views = wait_notified(env, txns, timeout=600)
    # CPU per request: what the figures would be on an idle machine (this one is shared).
    cpu, sim_cpu = cluster_cpu_s() - cpu0, cpu_s(env.sim.proc.pid) - sim0
    lat = [views[x]["summary"]["requestToNotifyMs"] / 1000 for x in txns]
    first = min(views[x]["requestedAt"] for x in txns)
    last = max(views[x]["notifications"][0]["at"] for x in txns)
    bad, reuse, _ = hiu_check(env, txns)
    odd = [x for x in txns if views[x]["summary"]["entries"] != BURST_CONTEXTS]
    for x in odd[:3]:
        v = views[x]
        print(f"    {x}: {v['summary']}, pages {v['pagesReceived']}, missing {v['missingPages']}, "
              f"problems {v['pageProblems']}", flush=True)
        print("      HIP side:", q(env.db, "SELECT r.status, r.page_count, r.date_from, r.date_to, r.error, "
                                         "(SELECT json_agg(p.record_ids) FROM abdm_hip.transfer_page p WHERE "
                                         "p.hip_id = r.hip_id AND p.transaction_id = r.transaction_id) AS pages "
                                         "FROM abdm_hip.hi_request r WHERE r.transaction_id = %s", x), flush=True)
    return {"rate": BURST_REQUESTS / (last - first), "p50": pct(lat, 50), "p99": pct(lat, 99),
            "bad": len(bad), "reuse": len(reuse), "short": len(odd), "load": max(load0, os.getloadavg()[0]),
            "pg_cpu_ms_per_request": cpu * 1000 / BURST_REQUESTS, "sim_cpu_ms_per_request": sim_cpu * 1000 / BURST_REQUESTS, "pushes": sum(views[x]["summary"]["pushes"] for x in txns)}


def bench_burst(env, out):
    env.fresh()
    setup_patient(env, "BURST", BURST_CONTEXTS)
    cid = grant(env, "BURST", BURST_CONTEXTS)
    results = {1: [], 8: []}
    for run in range(RUNS):
        for conc in (1, 8):
            r = burst_once(env, cid, conc)
            results[conc].append(r)
            print(f"  run {run + 1}, transfer_concurrency {conc}: {r['rate']:.1f} requests/s, p50 {r['p50']:.2f} s, "
                  f"p99 {r['p99']:.2f} s, {r['pushes']} pushes; HIU: {r['bad']} not allOk, {r['reuse']} with "
                  f"(key, IV) reuse, {r['short']} short; CPU a request: PostgreSQL {r['pg_cpu_ms_per_request']:.1f} ms, "
                  f"simulator {r['sim_cpu_ms_per_request']:.1f} ms; load average {r['load']:.1f}", flush=True)
    reset_settings(env.db, ["abdm_hip.transfer_concurrency"])
    print(f"burst: {BURST_REQUESTS} HI requests at once, {BURST_CONTEXTS} care contexts each "
          f"(medians of {RUNS} runs)")
    print("  transfer_concurrency | requests/s | p50 s | p99 s | PG CPU ms/request | sim CPU ms/request | "
          "HIU all ok | (key, IV) reuse")
    for conc, rs in results.items():
        med = {k: statistics.median(r[k] for r in rs)
               for k in ("rate", "p50", "p99", "pg_cpu_ms_per_request", "sim_cpu_ms_per_request", "load")}
        ok = all(r["bad"] == 0 and r["short"] == 0 for r in rs)
        reuse = sum(r["reuse"] for r in rs)
        print(f"  {conc:20d} | {med['rate']:10.1f} | {med['p50']:5.2f} | {med['p99']:5.2f} | "
              f"{med['pg_cpu_ms_per_request']:17.1f} | {med['sim_cpu_ms_per_request']:18.1f} | {str(ok):10s} | {reuse}")
        out[f"burst_c{conc}"] = dict(med, hiu_all_ok=ok, key_iv_reuse=reuse,
                                     runs=[{k: round(v, 3) for k, v in r.items()} for r in rs])


# -- 2. one big request ----------------------------------------------------------------------------
def big_record(kb):
    rec = load_record("HealthDocumentRecord")
    rec["attachments"] = rec["attachments"][:1]
    raw = b"%PDF-1.4\n" + os.urandom(kb * 1024 * 3 // 4)  # base64 makes it ~kb kB; random: no compression
    rec["attachments"][0]["data"] = base64.b64encode(raw).decode()
    return rec


def big_once(env, cid, sim_pid):
    db = env.db
    pid = worker_pid(db)
    watcher = connect()
    peak = {"priv": 0, "anon": 0, "xact": 0.0, "samples": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            priv, anon = private_kb(pid)
            peak["priv"], peak["anon"] = max(peak["priv"], priv), max(peak["anon"], anon)
            age = q1(watcher, "SELECT extract(epoch FROM clock_timestamp() - xact_start)::float8 AS s "
                              "FROM pg_stat_activity WHERE pid = %s", pid)
            if age and age["s"] is not None:
                peak["xact"] = max(peak["xact"], age["s"])
            peak["samples"] += 1
            time.sleep(0.01)
    before_priv, before_anon = private_kb(pid)
    sim0, worker0, cluster0, load0 = cpu_s(sim_pid), cpu_s(pid), cluster_cpu_s(), os.getloadavg()[0]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    txn = env.c.hi_request(consentId=cid)["transactionId"]
    views = wait_notified(env, [txn], timeout=900)
    done.set()
    sampler.join()
    watcher.close()
    t = views[txn]
    bad, reuse, _ = hiu_check(env, [txn])
    full = env.c.hiu_transfer(txn, plaintext=False)
    return {"wall_s": t["summary"]["requestToNotifyMs"] / 1000, "pages": t["summary"]["pushes"],
            "entries": t["summary"]["entries"], "checked": t["entriesChecked"],
            "mb": sum(p["bodyBytes"] for p in full["pushes"]) / 1e6,
            "peak_private_mb": peak["priv"] / 1024, "peak_rss_anon_mb": peak["anon"] / 1024,
            "before_private_mb": before_priv / 1024, "before_rss_anon_mb": before_anon / 1024,
            "longest_xact_s": peak["xact"], "samples": peak["samples"],
            "sim_cpu_s": cpu_s(sim_pid) - sim0, "worker_cpu_s": cpu_s(pid) - worker0,
            "cluster_cpu_s": cluster_cpu_s() - cluster0, "load": max(load0, os.getloadavg()[0]),
            "sim_push_handling_s": sum(p["decryptMs"] for p in full["pushes"]) / 1000,
            "hiu_all_ok": not bad, "key_iv_reuse": len(reuse)}


def bench_big(env, out):
    env.fresh()
    env.c.set_config(hiu_decrypt_every=DECRYPT_EVERY, hiu_keep_plaintext_bytes=0)
    t0 = time.monotonic()
    size = setup_patient(env, "BIG", BIG_CONTEXTS, hi_type="HealthDocumentRecord", record=big_record(BIG_RECORD_KB))
    cid = grant(env, "BIG", BIG_CONTEXTS, hi_type="HealthDocumentRecord")
    q(env.db, "CHECKPOINT")
    print(f"  (set-up: {BIG_CONTEXTS} records of {size / 1e6:.2f} MB in {time.monotonic() - t0:.0f} s)", flush=True)
    sim_pid = env.sim.proc.pid
    rs = []
    for run in range(RUNS):
        r = big_once(env, cid, sim_pid)
        rs.append(r)
        print(f"  run {run + 1}: {r['pages']} pages, {r['mb']:.0f} MB pushed in {r['wall_s']:.1f} s; worker private "
              f"{r['before_private_mb']:.0f} → {r['peak_private_mb']:.0f} MB (RssAnon {r['peak_rss_anon_mb']:.0f} MB); "
              f"longest transaction {r['longest_xact_s'] * 1000:.0f} ms; worker CPU {r['worker_cpu_s']:.1f} s "
              f"(all of PostgreSQL {r['cluster_cpu_s']:.1f} s), load average {r['load']:.1f}, "
              f"simulator CPU {r['sim_cpu_s']:.1f} s ({r['checked']} of {r['entries']} entries decrypted); "
              f"HIU all ok {r['hiu_all_ok']}, (key, IV) reuse {r['key_iv_reuse']}", flush=True)
    env.c.set_config(hiu_decrypt_every=1, hiu_keep_plaintext_bytes=64 * 1024 * 1024)
    keys = ("wall_s", "pages", "mb", "peak_private_mb", "peak_rss_anon_mb", "longest_xact_s", "worker_cpu_s",
            "cluster_cpu_s", "sim_cpu_s", "sim_push_handling_s", "load")
    med = {k: statistics.median(r[k] for r in rs) for k in keys}
    print(f"big: one HI request, {BIG_CONTEXTS} care contexts, {med['mb']:.0f} MB pushed (medians of {RUNS} runs)")
    print(f"  pages {med['pages']:.0f}; wall {med['wall_s']:.1f} s (goal < 15); worker peak private "
          f"{med['peak_private_mb']:.0f} MB, RssAnon {med['peak_rss_anon_mb']:.0f} MB (goal < 100); longest "
          f"transaction {med['longest_xact_s'] * 1000:.0f} ms (goal < 1000); worker CPU {med['worker_cpu_s']:.1f} s "
          f"(all of PostgreSQL {med['cluster_cpu_s']:.1f} s); load average {med['load']:.1f}; "
          f"simulator CPU {med['sim_cpu_s']:.1f} s (push handling {med['sim_push_handling_s']:.1f} s, "
          f"1 entry in {DECRYPT_EVERY} decrypted); HIU all ok {all(r['hiu_all_ok'] for r in rs)}, "
          f"(key, IV) reuse {sum(r['key_iv_reuse'] for r in rs)}")
    out["big"] = dict(med, hiu_all_ok=all(r["hiu_all_ok"] for r in rs),
                      key_iv_reuse=sum(r["key_iv_reuse"] for r in rs),
                      runs=[{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in rs])


SECTIONS = {"burst": bench_burst, "big": bench_big}


if __name__ == "__main__":
    e2e_bench.main(SECTIONS, {"runs": RUNS, "hiu_decrypt_every_big": DECRYPT_EVERY})
