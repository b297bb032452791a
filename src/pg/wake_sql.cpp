// Trigger functions that wake a worker when the transaction that queued its work commits
// (RegisterXactCallback + SetLatch, as STYLE's worker rules ask), so nothing waits for a poll.
extern "C" {
#include "postgres.h"
#include "commands/trigger.h"
#include "fmgr.h"
}

#include "pg/guard.hpp"
#include "pg/shared_state.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_wake_sender);
PGDLLEXPORT Datum abdm_wake_sender(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) ereport(ERROR, (errmsg("abdm_hip_internal.wake_sender() is a trigger function")));
  abdm_pg::wake_worker_at_commit(abdm_pg::WorkerKind::kSender);
  return PointerGetDatum(nullptr);
}

PG_FUNCTION_INFO_V1(abdm_wake_transfer);
PGDLLEXPORT Datum abdm_wake_transfer(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) ereport(ERROR, (errmsg("abdm_hip_internal.wake_transfer() is a trigger function")));
  abdm_pg::wake_worker_at_commit(abdm_pg::WorkerKind::kTransfer);
  return PointerGetDatum(nullptr);
}
}
