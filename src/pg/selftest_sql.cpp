// abdm_hip.selftest_error_boundary(kind): a diagnostic that proves the C++ ⇄ PostgreSQL boundary
// of guard.hpp holds in this build. Each kind fails in a different way while a C++ object that
// counts its own lifetime is alive; 'live_objects' then shows whether every such object was
// destroyed (0 = no longjmp skipped a destructor). Admin-only; used by the regression suite.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <stdexcept>
#include <string>
#include <vector>

#include "pg/guard.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace {

int live_objects = 0;

// Owns heap memory, as any std::string or std::vector in real code does.
struct Tracked {
  std::vector<char> buffer = std::vector<char>(4096, 'x');
  Tracked() { ++live_objects; }
  ~Tracked() { --live_objects; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
};

int run(const std::string& kind) {
  if (kind == "live_objects") return live_objects;
  Tracked alive;
  if (kind == "ok") return live_objects;
  if (kind == "abdm_error")
    throw abdm::Error(abdm::sqlstate::kInvalidParameter, "record.patient.name", "required");
  if (kind == "std_exception") throw std::runtime_error("a C++ exception from the core");
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "unknown_exception") throw 42;
  if (kind == "pg_error") {
    // A PostgreSQL error raised from inside C++ (what SPI or palloc may do): it must unwind
    // `alive` and reach the client with its own SQLSTATE.
    abdm_pg::pg_call([] {
      ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("division by zero inside pg_call")));
    });
  }
  if (kind == "spi_error") {
    // A PostgreSQL error raised inside SPI (what the workers' queries may meet), with C++ alive.
    abdm_pg::pg_call([] {
      if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    abdm_pg::spi_query("SELECT abdm_hip.no_such_function_for_the_selftest()");
  }
  throw abdm::Error(abdm::sqlstate::kInvalidParameter, "kind",
                    "unknown kind \"" + kind +
                        "\" (ok, live_objects, abdm_error, std_exception, bad_alloc, "
                        "unknown_exception, pg_error, spi_error)");
}

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(abdm_selftest_error_boundary);
PGDLLEXPORT Datum abdm_selftest_error_boundary(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string kind = abdm_pg::arg_text(fcinfo, 0);
    return Int32GetDatum(run(kind));
  });
}
}
