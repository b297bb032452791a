#include "core/net/rate_limit.hpp"

#include <gtest/gtest.h>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = TokenBucket::Clock;

const Clock::time_point kStart = Clock::time_point() + std::chrono::hours(1);

TEST(TokenBucket, StartsFullWithTheBurst) {
  TokenBucket b;
  b.configure(50, milliseconds(100), kStart);
  EXPECT_EQ(b.available(kStart), 5);  // 50/s × 0.1 s
}

TEST(TokenBucket, BurstIsAtLeastOneCall) {
  TokenBucket b;
  b.configure(2, milliseconds(100), kStart);
  EXPECT_EQ(b.available(kStart), 1);
}

TEST(TokenBucket, UnlimitedWhenRateIsZero) {
  TokenBucket b;
  b.configure(0, milliseconds(100), kStart);
  EXPECT_FALSE(b.limited());
  EXPECT_EQ(b.available(kStart), -1);
  EXPECT_EQ(b.wait_for(10, kStart), milliseconds(0));
}

TEST(TokenBucket, RefusesNegativeSettings) {
  TokenBucket b;
  EXPECT_THROW(b.configure(-1, milliseconds(100), kStart), Error);
  EXPECT_THROW(b.configure(10, milliseconds(-1), kStart), Error);
}

TEST(TokenBucket, RefillsAtTheRateAndNoFurtherThanTheBurst) {
  TokenBucket b;
  b.configure(100, milliseconds(100), kStart);
  b.take(10, kStart);
  EXPECT_EQ(b.available(kStart), 0);
  EXPECT_EQ(b.available(kStart + milliseconds(30)), 3);
  EXPECT_EQ(b.available(kStart + seconds(10)), 10);
}

TEST(TokenBucket, LongRunGoesAtTheConfiguredRate) {
  // A caller that takes whatever is available every 7 ms for 60 s sends rate × 60 (+ the burst).
  TokenBucket b;
  b.configure(100, milliseconds(100), kStart);
  long sent = 0;
  for (auto t = kStart; t < kStart + seconds(60); t += milliseconds(7)) {
    const long n = b.available(t);
    b.take(n, t);
    sent += n;
  }
  EXPECT_GE(sent, 6000);
  EXPECT_LE(sent, 6010);
}

TEST(TokenBucket, ThrottleHalvesTheRateAndEmptiesTheBucket) {
  TokenBucket b;
  b.configure(64, milliseconds(1000), kStart);
  b.throttled(kStart);
  EXPECT_DOUBLE_EQ(b.current_rate(kStart), 32);
  EXPECT_EQ(b.available(kStart), 0);
  EXPECT_EQ(b.throttle_count(), 1);
}

TEST(TokenBucket, ThrottlesWithinASecondCountOnce) {
  TokenBucket b;
  b.configure(64, milliseconds(100), kStart);
  for (int i = 0; i < 20; ++i) b.throttled(kStart + milliseconds(10 * i));
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + milliseconds(200)), 32);
  EXPECT_EQ(b.throttle_count(), 20);
  b.throttled(kStart + milliseconds(1500));
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + milliseconds(1500)), 16);
}

TEST(TokenBucket, AContinuingStormHalvesOnceASecond) {
  // A 1022 every 300 ms for 3 s: halved at 0, 1.2 and 2.4 s.
  TokenBucket b;
  b.configure(64, milliseconds(100), kStart);
  for (int i = 0; i <= 10; ++i) b.throttled(kStart + milliseconds(300 * i));
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + milliseconds(3000)), 8);
}

TEST(TokenBucket, RateNeverFallsBelowTheFloor) {
  TokenBucket b;
  b.configure(640, milliseconds(100), kStart);
  for (int i = 0; i < 30; ++i) b.throttled(kStart + seconds(2 * i));
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + seconds(60)), 10);  // 640 / 64
  TokenBucket slow;
  slow.configure(20, milliseconds(100), kStart);
  for (int i = 0; i < 30; ++i) slow.throttled(kStart + seconds(2 * i));
  EXPECT_DOUBLE_EQ(slow.current_rate(kStart + seconds(60)), 1);  // never below 1/s
  TokenBucket tiny;
  tiny.configure(0.5, milliseconds(100), kStart);
  tiny.throttled(kStart);
  EXPECT_DOUBLE_EQ(tiny.current_rate(kStart), 0.5);  // nor above the configured rate
}

