// The C++ ⇄ PostgreSQL error boundary (DESIGN.md "C++ inside PostgreSQL").
//
// PostgreSQL reports errors with longjmp; C++ reports them with exceptions. Neither may cross the
// other: a longjmp over a live std::string leaks or corrupts it, and an exception unwinding into
// PostgreSQL's C frames aborts the backend. Two tools keep them apart:
//
//   guarded(fn)   wraps the body of every SQL-callable function (and every worker step). The body
//                 is C++; whatever it throws is caught here, copied into plain buffers, and turned
//                 into ereport(ERROR) only after the body's objects have been destroyed.
//   pg_call(fn)   wraps every call from C++ into a PostgreSQL API that can ereport (SPI, palloc,
//                 Datum conversion). Its PG_TRY catches the longjmp right there, saves the error
//                 and throws PgError, so the C++ frames in between unwind normally; guarded()
//                 then re-throws the saved PostgreSQL error unchanged (same SQLSTATE, detail).
//
// A SQL function therefore looks like:
//
//   extern "C" PGDLLEXPORT Datum abdm_fn(PG_FUNCTION_ARGS) {
//     return abdm_pg::guarded([&]() -> Datum {
//       std::string in = abdm_pg::arg_text(fcinfo, 0);       // copies out of PostgreSQL memory
//       std::string out = abdm::core_function(in);            // may throw abdm::Error
//       return abdm_pg::text_datum(out);                      // pg_call inside
//     });
//   }
//
// Pattern from pg_duckdb (src/pgduckdb.cpp, cpp_wrapper.hpp); rules in the project's DESIGN.md.
#pragma once

// Core headers refuse PostgreSQL headers unless included from this glue layer.
#ifndef ABDM_PG_GLUE
#define ABDM_PG_GLUE 1
#endif

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/util/error.hpp"

namespace abdm_pg {

// A PostgreSQL error caught while C++ frames were live. Holds the copied ErrorData (allocated in
// the memory context that was current at the call) so it can be re-thrown unchanged.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* edata) noexcept : edata_(edata) {}
  const char* what() const noexcept override {
    return edata_ && edata_->message ? edata_->message : "PostgreSQL error";
  }
  ErrorData* edata() const noexcept { return edata_; }

 private:
  ErrorData* edata_;
};

// The caught error, copied where it outlives the transaction: the error is often handled after
// the transaction that raised it was aborted (a worker's loop), and abort frees every memory
// context of that transaction. Freed by guarded() (next call) or log_current_exception().
inline ErrorData* copy_error_data() {
  MemoryContextSwitchTo(TopMemoryContext);
  ErrorData* edata = CopyErrorData();
  FlushErrorState();
  return edata;
}

// Runs fn (which calls PostgreSQL C APIs) and converts an ereport into PgError.
// fn must not create C++ objects that own resources: it runs between sigsetjmp and a possible
// longjmp. Its result must be trivially copyable (a pointer, a Datum, an int).
template <typename Fn>
auto pg_call(Fn&& fn) -> decltype(fn()) {
  using R = decltype(fn());
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile caught = nullptr;
  if constexpr (std::is_void_v<R>) {
    PG_TRY();
    { fn(); }
    PG_CATCH();
    {
      caught = copy_error_data();
      MemoryContextSwitchTo(caller_context);
    }
    PG_END_TRY();
    if (caught) throw PgError(caught);
  } else {
    static_assert(std::is_trivially_copyable_v<R>, "pg_call results must be plain values");
    R volatile_result{};
    R* volatile result_slot = &volatile_result;
    PG_TRY();
    { *result_slot = fn(); }
    PG_CATCH();
    {
      caught = copy_error_data();
      MemoryContextSwitchTo(caller_context);
    }
    PG_END_TRY();
    if (caught) throw PgError(caught);
    return *result_slot;
  }
}

