// Datum ⇄ C++ conversions for jsonb and bytea, safe to call from C++ (each goes through pg_call).
// JSON crosses the boundary as text: PostgreSQL renders jsonb to a C string, nlohmann parses it,
// and back. Simple and exact; jsonb's binary form is never walked by hand.
#pragma once

#include "pg/guard.hpp"

extern "C" {
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "core/abdm/time.hpp"

namespace abdm_pg {

// Copies a jsonb argument out as parsed JSON. The argument must not be NULL (use STRICT).
inline std::string arg_jsonb_text(FunctionCallInfo fcinfo, int n) {
  char* rendered = pg_call([&] {
    Jsonb* jb = PG_GETARG_JSONB_P(n);
    return JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  });
  std::string text(rendered);
  pg_call([&] { pfree(rendered); });
  return text;
}

inline nlohmann::json arg_jsonb(FunctionCallInfo fcinfo, int n) {
  nlohmann::json parsed = nlohmann::json::parse(arg_jsonb_text(fcinfo, n), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) throw abdm::Error(abdm::sqlstate::kInvalidText, "", "jsonb argument did not parse");
  return parsed;
}

// A uuid argument as its text form (lower case, hyphenated). The argument must not be NULL.
inline std::string arg_uuid_text(FunctionCallInfo fcinfo, int n) {
  char* rendered = pg_call([&] { return DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(n))); });
  std::string out(rendered);
  pg_call([&] { pfree(rendered); });
  return out;
}

// Builds a jsonb Datum from a serialised JSON document.
inline Datum jsonb_datum_from_text(const std::string& json_text) {
  const char* cstr = json_text.c_str();
  return pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(cstr)); });
}

inline Datum jsonb_datum(const nlohmann::json& value) { return jsonb_datum_from_text(value.dump()); }

// PostgreSQL timestamptz (µs since 2000-01-01 UTC) → the core's millisecond time point.
inline abdm::proto::TimePoint time_point(TimestampTz ts) {
  constexpr long long kPgEpochUnixSeconds = 946684800LL;  // 2000-01-01T00:00:00Z
  const long long unix_ms = kPgEpochUnixSeconds * 1000LL + static_cast<long long>(ts) / 1000LL;
  return abdm::proto::TimePoint(std::chrono::milliseconds(unix_ms));
}

}  // namespace abdm_pg
