// abdm_hip_internal.link_token_refusal(code text) → jsonb {"status", "retryAfterSeconds"}: the core's rule
// for a refused link-token request (core/abdm/link_token_policy), for abdm_hip_internal.refuse_link_token.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>

#include "core/abdm/link_token_policy.hpp"
#include "pg/datum.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_link_token_refusal);
PGDLLEXPORT Datum abdm_link_token_refusal(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::string code = PG_ARGISNULL(0) ? std::string() : abdm_pg::arg_text(fcinfo, 0);
    const abdm::proto::LinkTokenRefusal r = abdm::proto::link_token_refusal(code);
    return abdm_pg::jsonb_datum({{"status", r.status}, {"retryAfterSeconds", r.retry_after.count()}});
  });
}
}
