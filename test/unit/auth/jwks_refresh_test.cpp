#include "core/auth/jwks_refresh.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/util/error.hpp"

namespace abdm::auth {
namespace {

using std::chrono::seconds;
using Reason = JwksRefreshPolicy::Reason;
using time_point = JwksRefreshPolicy::time_point;

const time_point t0 = time_point(seconds(1'700'000'000));

TEST(JwksRefresh, FirstFetchIsAllowedForEveryReason) {
  const JwksRefreshPolicy p;
  EXPECT_EQ(p.min_interval(), seconds(60));
  EXPECT_EQ(p.max_age(), seconds(3600));
  EXPECT_TRUE(p.should_fetch(Reason::kNoKeys, t0));
  EXPECT_TRUE(p.should_fetch(Reason::kUnknownKid, t0));
  EXPECT_TRUE(p.should_fetch(Reason::kMaxAge, t0));
  EXPECT_EQ(p.last_attempt(), time_point{});
  EXPECT_EQ(p.last_success(), time_point{});
  EXPECT_EQ(p.consecutive_failures(), 0);
}

TEST(JwksRefresh, NoTwoAttemptsWithinMinInterval) {
  JwksRefreshPolicy p;
  p.fetched(true, t0);
  for (Reason r : {Reason::kNoKeys, Reason::kUnknownKid, Reason::kMaxAge}) {
    EXPECT_FALSE(p.should_fetch(r, t0));
    EXPECT_FALSE(p.should_fetch(r, t0 + seconds(59)));
  }
  EXPECT_TRUE(p.should_fetch(Reason::kUnknownKid, t0 + seconds(60)));
  EXPECT_TRUE(p.should_fetch(Reason::kNoKeys, t0 + seconds(60)));
  // A failed attempt counts the same.
  p.fetched(false, t0 + seconds(60));
  EXPECT_FALSE(p.should_fetch(Reason::kNoKeys, t0 + seconds(119)));
  EXPECT_TRUE(p.should_fetch(Reason::kNoKeys, t0 + seconds(120)));
}

TEST(JwksRefresh, UnknownKidStormFetchesAtMostOncePerInterval) {
  JwksRefreshPolicy p;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> step_ms(0, 3000);
  std::bernoulli_distribution ok(0.5);
  time_point now = t0;
  time_point last_fetch{};
  int fetches = 0;
  for (int i = 0; i < 1000; ++i) {
    now += std::chrono::milliseconds(step_ms(rng));
    if (p.should_fetch(Reason::kUnknownKid, now)) {
      if (fetches > 0) {
        EXPECT_GE(now - last_fetch, seconds(60));
      }
      p.fetched(ok(rng), now);
      last_fetch = now;
      ++fetches;
    }
  }
  const auto elapsed = std::chrono::duration_cast<seconds>(now - t0).count();
  EXPECT_GE(fetches, 2);
  EXPECT_LE(fetches, elapsed / 60 + 1);
}

TEST(JwksRefresh, MaxAgeOnlyWhenTheSetIsOld) {
  JwksRefreshPolicy p(seconds(60), seconds(3600));
  p.fetched(true, t0);
  EXPECT_FALSE(p.should_fetch(Reason::kMaxAge, t0 + seconds(61)));
  EXPECT_FALSE(p.should_fetch(Reason::kMaxAge, t0 + seconds(3599)));
  EXPECT_TRUE(p.should_fetch(Reason::kMaxAge, t0 + seconds(3600)));
  // A failed refresh does not make the set younger, but still spaces attempts.
  p.fetched(false, t0 + seconds(3600));
  EXPECT_FALSE(p.should_fetch(Reason::kMaxAge, t0 + seconds(3630)));
  EXPECT_TRUE(p.should_fetch(Reason::kMaxAge, t0 + seconds(3660)));
  p.fetched(true, t0 + seconds(3660));
  EXPECT_FALSE(p.should_fetch(Reason::kMaxAge, t0 + seconds(3800)));
  EXPECT_EQ(p.last_success(), t0 + seconds(3660));
}

TEST(JwksRefresh, MaxAgeFetchesWhenNothingWasEverFetched) {
  JwksRefreshPolicy p;
  p.fetched(false, t0);
  EXPECT_FALSE(p.should_fetch(Reason::kMaxAge, t0 + seconds(30)));
  EXPECT_TRUE(p.should_fetch(Reason::kMaxAge, t0 + seconds(60)));
}

TEST(JwksRefresh, CountsConsecutiveFailures) {
  JwksRefreshPolicy p;
  p.fetched(false, t0);
  p.fetched(false, t0 + seconds(60));
  p.fetched(false, t0 + seconds(120));
  EXPECT_EQ(p.consecutive_failures(), 3);
  EXPECT_EQ(p.last_attempt(), t0 + seconds(120));
  EXPECT_EQ(p.last_success(), time_point{});
  p.fetched(true, t0 + seconds(180));
  EXPECT_EQ(p.consecutive_failures(), 0);
  EXPECT_EQ(p.last_success(), t0 + seconds(180));
  p.fetched(false, t0 + seconds(240));
  EXPECT_EQ(p.consecutive_failures(), 1);
  EXPECT_EQ(p.last_success(), t0 + seconds(180));
}

TEST(JwksRefresh, ClockSteppingBackAllowsOneAttempt) {
  JwksRefreshPolicy p;
  p.fetched(true, t0);
  const time_point earlier = t0 - std::chrono::hours(2);
  EXPECT_TRUE(p.should_fetch(Reason::kUnknownKid, earlier));
  p.fetched(true, earlier);
  EXPECT_FALSE(p.should_fetch(Reason::kUnknownKid, earlier + seconds(10)));
}

TEST(JwksRefresh, SettersChangeTheIntervals) {
  JwksRefreshPolicy p;
  p.fetched(true, t0);
  EXPECT_FALSE(p.should_fetch(Reason::kUnknownKid, t0 + seconds(20)));
  p.set_min_interval(seconds(10));
  EXPECT_TRUE(p.should_fetch(Reason::kUnknownKid, t0 + seconds(20)));
  EXPECT_FALSE(p.should_fetch(Reason::kMaxAge, t0 + seconds(300)));
  p.set_max_age(seconds(300));
  EXPECT_TRUE(p.should_fetch(Reason::kMaxAge, t0 + seconds(300)));
  EXPECT_EQ(p.min_interval(), seconds(10));
  EXPECT_EQ(p.max_age(), seconds(300));
}

TEST(JwksRefresh, NegativeIntervalsAreRefused) {
  EXPECT_THROW(JwksRefreshPolicy(seconds(-1), seconds(10)), Error);
  EXPECT_THROW(JwksRefreshPolicy(seconds(1), seconds(-10)), Error);
  JwksRefreshPolicy p;
  EXPECT_THROW(p.set_min_interval(seconds(-5)), Error);
  EXPECT_THROW(p.set_max_age(seconds(-5)), Error);
  EXPECT_EQ(p.min_interval(), seconds(60));
}

}  // namespace
}  // namespace abdm::auth