TEST(TokenBucket, RecoversAfterFiveQuietSeconds) {
  TokenBucket b;
  b.configure(100, milliseconds(100), kStart);
  b.throttled(kStart);
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + seconds(4)), 50);
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + seconds(5)), 50);
  EXPECT_NEAR(b.current_rate(kStart + seconds(6)), 55, 1e-6);   // +5 % of 100 a second
  EXPECT_NEAR(b.current_rate(kStart + seconds(10)), 75, 1e-6);
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + seconds(60)), 100);  // never above the configured rate
}

TEST(TokenBucket, AThrottleDuringRecoveryRestartsTheQuietTime) {
  TokenBucket b;
  b.configure(100, milliseconds(100), kStart);
  b.throttled(kStart);
  EXPECT_NEAR(b.current_rate(kStart + seconds(7)), 60, 1e-6);
  b.throttled(kStart + seconds(7));
  EXPECT_NEAR(b.current_rate(kStart + seconds(11)), 30, 1e-6);
  EXPECT_NEAR(b.current_rate(kStart + seconds(13)), 35, 1e-6);
}

TEST(TokenBucket, WaitForSaysWhenCallsMayGo) {
  TokenBucket b;
  b.configure(100, milliseconds(100), kStart);
  b.take(10, kStart);
  EXPECT_EQ(b.wait_for(5, kStart), milliseconds(50));
  EXPECT_EQ(b.wait_for(50, kStart), milliseconds(100));  // no more than the burst is waited for
  EXPECT_EQ(b.wait_for(5, kStart + milliseconds(50)), milliseconds(0));
}

TEST(TokenBucket, ReconfiguringKeepsTheThrottle) {
  TokenBucket b;
  b.configure(100, milliseconds(100), kStart);
  b.throttled(kStart);
  b.configure(200, milliseconds(100), kStart + milliseconds(10));
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + milliseconds(10)), 50);
  b.configure(20, milliseconds(100), kStart + milliseconds(20));
  EXPECT_DOUBLE_EQ(b.current_rate(kStart + milliseconds(20)), 20);
}

TEST(RateLimits, BudgetsOnlyForLimitedKinds) {
  RateLimits r;
  r.configure("generate_token", 50, milliseconds(100), kStart);
  r.configure("sms_notify2", 0, milliseconds(100), kStart);
  const auto b = r.budgets(kStart);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b.at("generate_token"), 5);
  r.took("generate_token", 5, kStart);
  r.took("on_discover", 100, kStart);  // unknown kinds are unlimited and ignored
  EXPECT_EQ(r.budgets(kStart).at("generate_token"), 0);
}

TEST(RateLimits, ThrottleSlowsOnlyItsKind) {
  RateLimits r;
  r.configure("generate_token", 64, milliseconds(100), kStart);
  r.configure("link_carecontext", 64, milliseconds(100), kStart);
  r.throttled("link_carecontext", kStart);
  EXPECT_DOUBLE_EQ(r.find("generate_token")->current_rate(kStart), 64);
  EXPECT_DOUBLE_EQ(r.find("link_carecontext")->current_rate(kStart), 32);
}

TEST(RateLimits, NextRefillOnlyForStarvedKinds) {
  RateLimits r;
  r.configure("generate_token", 100, milliseconds(100), kStart);
  r.configure("link_carecontext", 10, milliseconds(1000), kStart);
  r.took("generate_token", 10, kStart);
  r.took("link_carecontext", 10, kStart);
  EXPECT_EQ(r.next_refill({{"generate_token", false}, {"link_carecontext", false}}, 0.5, kStart), milliseconds(-1));
  EXPECT_EQ(r.next_refill({{"generate_token", true}}, 0.5, kStart), milliseconds(50));
  EXPECT_EQ(r.next_refill({{"generate_token", true}, {"link_carecontext", true}}, 0.5, kStart), milliseconds(50));
  EXPECT_EQ(r.next_refill({{"link_carecontext", true}}, 0.5, kStart), milliseconds(500));
}

}  // namespace
}  // namespace abdm::net
