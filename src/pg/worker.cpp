#include "pg/worker.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
}

#include <algorithm>
#include <cstring>

#include "pg/gucs.hpp"
#include "pg/spi.hpp"

namespace abdm_pg {

namespace {

void register_one(const char* type_name, const char* function_name,
                  BgWorkerStartTime start = BgWorkerStart_RecoveryFinished, const char* name = nullptr,
                  bool database = true, int restart_s = 5) {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof(worker));
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | (database ? BGWORKER_BACKEND_DATABASE_CONNECTION : 0);
  worker.bgw_start_time = start;
  worker.bgw_restart_time = restart_s;  // a crash must not stop the HIP for long
  strlcpy(worker.bgw_library_name, "abdm_hip", BGW_MAXLEN);
  strlcpy(worker.bgw_function_name, function_name, BGW_MAXLEN);
  strlcpy(worker.bgw_name, name ? name : type_name, BGW_MAXLEN);
  strlcpy(worker.bgw_type, type_name, BGW_MAXLEN);
  RegisterBackgroundWorker(&worker);
}

}  // namespace

void register_workers() {
  register_one("abdm_hip sender", "abdm_sender_main");
  register_one("abdm_hip transfer", "abdm_transfer_main");
  // The listener, when a port is set: from a consistent state on, so that a hot standby answers
  // the gateway with 503 instead of refusing connections (worker_bridge.cpp).
  if (abdm_listen_port != 0) {
    for (int i = 1; i <= abdm_bridge_workers; ++i) {
      char name[BGW_MAXLEN];
      snprintf(name, sizeof name, "abdm_hip bridge %d", i);
      register_one("abdm_hip bridge", "abdm_bridge_main", BgWorkerStart_ConsistentState, name);
    }
    // While none of them can listen (start-up, crash recovery, a restart), the gate answers 503
    // on the port (worker_bridge_gate.cpp); it needs no database, so it runs from the start.
    register_one("abdm_hip bridge gate", "abdm_bridge_gate_main", BgWorkerStart_PostmasterStart, nullptr,
                 /*database=*/false, /*restart_s=*/1);
  }
}

bool worker_should_stop() {
  // Interrupts other than SIGTERM: above all the barrier DROP DATABASE waits on (in any database
  // of the cluster, while this worker waits for its own).
  pg_call([] { CHECK_FOR_INTERRUPTS(); });
  if (ConfigReloadPending) {
    ConfigReloadPending = false;
    ProcessConfigFile(PGC_SIGHUP);
  }
  return ShutdownRequestPending;
}

bool worker_wait(long timeout_ms) {
  int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout_ms,
                     PG_WAIT_EXTENSION);
  if (rc & WL_LATCH_SET) {
    ResetLatch(MyLatch);
    return true;
  }
  return false;
}

namespace {
// The wait set of worker_wait_socket: the latch, postmaster death and one descriptor. Made again
// whenever the worker object is (forget_socket_wait): a new object's epoll descriptor may reuse
// the number of the old one, whose registration died with it, and a set kept by number alone
// would then never wake for the new sockets (every call waiting out its timeout).
WaitEventSet* socket_wait_set = nullptr;
int socket_wait_fd = -1;

void forget_socket_wait() {
  if (socket_wait_set != nullptr) pg_call([] { FreeWaitEventSet(socket_wait_set); });
  socket_wait_set = nullptr;
  socket_wait_fd = -1;
}
}  // namespace

bool worker_wait_socket(long timeout_ms, int fd) {
  WaitEventSet*& set = socket_wait_set;
  int& set_fd = socket_wait_fd;
  return pg_call([&] {
    if (set == nullptr || set_fd != fd) {
      if (set != nullptr) FreeWaitEventSet(set);
      set = CreateWaitEventSet(TopMemoryContext, 3);
      AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
      AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
      AddWaitEventToSet(set, WL_SOCKET_READABLE, fd, nullptr, nullptr);
      set_fd = fd;
    }
    WaitEvent events[3];
    int n = WaitEventSetWait(set, timeout_ms, events, 3, PG_WAIT_EXTENSION);
    bool latch = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].events & WL_LATCH_SET) latch = true;
    }
    if (latch) ResetLatch(MyLatch);
    return latch;
  });
}

namespace {

// Whether the extension is installed, and a share lock on it for the rest of the transaction.
// The lock comes first, then a fresh look: a DROP that committed while we waited is seen.
bool lock_extension() {
  Oid ext = get_extension_oid("abdm_hip", true);
  if (!OidIsValid(ext)) return false;
  LockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock);
  return OidIsValid(get_extension_oid("abdm_hip", true));
}

}  // namespace

