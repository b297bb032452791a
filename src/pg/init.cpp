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
  abdm_pg::define_gucs();
  if (!process_shared_preload_libraries_in_progress) return;
  abdm_pg::install_shared_state_hooks();
  abdm_pg::register_workers();
}
