// Library entry: settings, shared state and (when preloaded) the background workers.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
}

#include "pg/gucs.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

void _PG_init(void) {
  // pg_upgrade loads every library; nothing of ours must start then.
  if (IsBinaryUpgrade) return;
  // Loaded later (CREATE EXTENSION, or a function call, on a server that does not preload it):
  // its server-wide settings can no longer be defined (PostgreSQL would end the session with a
  // FATAL) and it would have no workers. Say what to do instead; the library is not kept loaded
  // after an error here, so nothing half-initialised remains (pg_cron does the same).
  if (!process_shared_preload_libraries_in_progress)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("abdm_hip must be loaded through shared_preload_libraries"),
                    errhint("Add abdm_hip to shared_preload_libraries in postgresql.conf, set abdm_hip.database, "
                            "and restart the server.")));
  abdm_pg::define_gucs();
  abdm_pg::install_shared_state_hooks();
  abdm_pg::register_workers();
}
