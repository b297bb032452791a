#include "core/abdm/link_token_policy.hpp"

#include "core/abdm/error_reply.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {

LinkTokenRefusal link_token_refusal(std::string_view gateway_code, int refusals,
                                    std::chrono::seconds duplicate_window) {
  using namespace std::chrono_literals;
  if (refusals < 1) throw Error(sqlstate::kInvalidParameter, "refusals", "must be at least 1");
  if (duplicate_window < 0s)
    throw Error(sqlstate::kInvalidParameter, "duplicate_window", "must not be negative");
  const bool again = refusals < kLinkTokenMaxTries;
  if (gateway_code == code::kBlocked24h) return {"blocked", 24h, again};
  if (gateway_code == code::kDuplicateTokenRequest) return {"failed", duplicate_window, again};
  if (gateway_code == code::kTooManyRequests) return {"failed", 60s, again};
  return {"failed", 1h, false};
}

}  // namespace abdm::proto
