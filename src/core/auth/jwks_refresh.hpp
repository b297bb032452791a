// When to fetch the gateway's JWKS again: pure time logic, no I/O.
//
// A token whose kid we do not know may mean the gateway rotated its keys — or that someone sends
// tokens with made-up kids. Either way at most one fetch attempt (successful or not) happens per
// min_interval, whatever the reason, so no stream of tokens can make us fetch in a loop or hammer
// the gateway while it is down. Besides that, a set older than max_age is fetched again on its own
// (the caller asks with kMaxAge on its way), so a key the gateway withdrew stops being trusted.
//
// Times are wall-clock (system_clock, as verify_jwt's `now`), so last_success() can be shown as a
// timestamp. If the clock steps backwards past the last attempt, the elapsed time is unknown and
// one attempt is allowed; the next is limited again from there.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>

namespace abdm::auth {

class JwksRefreshPolicy {
 public:
  using time_point = std::chrono::system_clock::time_point;

  enum class Reason {
    kNoKeys,      // no key set cached yet (first token, or every fetch so far failed)
    kUnknownKid,  // a token names a kid the cached set lacks
    kMaxAge,      // periodic: the cached set may be stale
  };

  // Throws abdm::Error (22023) for a negative interval.
  explicit JwksRefreshPolicy(std::chrono::seconds min_interval = std::chrono::seconds{60},
                             std::chrono::seconds max_age = std::chrono::seconds{3600});

  // Whether to start a fetch now. Does not record anything: call fetched() when the attempt ends,
  // with the time it started (so a slow fetch does not shorten the interval before the next one).
  bool should_fetch(Reason reason, time_point now) const noexcept;
  void fetched(bool ok, time_point started) noexcept;

  // time_point{} (the epoch) before the first attempt / success.
  time_point last_attempt() const noexcept { return last_attempt_; }
  time_point last_success() const noexcept { return last_success_; }
  int consecutive_failures() const noexcept { return consecutive_failures_; }

  std::chrono::seconds min_interval() const noexcept { return min_interval_; }
  std::chrono::seconds max_age() const noexcept { return max_age_; }
  // On configuration reload; the history (last attempt, last success, failures) is kept.
  // Throw abdm::Error (22023) for a negative interval.
  void set_min_interval(std::chrono::seconds s);
  void set_max_age(std::chrono::seconds s);

 private:
  std::chrono::seconds min_interval_;
  std::chrono::seconds max_age_;
  bool attempted_ = false;
  bool succeeded_ = false;
  time_point last_attempt_{};
  time_point last_success_{};
  int consecutive_failures_ = 0;
};

}  // namespace abdm::auth
