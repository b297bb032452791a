// What every background worker of the extension shares: registration, the loop (run_worker),
// signal handling, the transaction wrapper, and logging from C++.
//
// Loop shape (pg_cron, pgmq): claim due rows in a short transaction (a lease that expires, so a
// crashed worker's rows come back), do network work outside any transaction, record outcomes in a
// new transaction. SIGTERM ends the loop, SIGHUP reloads settings. Each worker supplies only its
// turn (WorkerTurn); run_worker owns everything else.
#pragma once

#include <exception>
#include <memory>
#include <string>

#include "pg/guard.hpp"
#include "pg/shared_state.hpp"
#include "pg/spi.hpp"

namespace abdm_pg {

// Registers the workers; called from _PG_init while shared_preload_libraries is processed.
void register_workers();

// What one kind of worker does; run_worker calls it.
class WorkerTurn {
 public:
  virtual ~WorkerTurn() = default;
  // One turn of work; `woken` says whether the latch was set (new work committed). Returns true
  // when more work is waiting now, so the loop comes straight back without waiting.
  virtual bool turn(bool woken) = 0;
  // Besides its latch, the loop waits on this descriptor (-1: none) for at most wait_ms().
  virtual int wait_fd() const { return -1; }
  virtual long wait_ms() const { return 1000; }
};

// The loop of every worker, from the process's start to its exit: connects to abdm_hip.database,
// waits quietly while the extension is not installed there (DROP EXTENSION included: the worker
// object is discarded and made again by `start` once the extension is back), runs turns, backs
// off after errors (1 s doubling to 30 s; a bad row or a transient error never crash-loops),
// reports its statistics after every turn (so autovacuum sees the outbox churn), reloads on
// SIGHUP and returns on SIGTERM. `start` runs once the extension is there: the at-start steps
// (releasing a predecessor's leases) and the worker object. Exits the process with code 1, so
// pg_terminate_backend() restarts the worker.
[[noreturn]] void run_worker(WorkerKind kind, const char* name, std::unique_ptr<WorkerTurn> (*start)());

// Thrown by in_transaction when extension abdm_hip is not installed (or was dropped meanwhile).
struct ExtensionGone : std::exception {
  const char* what() const noexcept override { return "extension abdm_hip is not installed"; }
};

// True once SIGTERM arrived. Also processes a pending SIGHUP (re-reads postgresql.conf).
bool worker_should_stop();

// Waits on the process latch for at most timeout_ms (0 = just check); returns true if the latch
// was set (new work may be queued). Exits the process if the postmaster died.
bool worker_wait(long timeout_ms);

// Same, also returning early when `fd` is readable (an epoll descriptor of libcurl's sockets), so
// one wait covers both a commit's wake-up and the network: no polling loop. The wait set is made
// once per process.
bool worker_wait_socket(long timeout_ms, int fd);

// Runs fn inside a transaction with SPI connected and a snapshot. The transaction first takes a
// share lock on the extension (DROP EXTENSION takes it exclusively before anything else, so a
// DROP waits for the worker's transaction, or the worker for the DROP, and the two never
// deadlock over the extension's tables); ExtensionGone when the extension is not there. If fn
// throws (PgError or any C++ exception), the transaction is aborted and the exception re-thrown.
void in_transaction(const char* what, void (*fn)(void*), void* arg);

template <typename Fn>
void in_transaction(const char* what, Fn&& fn) {
  in_transaction(
      what, [](void* p) { (*static_cast<Fn*>(p))(); }, &fn);
}

// ExtensionGone unless the extension is installed (a worker's `start` checks first).
void require_extension();

// At a worker's start: runs `release_sql` (an UPDATE that makes leased rows due now) and logs
// how many rows it released. There is one worker of each kind per database, so a lease found at
// start-up belongs to one that is gone (a crash, a restart, pg_terminate_backend()); its rows go
// again at once instead of when the lease would have ended (a minute for a call, ten for a
// transfer). `rows` names them in the log line.
void release_orphaned_leases(const char* worker, SqlText release_sql, const char* rows);


// Logs a line at LOG level (message is copied; never pass secrets).
void log_line(const std::string& message);
void log_warning(const std::string& message);

// Logs the exception in flight (call from a catch block). PostgreSQL errors keep their text.
void log_current_exception(const char* where);

// Runs one step of a worker loop; an exception is logged and reported as false, never fatal: a
// bad row or a transient database error must not crash-loop the worker (pg_duckdb PR #300).
// ExtensionGone is passed on to run_worker, which waits for the extension quietly.
template <typename Fn>
bool worker_step(const char* where, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const ExtensionGone&) {
    throw;
  } catch (...) {
    log_current_exception(where);
    return false;
  }
}

}  // namespace abdm_pg
