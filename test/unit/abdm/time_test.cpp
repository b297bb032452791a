#include "core/abdm/time.hpp"

#include <gtest/gtest.h>

#include "core/util/error.hpp"

using namespace abdm::proto;
using namespace std::chrono;

TEST(Time, ParsesStrictWithMilliseconds) {
  const TimePoint t = parse_timestamp("2024-05-20T11:29:27.358Z", "f", TimestampMode::kStrictUtc);
  EXPECT_EQ(format_timestamp(t), "2024-05-20T11:29:27.358Z");
  EXPECT_EQ(t.time_since_epoch().count(), 1716204567358);
}

TEST(Time, StrictToleratesMissingOrLongFraction) {
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20T11:29:27Z", "f", TimestampMode::kStrictUtc)),
            "2024-05-20T11:29:27.000Z");
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20T11:29:27.358123Z", "f", TimestampMode::kStrictUtc)),
            "2024-05-20T11:29:27.358Z");
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20T11:29:27.3Z", "f", TimestampMode::kStrictUtc)),
            "2024-05-20T11:29:27.300Z");
}

TEST(Time, StrictRefusesMissingZoneAndOffsets) {
  for (const char* bad : {"2024-05-20T11:29:27.358", "2024-05-20T11:29:27.358+05:30", "2024-05-20",
                          "2024-05-20 11:29:27Z", "2024-02-30T00:00:00Z", "2024-05-20T24:00:00Z",
                          "2024-05-20T11:29:27.Z", "20240520T112927Z", "", "garbage", "2024-05-20T11:29:27.358Zx"}) {
    try {
      parse_timestamp(bad, "TIMESTAMP", TimestampMode::kStrictUtc);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const abdm::Error& e) {
      EXPECT_EQ(e.field(), "TIMESTAMP");
      EXPECT_EQ(e.sqlstate(), "22023");
    }
  }
}

TEST(Time, LenientReadsOffsetsNoZoneAndDates) {
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20T16:59:27.358+05:30", "f")), "2024-05-20T11:29:27.358Z");
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20T06:29:27-0500", "f")), "2024-05-20T11:29:27.000Z");
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20T11:29:27.358", "f")), "2024-05-20T11:29:27.358Z");
  EXPECT_EQ(format_timestamp(parse_timestamp("2024-05-20", "f")), "2024-05-20T00:00:00.000Z");
  EXPECT_THROW(parse_timestamp("2024-13-01", "f"), abdm::Error);
  EXPECT_THROW(parse_timestamp("2024-05-20T11:29:27+25:00", "f"), abdm::Error);
}

TEST(Time, FormatsLeapDayAndEpoch) {
  EXPECT_EQ(format_timestamp(TimePoint{}), "1970-01-01T00:00:00.000Z");
  const TimePoint t = parse_timestamp("2024-02-29T23:59:59.999Z", "f", TimestampMode::kStrictUtc);
  EXPECT_EQ(format_timestamp(t), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(t + milliseconds{1}), "2024-03-01T00:00:00.000Z");
}
