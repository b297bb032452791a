#include "pg/sender_rate_limits.hpp"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "pg/gucs.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

// The gateway endpoints with a limit of their own, by outbox kind, and the setting that holds it.
struct LimitedKind {
  const char* kind;
  const double* rate;
};
const LimitedKind kLimitedKinds[] = {
    {"generate_token", &abdm_rate_limit_generate_token},
    {"link_carecontext", &abdm_rate_limit_link_carecontext},
    {"context_notify", &abdm_rate_limit_context_notify},
    {"sms_notify2", &abdm_rate_limit_sms_notify2},
};

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A claim for a kind that ran out waits until its bucket holds half a burst again: claims of a
// few rows each, rather than a transaction per token.
constexpr double kRefillFraction = 0.5;

}  // namespace

void SenderRateLimits::refresh(Clock::time_point now) {
  for (const LimitedKind& k : kLimitedKinds) {
    const std::pair<double, int> setting{*k.rate, abdm_rate_limit_burst_ms};
    auto it = configured_.find(k.kind);
    if (it != configured_.end() && it->second == setting) continue;
    limits_.configure(k.kind, setting.first, std::chrono::milliseconds(setting.second), now);
    configured_[k.kind] = setting;
  }
}

std::string SenderRateLimits::budgets_json(Clock::time_point now) {
  last_budgets_ = limits_.budgets(now);
  nlohmann::json b = nlohmann::json::object();
  for (const auto& [kind, n] : last_budgets_) b[kind] = n;
  return b.dump();
}

void SenderRateLimits::claimed(const std::vector<std::pair<std::int64_t, std::string>>& rows, Clock::time_point now) {
  std::map<std::string, long> taken;
  for (const auto& [id, kind] : rows) {
    if (!limits_.find(kind)) continue;
    kind_of_[id] = kind;
    if (last_budgets_.count(kind)) ++taken[kind];
  }
  std::map<std::string, bool> starved;
  for (const auto& [kind, budget] : last_budgets_) {
    const long n = taken.count(kind) ? taken[kind] : 0;
    if (n > 0) limits_.took(kind, n, now);
    // Its whole budget went (or there was none): more rows of the kind are probably due.
    starved[kind] = n >= budget;
  }
  const std::chrono::milliseconds wait = limits_.next_refill(starved, kRefillFraction, now);
  next_claim_ = wait.count() < 0 ? Clock::time_point::max() : now + std::max(wait, std::chrono::milliseconds(1));
}

void SenderRateLimits::finished(const std::vector<abdm::net::Outcome>& outcomes, Clock::time_point now) {
  for (const abdm::net::Outcome& o : outcomes) {
    auto it = kind_of_.find(o.id);
    if (it == kind_of_.end()) continue;
    const std::string kind = std::move(it->second);
    kind_of_.erase(it);
    if (!o.throttled) continue;
    abdm::net::TokenBucket* b = limits_.find(kind);
    if (!b) continue;
    last_throttle_ms_[kind] = unix_ms();
    next_publish_ = Clock::time_point{};  // the view shows it at once
    const double before = b->current_rate(now);
    limits_.throttled(kind, now);
    const double after = b->current_rate(now);
    if (after < before) {
      char line[200];
      snprintf(line, sizeof line,
                    "abdm_hip sender: the gateway throttled %s (HTTP %ld%s): its rate goes from %.1f/s to %.1f/s for now",
                    kind.c_str(), o.http_status, o.http_status == 429 ? "" : ", ABDM-1022", before, after);
      log_line(line);
    }
  }
}

void SenderRateLimits::publish(Clock::time_point now) {
  if (now < next_publish_) return;
  next_publish_ = now + std::chrono::milliseconds(250);
  std::vector<RateLimitState> kinds;
  for (const LimitedKind& k : kLimitedKinds) {
    abdm::net::TokenBucket* b = limits_.find(k.kind);
    if (!b) continue;
    const auto last = last_throttle_ms_.find(k.kind);
    kinds.push_back({k.kind, b->configured_rate(), b->limited() ? b->current_rate(now) : 0, b->throttle_count(),
                     last == last_throttle_ms_.end() ? 0 : last->second});
  }
  publish_rate_limits(kinds, unix_ms());
}

double SenderRateLimits::current_rate(const std::string& kind, Clock::time_point now) {
  abdm::net::TokenBucket* b = limits_.find(kind);
  return b ? b->current_rate(now) : 0;
}

}  // namespace abdm_pg
