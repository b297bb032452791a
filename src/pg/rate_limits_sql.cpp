// abdm_hip_internal.rate_limit_state() → jsonb: the sender's outbound rate limits as it last
// published them to shared memory (pg/shared_state.hpp), for the view abdm_hip.rate_limits:
//   {"published_ms": Unix ms or null, "kinds": [{"kind", "configured_per_s", "current_per_s",
//    "throttles", "last_throttle_ms"}]}
// Without shared_preload_libraries, or before the sender's first turn, "kinds" is empty.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include "pg/datum.hpp"
#include "pg/guard.hpp"
#include "pg/shared_state.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_rate_limit_state);
PGDLLEXPORT Datum abdm_rate_limit_state(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    int64_t published_ms = 0;
    const std::vector<abdm_pg::RateLimitState> kinds = abdm_pg::load_rate_limits(&published_ms);
    nlohmann::json out = {{"published_ms", published_ms > 0 ? nlohmann::json(published_ms) : nlohmann::json()},
                          {"kinds", nlohmann::json::array()}};
    for (const abdm_pg::RateLimitState& k : kinds)
      out["kinds"].push_back({{"kind", k.kind},
                              {"configured_per_s", k.configured_per_s},
                              {"current_per_s", k.current_per_s},
                              {"throttles", k.throttles},
                              {"last_throttle_ms", k.last_throttle_ms > 0 ? nlohmann::json(k.last_throttle_ms) : nlohmann::json()}});
    return abdm_pg::jsonb_datum(out);
  });
}
}
