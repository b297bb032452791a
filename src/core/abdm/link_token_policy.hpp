// What a refused link-token request means for the next one (NHA "Sandbox Documentation
// (ABDM_Milestone 2)" v2.8 §4.3.2 and its error list): the one rule, used whether the refusal
// arrives in on-generate-token or as the answer to the generate-token call itself
// (abdm_hip_internal.refuse_link_token, sql/schema/60_hip_linking.sql).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <string>
#include <string_view>

namespace abdm::proto {

struct LinkTokenRefusal {
  std::string status;                // "blocked" or "failed": the link_token row's new state
  std::chrono::seconds retry_after;  // no new request for this (HIP, ABHA address) before then
  bool try_again = false;            // the links wait and the token is asked for again after it
};

// Requests for one (HIP, ABHA address) refused with a passing reason are made again at most this
// many times in all; then its waiting links fail.
inline constexpr int kLinkTokenMaxTries = 3;

// refusals counts this refusal too (≥ 1); duplicate_window is abdm_hip.link_token_duplicate_window.
// ABDM-1027: the patient's address is blocked for 24 hours, then asked again; ABDM-1092: a duplicate
// request within the window (~6 minutes), asked again once it has passed; ABDM-1022: too many
// requests, asked again after a minute; a passing reason is asked again while refusals <
// kLinkTokenMaxTries. Anything else: no new request for an hour, and the waiting links fail, so a
// refusal never turns into a loop.
LinkTokenRefusal link_token_refusal(std::string_view gateway_code, int refusals,
                                    std::chrono::seconds duplicate_window);

}  // namespace abdm::proto
