// What every background worker of the extension shares: registration, signal handling, the
// transaction wrapper, and logging from C++.
//
// Loop shape (DESIGN.md "Workers", pg_cron/pgmq): claim due rows in a short transaction (a lease
// that expires, so a crashed worker's rows come back), do network work outside any transaction,
// record outcomes in a new transaction. SIGTERM ends the loop, SIGHUP reloads settings.
#pragma once

#include <string>

#include "pg/guard.hpp"
#include "pg/shared_state.hpp"

namespace abdm_pg {

// Registers the workers; called from _PG_init while shared_preload_libraries is processed.
void register_workers();

// Worker start-up: signals, database connection, application name; returns false under
// binary upgrade or when the extension is not installed in abdm_hip.database (the worker then
// sleeps and checks again later).
void worker_startup(WorkerKind kind, const char* name);

// True once SIGTERM arrived. Also processes a pending SIGHUP (re-reads postgresql.conf).
bool worker_should_stop();

// Waits on the process latch for at most timeout_ms (0 = just check); returns true if the latch
// was set (new work may be queued). Exits the process if the postmaster died.
bool worker_wait(long timeout_ms);

// Same, also returning early when `fd` is readable (an epoll descriptor of libcurl's sockets), so
// one wait covers both a commit's wake-up and the network: no polling loop. The wait set is made
// once per process.
bool worker_wait_socket(long timeout_ms, int fd);

// Runs fn inside a transaction with SPI connected and a snapshot. If fn throws (PgError or any
// C++ exception), the transaction is aborted and the exception re-thrown.
void in_transaction(const char* what, void (*fn)(void*), void* arg);

template <typename Fn>
void in_transaction(const char* what, Fn&& fn) {
  in_transaction(
      what, [](void* p) { (*static_cast<Fn*>(p))(); }, &fn);
}

// At a worker's start: runs `release_sql` (an UPDATE that makes leased rows due now) and logs
// how many rows it released. There is one worker of each kind per database, so a lease found at
// start-up belongs to one that is gone (a crash, a restart, pg_terminate_backend()); its rows go
// again at once instead of when the lease would have ended (a minute for a call, ten for a
// transfer). `rows` names them in the log line.
void release_orphaned_leases(const char* worker, const char* release_sql, const char* rows);

// Whether schema abdm_hip exists in the connected database (checked inside a transaction).
bool extension_installed();

// Logs a line at LOG level (message is copied; never pass secrets).
void log_line(const std::string& message);
void log_warning(const std::string& message);

// Logs the exception in flight (call from a catch block). PostgreSQL errors keep their text.
void log_current_exception(const char* where);

// Runs one step of a worker loop; an exception is logged and reported as false, never fatal: a
// bad row or a transient database error must not crash-loop the worker (pg_duckdb PR #300).
template <typename Fn>
bool worker_step(const char* where, Fn&& fn) noexcept {
  try {
    fn();
    return true;
  } catch (...) {
    log_current_exception(where);
    return false;
  }
}

}  // namespace abdm_pg
