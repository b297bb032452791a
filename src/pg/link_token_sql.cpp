// abdm_hip_internal.link_token_refusal(code text, refusals int) → jsonb {"status",
// "retryAfterSeconds", "tryAgain"}: the core's rule for a refused link-token request
// (core/abdm/link_token_policy), for abdm_hip_internal.refuse_link_token. The duplicate window
// is the setting abdm_hip.link_token_duplicate_window.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>

#include "core/abdm/link_token_policy.hpp"
#include "pg/datum.hpp"
#include "pg/gucs.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_link_token_refusal);
PGDLLEXPORT Datum abdm_link_token_refusal(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::string code = PG_ARGISNULL(0) ? std::string() : abdm_pg::arg_text(fcinfo, 0);
    const int refusals = PG_ARGISNULL(1) ? 1 : PG_GETARG_INT32(1);
    const abdm::proto::LinkTokenRefusal r = abdm::proto::link_token_refusal(
        code, refusals, std::chrono::seconds(abdm_link_token_duplicate_window_s));
    return abdm_pg::jsonb_datum({{"status", r.status},
                                 {"retryAfterSeconds", r.retry_after.count()},
                                 {"tryAgain", r.try_again}});
  });
}
}
