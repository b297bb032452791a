// What to do with a finished HTTP call: done, retry later, renew the session and retry, or fail.
//
// Rules (each cites its public source):
// - Any 2xx is success, any non-2xx failure (ProjectEKA gateway clients/ServiceClient.java) — but a
//   2xx whose body carries an error envelope is a failure too: V3 calls were observed answering
//   HTTP 200 with {"error":{...}} (ohcnetwork/care-abdm gateway/outbound.py response_errors).
// - V3 error objects are {"code":"ABDM-1010","message":...}, alone, inside {"error":...}, or in a
//   list; codes may carry trailing punctuation ("ABDM-1027: ") and are normalised before use
//   (NHA Sandbox Documentation ABDM M2 v2.8 error tables; NHA ABDM-wrapper V1→V3 migration doc).
// - 401, or the WSO2 API-manager code 900901 "Invalid Credentials", means the session token is no
//   longer accepted: renew it and retry once (10bedicu/care_abdm service/request.py).
// - 5xx, 408, 429 and transport failures (timeouts, refused or reset connections) are transient;
//   other 4xx are final and their body is kept as the reason.
// - ABDM-1022 "too many requests" is transient whatever the HTTP status that carries it (NHA
//   Sandbox Documentation ABDM M2 v2.8 error list: the call may be made again later); it and 429
//   mark the answer as a throttle, which slows that endpoint's rate limit (core/net/rate_limit).
// - Backoff is exponential with "full jitter" (Brooker, "Exponential Backoff And Jitter", AWS
//   Architecture Blog, 2015): a uniform delay in [0, min(cap, base·2^(attempt-1))], which spreads
//   a burst of failures instead of retrying it in lock-step; a server's Retry-After is a floor.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/http_multi.hpp"
#include "core/util/gateway_error.hpp"  // the envelopes and codes classify() reads

namespace abdm::net {

enum class Verdict { kSuccess, kRetryable, kAuth, kPermanent };
const char* verdict_name(Verdict v) noexcept;  // "success", "retryable", "auth", "permanent"

struct Classification {
  Verdict verdict = Verdict::kPermanent;
  std::string error_code;               // first envelope's normalised code, "" when none
  std::string reason;                   // one line for operators; "" on success
  std::chrono::milliseconds retry_after{0};  // the server's Retry-After, 0 when absent
  bool throttled = false;               // HTTP 429 or ABDM-1022: the endpoint's rate is too high
};

inline constexpr const char* kTooManyRequestsCode = "ABDM-1022";

// Classifies a Result. The reason holds the HTTP status, the error code and the response body
// (cut to max_reason_chars) — except for a redacted call, whose body never appears.
Classification classify(const Result& r, std::size_t max_reason_chars = 2000);

struct BackoffPolicy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{std::chrono::minutes(5)};
  int max_attempts = 10;  // attempts in all, the first one included
};

// Full-jitter delay before attempt `attempt + 1`, given `attempt` (≥ 1) attempts made:
// uniform in [0, min(cap, base · 2^(attempt−1))], drawn from `random_bits` (any uniform 64-bit value).
std::chrono::milliseconds backoff_delay(const BackoffPolicy& p, int attempt, std::uint64_t random_bits);

enum class Action {
  kDone,                  // delivered
  kRetry,                 // try again after `delay`
  kRenewSessionAndRetry,  // invalidate the session token, get a new one, then retry at once
  kFail,                  // final: record `reason`
};
const char* action_name(Action a) noexcept;

struct Decision {
  Action action = Action::kFail;
  std::chrono::milliseconds delay{0};
  std::string reason;  // why it failed (kept on kRetry too, as the last error)
  bool throttled = false;  // the classification's: the caller slows the endpoint down
};

// attempts_made counts the attempt just classified (≥ 1); auth_renewals_used is how many times this
// message already took the renew-and-retry path (the session is renewed once per message, never in
// a loop). Throws abdm::Error for attempts_made < 1 or an invalid policy.
Decision decide(const Classification& c, int attempts_made, int auth_renewals_used,
                const BackoffPolicy& p, std::uint64_t random_bits);

}  // namespace abdm::net
