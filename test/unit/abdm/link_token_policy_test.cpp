#include <gtest/gtest.h>

#include "core/abdm/link_token_policy.hpp"
#include "core/util/error.hpp"

using namespace abdm::proto;
using namespace std::chrono_literals;

TEST(LinkTokenPolicy, BlockedAddressWaitsADayThenTriesAgain) {
  const auto r = link_token_refusal("ABDM-1027", 1, 360s);
  EXPECT_EQ(r.status, "blocked");
  EXPECT_EQ(r.retry_after, 24h);
  EXPECT_TRUE(r.try_again);
}

TEST(LinkTokenPolicy, DuplicateRequestWaitsOutTheConfiguredWindow) {
  const auto r = link_token_refusal("ABDM-1092", 1, 360s);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.retry_after, 360s);
  EXPECT_TRUE(r.try_again);
  EXPECT_EQ(link_token_refusal("ABDM-1092", 1, 90s).retry_after, 90s);
}

TEST(LinkTokenPolicy, TooManyRequestsWaitsAMinute) {
  const auto r = link_token_refusal("ABDM-1022", 2, 360s);
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.retry_after, 60s);
  EXPECT_TRUE(r.try_again);
}

TEST(LinkTokenPolicy, PassingRefusalsAreBounded) {
  for (const char* code : {"ABDM-1027", "ABDM-1092", "ABDM-1022"}) {
    EXPECT_TRUE(link_token_refusal(code, kLinkTokenMaxTries - 1, 360s).try_again) << code;
    EXPECT_FALSE(link_token_refusal(code, kLinkTokenMaxTries, 360s).try_again) << code;
  }
}

TEST(LinkTokenPolicy, AnythingElseWaitsAnHourNeverLoops) {
  for (const char* code : {"ABDM-9999", "", "900901", "ABDM-1010"}) {
    const auto r = link_token_refusal(code, 1, 360s);
    EXPECT_EQ(r.status, "failed") << code;
    EXPECT_EQ(r.retry_after, 1h) << code;
    EXPECT_FALSE(r.try_again) << code;
  }
}

TEST(LinkTokenPolicy, RefusesNonsense) {
  EXPECT_THROW(link_token_refusal("ABDM-1092", 0, 360s), abdm::Error);
  EXPECT_THROW(link_token_refusal("ABDM-1092", 1, -1s), abdm::Error);
}
