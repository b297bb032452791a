#include <gtest/gtest.h>

#include "core/abdm/link_token_policy.hpp"

using namespace abdm::proto;
using namespace std::chrono_literals;

TEST(LinkTokenPolicy, BlockedAddressWaitsADay) {
  const auto r = link_token_refusal("ABDM-1027");
  EXPECT_EQ(r.status, "blocked");
  EXPECT_EQ(r.retry_after, 24h);
}

TEST(LinkTokenPolicy, DuplicateRequestWaitsOutTheGatewayWindow) {
  const auto r = link_token_refusal("ABDM-1092");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.retry_after, 7min);
}

TEST(LinkTokenPolicy, AnythingElseWaitsAnHourNeverLoops) {
  for (const char* code : {"ABDM-9999", "", "900901", "ABDM-1010"}) {
    const auto r = link_token_refusal(code);
    EXPECT_EQ(r.status, "failed") << code;
    EXPECT_EQ(r.retry_after, 1h) << code;
  }
}
