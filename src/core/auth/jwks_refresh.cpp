#include "core/auth/jwks_refresh.hpp"

#include <limits>

#include "core/util/error.hpp"

namespace abdm::auth {
namespace {

std::chrono::seconds non_negative(std::chrono::seconds s, const char* field) {
  if (s < std::chrono::seconds{0}) throw Error(sqlstate::kInvalidParameter, field, "must not be negative");
  return s;
}

}  // namespace

JwksRefreshPolicy::JwksRefreshPolicy(std::chrono::seconds min_interval, std::chrono::seconds max_age)
    : min_interval_(non_negative(min_interval, "min_interval")),
      max_age_(non_negative(max_age, "max_age")) {}

bool JwksRefreshPolicy::should_fetch(Reason reason, time_point now) const noexcept {
  // The one limit every reason obeys. now < last attempt: the clock stepped back (see header).
  if (attempted_ && now >= last_attempt_ && now - last_attempt_ < min_interval_) return false;
  switch (reason) {
    case Reason::kNoKeys:
    case Reason::kUnknownKid:
      return true;
    case Reason::kMaxAge:
      return !succeeded_ || now < last_success_ || now - last_success_ >= max_age_;
  }
  return false;
}

void JwksRefreshPolicy::fetched(bool ok, time_point started) noexcept {
  attempted_ = true;
  last_attempt_ = started;
  if (ok) {
    succeeded_ = true;
    last_success_ = started;
    consecutive_failures_ = 0;
  } else if (consecutive_failures_ < std::numeric_limits<int>::max()) {
    ++consecutive_failures_;
  }
}

void JwksRefreshPolicy::set_min_interval(std::chrono::seconds s) { min_interval_ = non_negative(s, "min_interval"); }
void JwksRefreshPolicy::set_max_age(std::chrono::seconds s) { max_age_ = non_negative(s, "max_age"); }

}  // namespace abdm::auth
