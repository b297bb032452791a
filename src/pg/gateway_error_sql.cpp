// abdm_hip.gateway_error_code(response): the code of the first error a gateway answer carries,
// read by the core (core/util/gateway_error) — the same reading the sender uses to classify the
// answer, so SQL never parses error envelopes with a regular expression of its own.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include "core/util/gateway_error.hpp"
#include "pg/datum.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_gateway_error_code);
PGDLLEXPORT Datum abdm_gateway_error_code(PG_FUNCTION_ARGS) {
  bool is_null = false;
  Datum result = abdm_pg::guarded([&]() -> Datum {
    const std::vector<abdm::GatewayError> errors = abdm::find_gateway_errors(abdm_pg::arg_jsonb(fcinfo, 0));
    if (errors.empty() || errors.front().code.empty()) {
      is_null = true;
      return (Datum)0;
    }
    return abdm_pg::text_datum(errors.front().code);
  });
  if (is_null) PG_RETURN_NULL();
  return result;
}
}
