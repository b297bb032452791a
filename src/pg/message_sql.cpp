// SQL access to the core's outbound builders, so the SQL state machine never hand-builds a wire
// body: abdm_hip_internal.build_message(kind, input) → the exact V3 body, abdm_hip_internal.outbound_path(kind) →
// the gateway path. `input` is a small JSON object named after the builder's arguments.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>

#include "core/abdm/outbound.hpp"
#include "core/abdm/outbound_input.hpp"
#include "pg/datum.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_build_message);
PGDLLEXPORT Datum abdm_build_message(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string kind = abdm_pg::arg_text(fcinfo, 0);
    nlohmann::json input = abdm_pg::arg_jsonb(fcinfo, 1);
    return abdm_pg::jsonb_datum(abdm::proto::build_outbound(kind, input));
  });
}

PG_FUNCTION_INFO_V1(abdm_outbound_path);
PGDLLEXPORT Datum abdm_outbound_path(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string kind = abdm_pg::arg_text(fcinfo, 0);
    const abdm::proto::OutboundEndpoint* e = abdm::proto::find_outbound_endpoint(kind);
    if (!e || e->path.empty())
      throw abdm::Error(abdm::sqlstate::kInvalidParameter, "kind", "no gateway endpoint named \"" + kind + "\"");
    return abdm_pg::text_datum(e->path);
  });
}

// The HTTP method of that gateway endpoint (the outbox row keeps it).
PG_FUNCTION_INFO_V1(abdm_outbound_method);
PGDLLEXPORT Datum abdm_outbound_method(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string kind = abdm_pg::arg_text(fcinfo, 0);
    const abdm::proto::OutboundEndpoint* e = abdm::proto::find_outbound_endpoint(kind);
    if (!e) throw abdm::Error(abdm::sqlstate::kInvalidParameter, "kind", "no endpoint named \"" + kind + "\"");
    return abdm_pg::text_datum(e->method);
  });
}
}