void in_transaction(const char* what, void (*fn)(void*), void* arg) {
  const bool installed = pg_call([&] {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    pgstat_report_activity(STATE_RUNNING, what);
    if (!lock_extension()) return false;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    return true;
  });
  if (!installed) {
    pg_call([&] {
      CommitTransactionCommand();
      pgstat_report_activity(STATE_IDLE, nullptr);
    });
    throw ExtensionGone();
  }
  try {
    fn(arg);
    pg_call([&] {
      SPI_finish();
      PopActiveSnapshot();
      CommitTransactionCommand();
      pgstat_report_activity(STATE_IDLE, nullptr);
    });
  } catch (...) {
    // The failed statement left the transaction aborted; end it so the loop can go on.
    pg_call([&] {
      AbortCurrentTransaction();
      pgstat_report_activity(STATE_IDLE, nullptr);
    });
    throw;
  }
}

void run_worker(WorkerKind kind, const char* name, std::unique_ptr<WorkerTurn> (*start)()) {
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(abdm_database, nullptr, 0);
  pgstat_report_appname(name);
  advertise_worker_latch(kind);

  guarded_void([&] {
    std::unique_ptr<WorkerTurn> worker;
    bool busy = false;
    long backoff_ms = 0;  // after an error: 1 s, doubling to 30 s
    while (!worker_should_stop()) {
      try {
        if (!worker) {
          // Until the extension is there (again), every second and quietly: a CREATE EXTENSION
          // after a DROP is picked up within a second, and nothing is logged meanwhile.
          std::unique_ptr<WorkerTurn> made;
          if (!worker_step(name, [&] { made = start(); })) {
            backoff_ms = std::min(30000L, backoff_ms == 0 ? 1000L : backoff_ms * 2);
            worker_wait(backoff_ms);
            continue;
          }
          forget_socket_wait();
          worker = std::move(made);
          busy = true;
          backoff_ms = 0;
        }
        const long timeout = busy ? 0 : worker->wait_ms();
        const bool woken = worker->wait_fd() >= 0 ? worker_wait_socket(timeout, worker->wait_fd())
                                                  : worker_wait(timeout);
        if (worker_step(name, [&] { busy = worker->turn(woken); })) {
          backoff_ms = 0;
        } else {
          // The claimed rows' leases expire and they are claimed again.
          busy = false;
          backoff_ms = std::min(30000L, backoff_ms == 0 ? 1000L : backoff_ms * 2);
          worker_wait(backoff_ms);
        }
      } catch (const ExtensionGone&) {
        forget_socket_wait();
        worker.reset();
        worker_wait(1000);
      }
      // This turn's table statistics, for autovacuum (outside any transaction; at most one
      // report a second, as pgstat_report_stat(false) decides).
      pg_call([] { pgstat_report_stat(false); });
    }
  });
  withdraw_worker_latch(kind);
  // Exit code 1: the postmaster starts the worker again after bgw_restart_time, so a DBA's
  // pg_terminate_backend() restarts it (exit code 0 would unregister it until the next server
  // start); at shutdown nothing is restarted either way.
  proc_exit(1);
}

void require_extension() {
  in_transaction("abdm_hip: look for the extension", [] {});
}

void release_orphaned_leases(const char* worker, SqlText release_sql, const char* rows) {
  long released = 0;
  const std::string what = std::string(worker) + ": release leases";
  in_transaction(what.c_str(), [&] { released = spi_exec(release_sql); });
  if (released > 0)
    log_line(std::string(worker) + ": " + std::to_string(released) + " " + rows +
             " when the last worker stopped are due again");
}

void log_line(const std::string& message) {
  const char* m = message.c_str();
  pg_call([&] { ereport(LOG, (errmsg("%s", m))); });
}

void log_warning(const std::string& message) {
  const char* m = message.c_str();
  pg_call([&] { ereport(WARNING, (errmsg("%s", m))); });
}

void log_current_exception(const char* where) {
  try {
    throw;
  } catch (const PgError& e) {
    ErrorData* edata = e.edata();
    pg_call([&] {
      ereport(LOG, (errmsg("%s: %s", where, edata->message ? edata->message : "error"),
                    edata->detail ? errdetail("%s", edata->detail) : 0));
      FreeErrorData(edata);
    });
  } catch (const std::exception& e) {
    std::string m = std::string(where) + ": " + e.what();
    log_line(m);
  } catch (...) {
    log_line(std::string(where) + ": unknown exception");
  }
}

}  // namespace abdm_pg