namespace detail {
// Where a caught C++ error waits, in plain memory, until the C++ objects are gone.
struct PendingError {
  ErrorData* pg = nullptr;
  int sqlerrcode = 0;
  char message[2048] = {0};
  char field[256] = {0};
};

inline int sqlstate_code(const std::string& s) {
  if (s.size() != 5) return ERRCODE_INTERNAL_ERROR;
  return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

inline void copy_into(char* dst, size_t cap, const char* src) {
  std::strncpy(dst, src ? src : "", cap - 1);
  dst[cap - 1] = '\0';
}

// Fills `pending` from the exception in flight. Called only inside a catch block.
inline void capture(PendingError& pending) noexcept {
  try {
    throw;
  } catch (const PgError& e) {
    pending.pg = e.edata();
  } catch (const abdm::Error& e) {
    pending.sqlerrcode = sqlstate_code(e.sqlstate());
    copy_into(pending.message, sizeof pending.message, e.what());
    copy_into(pending.field, sizeof pending.field, e.field().c_str());
  } catch (const std::bad_alloc&) {
    pending.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
    copy_into(pending.message, sizeof pending.message, "out of memory in abdm_hip");
  } catch (const std::exception& e) {
    pending.sqlerrcode = ERRCODE_INTERNAL_ERROR;
    copy_into(pending.message, sizeof pending.message, e.what());
  } catch (...) {
    pending.sqlerrcode = ERRCODE_INTERNAL_ERROR;
    copy_into(pending.message, sizeof pending.message, "unknown C++ exception in abdm_hip");
  }
}

// The copy handed to ReThrowError (which copies it again into ErrorContext): freed at the next
// guarded() call, since nothing runs after the re-throw.
inline ErrorData*& rethrown_copy() {
  static ErrorData* copy = nullptr;
  return copy;
}

inline void free_rethrown_copy() {
  if (rethrown_copy()) {
    FreeErrorData(rethrown_copy());
    rethrown_copy() = nullptr;
  }
}

// Raises the pending error. No C++ object of the failed body is alive any more.
[[noreturn]] inline void raise(PendingError& pending) {
  if (pending.pg) {
    free_rethrown_copy();
    rethrown_copy() = pending.pg;
    ReThrowError(pending.pg);
  }
  if (pending.field[0])
    ereport(ERROR, (errcode(pending.sqlerrcode), errmsg("%s", pending.message),
                    errhint("Check the input field \"%s\".", pending.field)));
  ereport(ERROR, (errcode(pending.sqlerrcode), errmsg("%s", pending.message)));
  pg_unreachable();
}
}  // namespace detail

// Runs a C++ body for a SQL-callable function; see the top of this file.
template <typename Body>
Datum guarded(Body&& body) {
  detail::free_rethrown_copy();
  detail::PendingError pending;
  bool failed = false;
  Datum result = (Datum)0;
  try {
    result = body();
  } catch (...) {
    failed = true;
    detail::capture(pending);
  }
  if (failed) detail::raise(pending);
  return result;
}

// Same boundary for code that returns nothing (worker steps, callbacks).
template <typename Body>
void guarded_void(Body&& body) {
  detail::free_rethrown_copy();
  detail::PendingError pending;
  bool failed = false;
  try {
    body();
  } catch (...) {
    failed = true;
    detail::capture(pending);
  }
  if (failed) detail::raise(pending);
}

// ---- Datum conversions that are safe to call from C++ (they go through pg_call) ----

// Copies a text argument into a std::string. The argument must not be NULL (use STRICT).
inline std::string arg_text(FunctionCallInfo fcinfo, int n) {
  text* t = pg_call([&] { return PG_GETARG_TEXT_PP(n); });
  const char* data = VARDATA_ANY(t);
  size_t len = VARSIZE_ANY_EXHDR(t);
  return std::string(data, len);
}

// Builds a text Datum from bytes (allocated in the current memory context).
inline Datum text_datum(std::string_view s) {
  const char* data = s.data();
  int len = static_cast<int>(s.size());
  return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(data, len)); });
}

}  // namespace abdm_pg
