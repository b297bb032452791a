// The sender's outbound rate limits: the settings abdm_hip.rate_limit_* read into the core's token
// buckets (core/net/rate_limit), each endpoint's available calls handed to the claim as its budget
// (abdm_hip_internal.outbox_claim), the calls claimed taken from the buckets, and throttle answers
// (429, ABDM-1022) slowing their endpoint. The sender is the gateway's only caller, so one set of
// buckets in its process is shared by every caller of the extension.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/net/delivery.hpp"
#include "core/net/rate_limit.hpp"

namespace abdm_pg {

class SenderRateLimits {
 public:
  using Clock = abdm::net::RateLimits::Clock;

  // Reads the settings (cheap; reconfigures a bucket only when its setting changed).
  void refresh(Clock::time_point now);
  // {"kind": calls available now, ...} for the limited kinds.
  std::string budgets_json(Clock::time_point now);
  // The rows a claim returned (id, kind): their calls are taken from the buckets; a kind whose
  // whole budget went waits for its bucket to refill before the next claim. Calls of an
  // unlimited endpoint are followed too, so its throttle answers are counted.
  void claimed(const std::vector<std::pair<std::int64_t, std::string>>& rows, Clock::time_point now);
  // Outcomes of finished calls: a throttle answer slows its endpoint down (and is logged when
  // the rate changes).
  void finished(const std::vector<abdm::net::Outcome>& outcomes, Clock::time_point now);
  // When the next claim should be made for a kind that ran out of budget; nullopt-like
  // Clock::time_point::max() when none waits.
  Clock::time_point next_claim() const noexcept { return next_claim_; }
  // The current rate of a kind (its halved rate after throttles), 0 = unlimited.
  double current_rate(const std::string& kind, Clock::time_point now);
  // Publishes every endpoint's configured and current rate and its throttle answers to shared
  // memory for the view abdm_hip.rate_limits: four times a second at most, and at once after a
  // throttle answer.
  void publish(Clock::time_point now);

 private:
  abdm::net::RateLimits limits_;
  std::map<std::string, std::pair<double, int>> configured_;  // kind → (rate, burst ms)
  std::map<std::string, long> last_budgets_;
  std::unordered_map<std::int64_t, std::string> kind_of_;  // in-flight id → kind (limited kinds only)
  Clock::time_point next_claim_ = Clock::time_point::max();
  std::map<std::string, std::int64_t> last_throttle_ms_;  // kind → Unix ms of its last throttle answer
  Clock::time_point next_publish_{};
};

}  // namespace abdm_pg
