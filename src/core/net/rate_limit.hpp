// Outbound rate limits per gateway endpoint: a token bucket for each kind of call, which the sender
// (the only caller of the gateway) consults before it claims rows, so every caller shares one rate.
//
// Why: ABDM throttles each API of a client (HIP) and answers a burst above its limit with
// ABDM-1022 "too many requests" (NHA Sandbox Documentation ABDM M2 v2.8, error list); a HIP that
// announces years of history at full speed spends its quota on refused calls and may be blocked.
//
// Rules (one home; test/unit/net/rate_limit_test.cpp):
// - A kind's bucket fills at its rate (calls/s) up to a burst of rate × burst time (at least one
//   call); each call takes a token. Rate 0 means no limit for that kind.
// - A throttle answer (HTTP 429 or ABDM-1022) halves the kind's current rate and empties its bucket
//   — at most once a second, so one batch of refused calls counts as one signal, as TCP cuts its
//   window once per round trip (RFC 5681 §3.1) — down to a floor of 1/64 of the configured rate,
//   but never below 1 call/s (nor above the configured rate).
// - After 5 s without a throttle answer the rate recovers additively, by 5 % of the configured
//   rate per second (from the floor back to full in about 20 s): additive increase, multiplicative
//   decrease (Chiu and Jain, 1989) converges on the share the gateway allows without oscillating
//   between full speed and a storm.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <map>
#include <string>

namespace abdm::net {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kFloorFraction = 1.0 / 64;
  static constexpr double kMinFloor = 1.0;  // calls/s
  static constexpr std::chrono::seconds kQuietBeforeRecovery{5};
  static constexpr double kRecoveryPerSecond = 0.05;  // of the configured rate
  static constexpr std::chrono::seconds kThrottleSpacing{1};

  // rate_per_s ≥ 0 (0 = unlimited), burst ≥ 0 ms. Throws abdm::Error for a negative value. A new
  // configuration keeps the tokens (capped) and a halved rate (capped at the new rate).
  void configure(double rate_per_s, std::chrono::milliseconds burst, Clock::time_point now);

  bool limited() const noexcept { return configured_ > 0; }
  double configured_rate() const noexcept { return configured_; }
  double current_rate(Clock::time_point now);  // after recovery up to now
  double capacity() const noexcept;            // the burst in calls at the current rate

  // Whole calls that may go now (refills first); -1 when unlimited.
  long available(Clock::time_point now);
  // n calls went (n ≤ available(now)); taking more leaves the bucket empty, never negative.
  void take(long n, Clock::time_point now);
  // A throttle answer arrived.
  void throttled(Clock::time_point now);
  // How long until `want` whole calls may go (0 when they may now, or when unlimited).
  std::chrono::milliseconds wait_for(long want, Clock::time_point now);
  long throttle_count() const noexcept { return throttles_; }

 private:
  void advance(Clock::time_point now);
  double floor_rate() const noexcept;

  double configured_ = 0;
  double rate_ = 0;
  std::chrono::milliseconds burst_{100};
  double tokens_ = 0;
  Clock::time_point last_{};
  Clock::time_point last_throttle_{};
  Clock::time_point last_halving_{};
  bool ever_throttled_ = false;
  bool started_ = false;
  long throttles_ = 0;
};

// One bucket per kind of call (generate_token, link_carecontext, ...); kinds without a bucket are
// unlimited.
class RateLimits {
 public:
  using Clock = TokenBucket::Clock;
  void configure(const std::string& kind, double rate_per_s, std::chrono::milliseconds burst,
                 Clock::time_point now);
  // Each limited kind's whole calls available now (the claim takes no more of that kind).
  std::map<std::string, long> budgets(Clock::time_point now);
  void took(const std::string& kind, long n, Clock::time_point now);
  void throttled(const std::string& kind, Clock::time_point now);
  // How long until a kind that is out of tokens has `fraction` of its burst again (the sender's
  // next claim); -1 ms when no limited kind waits.
  std::chrono::milliseconds next_refill(const std::map<std::string, bool>& starved, double fraction,
                                        Clock::time_point now);
  TokenBucket* find(const std::string& kind);
  const std::map<std::string, TokenBucket>& buckets() const noexcept { return buckets_; }

 private:
  std::map<std::string, TokenBucket> buckets_;
};

}  // namespace abdm::net
