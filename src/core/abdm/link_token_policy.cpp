#include "core/abdm/link_token_policy.hpp"

#include "core/abdm/error_reply.hpp"

namespace abdm::proto {

LinkTokenRefusal link_token_refusal(std::string_view gateway_code) {
  using namespace std::chrono_literals;
  if (gateway_code == code::kBlocked24h) return {"blocked", 24h};
  if (gateway_code == code::kDuplicateTokenRequest) return {"failed", 7min};
  return {"failed", 1h};
}

}  // namespace abdm::proto
