// Library entry: settings and (when preloaded) the background workers.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
}

#include "pg/gucs.hpp"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

void _PG_init(void) {
  // pg_upgrade loads every library; nothing of ours must start then.
  if (IsBinaryUpgrade) return;
  abdm_pg::define_gucs();
}
