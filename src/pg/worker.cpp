#include "pg/worker.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
}

#include <cstring>

#include "pg/gucs.hpp"
#include "pg/spi.hpp"

namespace abdm_pg {

namespace {

void register_one(const char* type_name, const char* function_name) {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof(worker));
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = 5;  // seconds; a crash must not stop the HIP for long
  strlcpy(worker.bgw_library_name, "abdm_hip", BGW_MAXLEN);
  strlcpy(worker.bgw_function_name, function_name, BGW_MAXLEN);
  strlcpy(worker.bgw_name, type_name, BGW_MAXLEN);
  strlcpy(worker.bgw_type, type_name, BGW_MAXLEN);
  RegisterBackgroundWorker(&worker);
}

}  // namespace

void register_workers() {
  register_one("abdm_hip sender", "abdm_sender_main");
  register_one("abdm_hip transfer", "abdm_transfer_main");
}

void worker_startup(WorkerKind kind, const char* name) {
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(abdm_database, nullptr, 0);
  pgstat_report_appname(name);
  advertise_worker_latch(kind);
}

bool worker_should_stop() {
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

bool worker_wait_socket(long timeout_ms, int fd) {
  static WaitEventSet* set = nullptr;
  static int set_fd = -1;
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

void in_transaction(const char* what, void (*fn)(void*), void* arg) {
  pg_call([&] {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, what);
  });
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

bool extension_installed() {
  bool installed = false;
  in_transaction("abdm_hip: check extension", [&] {
    auto rows = spi_query("SELECT 1 FROM pg_extension WHERE extname = 'abdm_hip'", {}, true);
    installed = !rows.empty();
  });
  return installed;
}

void release_orphaned_leases(const char* worker, const char* release_sql, const char* rows) {
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
