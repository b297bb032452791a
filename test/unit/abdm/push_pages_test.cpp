#include "core/abdm/push_pages.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

using abdm::proto::PageLimits;
using abdm::proto::plan_pages;
using abdm::proto::PlannedPage;

namespace {

// (first, count) of each page, for compact expectations.
std::vector<std::pair<std::size_t, std::size_t>> shape(const std::vector<PlannedPage>& pages) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const auto& p : pages) out.emplace_back(p.first, p.count);
  return out;
}

}  // namespace

TEST(PlanPages, TheDefaultIsOneRecordPerPage) {
  auto pages = plan_pages({10, 20, 30}, PageLimits{1, 0});
  EXPECT_EQ(shape(pages), (std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}, {1, 1}, {2, 1}}));
  EXPECT_EQ(pages[1].bytes, 20u);
}

TEST(PlanPages, EntriesPerPageFillsPagesInListOrder) {
  // Ten records, seven a page (what the official wrapper sends): 7 + 3.
  auto pages = plan_pages(std::vector<std::uint64_t>(10, 100), PageLimits{7, 0});
  EXPECT_EQ(shape(pages), (std::vector<std::pair<std::size_t, std::size_t>>{{0, 7}, {7, 3}}));
  EXPECT_EQ(pages[0].bytes, 700u);
}

TEST(PlanPages, TheByteLimitClosesAPageBeforeItWouldBeExceeded) {
  auto pages = plan_pages({400, 400, 400, 100}, PageLimits{10, 1000});
  EXPECT_EQ(shape(pages), (std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}, {2, 2}}));
  EXPECT_FALSE(pages[0].oversized);
}

TEST(PlanPages, ARecordOverTheByteLimitGoesAloneAndIsMarked) {
  auto pages = plan_pages({100, 5000, 100, 100}, PageLimits{10, 1000});
  EXPECT_EQ(shape(pages), (std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}, {1, 1}, {2, 2}}));
  EXPECT_FALSE(pages[0].oversized);
  EXPECT_TRUE(pages[1].oversized);
  EXPECT_FALSE(pages[2].oversized);
}

TEST(PlanPages, AnOversizedFirstRecordDoesNotLeaveAnEmptyPage) {
  auto pages = plan_pages({5000, 100}, PageLimits{10, 1000});
  EXPECT_EQ(shape(pages), (std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}, {1, 1}}));
  EXPECT_TRUE(pages[0].oversized);
}

TEST(PlanPages, AnEmptyTransferIsOneEmptyPage) {
  auto pages = plan_pages({}, PageLimits{1, 0});
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].count, 0u);
}

TEST(PlanPages, ZeroEntriesPerPageIsTakenAsOne) {
  EXPECT_EQ(plan_pages({1, 2}, PageLimits{0, 0}).size(), 2u);
}

TEST(PlanPages, EveryRecordIsOnExactlyOnePage) {
  std::vector<std::uint64_t> sizes;
  for (int i = 0; i < 1000; ++i) sizes.push_back(static_cast<std::uint64_t>((i * 7919) % 3000));
  for (std::size_t per : {1u, 3u, 7u, 50u}) {
    for (std::uint64_t max : {0ull, 500ull, 2000ull, 10000ull}) {
      auto pages = plan_pages(sizes, PageLimits{per, max});
      std::size_t next = 0;
      for (const auto& p : pages) {
        EXPECT_EQ(p.first, next);
        EXPECT_GE(p.count, 1u);
        EXPECT_LE(p.count, per);
        if (max > 0 && !p.oversized) EXPECT_LE(p.bytes, max);
        if (p.oversized) EXPECT_EQ(p.count, 1u);
        next += p.count;
      }
      EXPECT_EQ(next, sizes.size());
    }
  }
}
