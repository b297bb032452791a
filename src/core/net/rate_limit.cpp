#include "core/net/rate_limit.hpp"

#include <algorithm>
#include <cmath>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

double seconds_between(TokenBucket::Clock::time_point a, TokenBucket::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

void TokenBucket::configure(double rate_per_s, std::chrono::milliseconds burst, Clock::time_point now) {
  if (!(rate_per_s >= 0) || !std::isfinite(rate_per_s))
    throw Error(sqlstate::kInvalidParameter, "rate", "must be a number of calls per second, 0 or more");
  if (burst.count() < 0) throw Error(sqlstate::kInvalidParameter, "burst", "must be 0 ms or more");
  if (started_) advance(now);
  const bool was_limited = configured_ > 0;
  configured_ = rate_per_s;
  burst_ = burst;
  // A first limit (or one after "off") starts at full rate with a full bucket; a changed limit
  // keeps a halved rate halved, within the new bounds.
  if (!was_limited || !started_) {
    rate_ = configured_;
    started_ = true;
    last_ = now;
    tokens_ = capacity();
  } else {
    rate_ = std::clamp(rate_, floor_rate(), configured_);
    tokens_ = std::min(tokens_, capacity());
  }
}

double TokenBucket::floor_rate() const noexcept {
  return std::min(configured_, std::max(configured_ * kFloorFraction, kMinFloor));
}

double TokenBucket::capacity() const noexcept {
  if (configured_ <= 0) return 0;
  return std::max(1.0, rate_ * std::chrono::duration<double>(burst_).count());
}

void TokenBucket::advance(Clock::time_point now) {
  if (configured_ <= 0 || now <= last_) return;
  // Tokens at the rate that held over the interval (intervals are a claim apart: milliseconds).
  tokens_ = std::min(capacity(), tokens_ + rate_ * seconds_between(last_, now));
  // Recovery: only the part of the interval that lies 5 s or more after the last throttle.
  if (rate_ < configured_) {
    Clock::time_point from = last_;
    if (ever_throttled_) from = std::max(from, last_throttle_ + kQuietBeforeRecovery);
    if (now > from)
      rate_ = std::min(configured_, rate_ + configured_ * kRecoveryPerSecond * seconds_between(from, now));
  }
  last_ = now;
}

double TokenBucket::current_rate(Clock::time_point now) {
  advance(now);
  return configured_ > 0 ? rate_ : 0;
}

long TokenBucket::available(Clock::time_point now) {
  if (configured_ <= 0) return -1;
  advance(now);
  // A hair of tolerance: 0.9999999 tokens after a refill computed in doubles is one token.
  return static_cast<long>(std::floor(tokens_ + 1e-9));
}

void TokenBucket::take(long n, Clock::time_point now) {
  if (configured_ <= 0 || n <= 0) return;
  advance(now);
  tokens_ = std::max(0.0, tokens_ - static_cast<double>(n));
}

void TokenBucket::throttled(Clock::time_point now) {
  ++throttles_;
  if (configured_ <= 0) return;
  advance(now);
  const bool halve = !ever_throttled_ || now - last_halving_ >= kThrottleSpacing;
  ever_throttled_ = true;
  last_throttle_ = now;  // recovery waits from the storm's last answer
  tokens_ = 0;
  if (!halve) return;  // the same signal as the answers of the last second
  last_halving_ = now;
  rate_ = std::max(floor_rate(), rate_ / 2);
}

std::chrono::milliseconds TokenBucket::wait_for(long want, Clock::time_point now) {
  if (configured_ <= 0) return std::chrono::milliseconds(0);
  advance(now);
  const double need = std::min(static_cast<double>(want), capacity()) - tokens_;
  if (need <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<long>(std::ceil(need / rate_ * 1000.0)));
}

void RateLimits::configure(const std::string& kind, double rate_per_s, std::chrono::milliseconds burst,
                           Clock::time_point now) {
  buckets_[kind].configure(rate_per_s, burst, now);
}

std::map<std::string, long> RateLimits::budgets(Clock::time_point now) {
  std::map<std::string, long> out;
  for (auto& [kind, b] : buckets_)
    if (b.limited()) out[kind] = b.available(now);
  return out;
}

void RateLimits::took(const std::string& kind, long n, Clock::time_point now) {
  if (TokenBucket* b = find(kind)) b->take(n, now);
}

void RateLimits::throttled(const std::string& kind, Clock::time_point now) {
  buckets_[kind].throttled(now);
}

std::chrono::milliseconds RateLimits::next_refill(const std::map<std::string, bool>& starved, double fraction,
                                                  Clock::time_point now) {
  std::chrono::milliseconds best(-1);
  for (const auto& [kind, is_starved] : starved) {
    if (!is_starved) continue;
    TokenBucket* b = find(kind);
    if (!b || !b->limited()) continue;
    const long want = std::max(1L, static_cast<long>(std::floor(b->capacity() * fraction)));
    const std::chrono::milliseconds w = b->wait_for(want, now);
    if (best.count() < 0 || w < best) best = w;
  }
  return best;
}

TokenBucket* RateLimits::find(const std::string& kind) {
  auto it = buckets_.find(kind);
  return it == buckets_.end() ? nullptr : &it->second;
}

}  // namespace abdm::net
