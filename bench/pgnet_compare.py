"""pg_net (supabase/pg_net, the best-known PostgreSQL HTTP worker) against the same loopback sink
as the sender benchmark, so both figures come from one run on one machine.

pg_net is not part of this project: nothing here builds or installs it. When the server has no
pg_net (pg_available_extensions) or it is not in shared_preload_libraries (its worker is
registered only at preload), pgnet_to_sink() returns None and the caller skips the comparison.

How pg_net works, from its source (src/worker.c, sql/pg_net.sql of supabase/pg_net): the worker
takes up to pg_net.batch_size rows from net.http_request_queue in one transaction, runs them all
at once on a libcurl multi handle, inserts one net._http_response row per request (created =
now(), i.e. that transaction's start), commits, then sleeps up to 1 s before the next batch.
"""
import os
import sys
import time

# The body has the shape of the sender benchmark's sms/notify2 rows, so both send the same bytes.
_QUEUE_SQL = """
SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM (
  SELECT net.http_post(
           url := %s,
           body := jsonb_build_object('notification', jsonb_build_object(
                     'phoneNo', (9000000000 + g)::text, 'hip', jsonb_build_object('id', 'BENCH-HIP'))),
           headers := '{"Content-Type": "application/json"}'::jsonb) AS id
  FROM generate_series(1, %s) g) queued"""


def _q1(db, sql, *args):
    with db.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone() if cur.description else None


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _worker_pid(db):
    row = _q1(db, "SELECT pid FROM pg_stat_activity WHERE backend_type ILIKE '%%pg_net%%' ORDER BY backend_start DESC LIMIT 1")
    return row[0] if row else None


def _wait(fn, timeout, interval, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"pg_net: timed out after {timeout:.0f}s waiting for {what}")


def pgnet_to_sink(db, sink_url, rows, batch_size=None):
    """Queue `rows` POSTs to sink_url with net.http_post() in one committed statement and wait
    for all their responses. db: a psycopg2 connection in autocommit mode, as superuser, to the
    database pg_net's worker serves (pg_net.database_name, default 'postgres').

    Returns (deliveries_per_s, worker_cpu_s_per_1000, responses_ok), or None without pg_net.
      deliveries_per_s     responses_ok / (last response's commit - the queueing statement's
                           commit): failed requests (pg_net records them as responses with an
                           error_msg and never retries them) are not deliveries
      worker_cpu_s_per_1000  utime+stime of the pg_net worker over the run, per 1000 requests
      responses_ok         responses with status 200 or 202 (the rest: errors or timeouts)

    The end time is the commit of the worker transaction that recorded the last response
    (pg_xact_commit_timestamp of its rows) when the server runs with track_commit_timestamp = on;
    max(created) would be that transaction's START, before its batch was even sent, and so would
    flatter pg_net by one batch. Without it, the end is the moment this function first sees all
    responses (polling every 0.2 s: late by at most that). batch_size sets pg_net.batch_size
    (ALTER SYSTEM + reload) for the run and resets it afterwards; None keeps the server's value.
    """
    if not _q1(db, "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_net'"):
        return None
    _q1(db, "CREATE EXTENSION IF NOT EXISTS pg_net")
    pid = _worker_pid(db)
    if pid is None:
        print("pg_net: no worker (is pg_net in shared_preload_libraries?); skipped", file=sys.stderr)
        return None
    try:
        if batch_size is not None:
            _q1(db, "ALTER SYSTEM SET pg_net.batch_size = %s", str(int(batch_size)))
            _q1(db, "SELECT pg_reload_conf()")
            time.sleep(0.5)  # the idle worker reads the new value on its SIGHUP
        # A clean slate: no requests left from an earlier run, and no old responses for the
        # worker's TTL sweep to delete during this one.
        _wait(lambda: _q1(db, "SELECT NOT EXISTS (SELECT 1 FROM net.http_request_queue)")[0], 600, 0.2, "an empty queue")
        _q1(db, "TRUNCATE net._http_response")
        commit_ts = _q1(db, "SHOW track_commit_timestamp")[0] == "on"
        cpu0 = _cpu_seconds(pid)
        lo, hi, n = _q1(db, _QUEUE_SQL, sink_url, rows)
        committed = time.time()  # autocommit: the statement has committed when it returns
        assert n == rows, f"pg_net: queued {n} of {rows}"

        def all_answered():
            return _q1(db, "SELECT count(*) >= %s FROM net._http_response WHERE id BETWEEN %s AND %s", rows, lo, hi)[0]
        # pg_net sleeps up to 1 s between batches: allow for that on top of the work itself.
        per_batch = batch_size or int(_q1(db, "SHOW pg_net.batch_size")[0])
        _wait(all_answered, 120 + 3.0 * rows / max(per_batch, 1), 0.2, f"{rows} responses")
        seen = time.time()
        if commit_ts:
            end = _q1(db, """SELECT extract(epoch FROM max(pg_xact_commit_timestamp(xmin)))::float8
                             FROM net._http_response WHERE id BETWEEN %s AND %s""", lo, hi)[0]
        else:
            end = seen
        after = _worker_pid(db)
        if after != pid:  # the worker died and was restarted: its CPU before that is lost
            print(f"pg_net: worker pid changed {pid} -> {after} during the run (restart); CPU figure "
                  f"covers the first process only", file=sys.stderr)
            cpu = _cpu_seconds(pid) - cpu0 if os.path.exists(f"/proc/{pid}") else float("nan")
        else:
            cpu = _cpu_seconds(pid) - cpu0
        ok = _q1(db, """SELECT count(*) FROM net._http_response
                        WHERE id BETWEEN %s AND %s AND status_code IN (200, 202)""", lo, hi)[0]
        return ok / (end - committed), cpu / rows * 1000, ok
    finally:
        if batch_size is not None:
            _q1(db, "ALTER SYSTEM RESET pg_net.batch_size")
            _q1(db, "SELECT pg_reload_conf()")
