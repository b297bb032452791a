#include "core/net/v3_headers.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

system_clock::time_point at_ms(long long ms) { return system_clock::time_point(milliseconds(ms)); }

TEST(V3Headers, TimestampIsUtcWithMillisecondsAndZ) {
  // 2026-01-01T10:00:00Z = 1767261600 s since the epoch.
  EXPECT_EQ(format_v3_timestamp(at_ms(1767261600000LL)), "2026-01-01T10:00:00.000Z");
  EXPECT_EQ(format_v3_timestamp(at_ms(1767261600007LL)), "2026-01-01T10:00:00.007Z");
  EXPECT_EQ(format_v3_timestamp(at_ms(1767261659999LL)), "2026-01-01T10:00:59.999Z");
  EXPECT_EQ(format_v3_timestamp(at_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_v3_timestamp(at_ms(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(V3Headers, FullSetInOrder) {
  V3HeaderInput in;
  in.access_token = "tok";
  in.request_id = "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01";
  in.cm_id = "sbx";
  in.hip_id = "IN1410000232_1";
  in.link_token = "eyJhbGciOi.link";
  const Headers h = build_v3_headers(in, at_ms(1767261600123LL));
  ASSERT_EQ(h.size(), 7u);
  EXPECT_EQ(h[0].name, "Authorization");
  EXPECT_EQ(h[0].value, "Bearer tok");
  EXPECT_EQ(h[1].name, "REQUEST-ID");
  EXPECT_EQ(h[1].value, "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01");
  EXPECT_EQ(h[2].name, "TIMESTAMP");
  EXPECT_EQ(h[2].value, "2026-01-01T10:00:00.123Z");
  EXPECT_EQ(h[3].name, "X-CM-ID");
  EXPECT_EQ(h[3].value, "sbx");
  EXPECT_EQ(h[4].name, "Content-Type");
  EXPECT_EQ(h[4].value, "application/json");
  EXPECT_EQ(h[5].name, "X-HIP-ID");
  EXPECT_EQ(h[5].value, "IN1410000232_1");
  EXPECT_EQ(h[6].name, "X-LINK-TOKEN");
  EXPECT_EQ(h[6].value, "eyJhbGciOi.link");  // bare, no "Bearer"
}

TEST(V3Headers, OptionalHeadersLeftOutWhenEmpty) {
  V3HeaderInput in{"tok", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "abdm", "", ""};
  const Headers h = build_v3_headers(in, system_clock::now());
  ASSERT_EQ(h.size(), 5u);
  for (const auto& x : h) {
    EXPECT_NE(x.name, "X-HIP-ID");
    EXPECT_NE(x.name, "X-LINK-TOKEN");
  }
}

TEST(V3Headers, RequestIdStaysWhatTheCallerGave) {
  V3HeaderInput in{"tok", "3F9C1A8E-2B7D-4C1E-9A0F-5D6B7C8E9F01", "sbx", "", ""};
  const Headers a = build_v3_headers(in, at_ms(1000));
  const Headers b = build_v3_headers(in, at_ms(61000));  // a retry a minute later
  EXPECT_EQ(a[1].value, b[1].value);
  EXPECT_NE(a[2].value, b[2].value);  // but TIMESTAMP is the send time
}

TEST(V3Headers, RejectsBadInput) {
  const auto now = system_clock::now();
  try {
    build_v3_headers({"tok", "not-a-uuid", "sbx", "", ""}, now);
    FAIL() << "accepted a bad REQUEST-ID";
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "22P02");
    EXPECT_EQ(e.field(), "REQUEST-ID");
  }
  try {
    build_v3_headers({"", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "sbx", "", ""}, now);
    FAIL() << "accepted a missing token";
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "23502");
    EXPECT_EQ(e.field(), "access_token");
  }
  EXPECT_THROW(build_v3_headers({"tok", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "", "", ""}, now), Error);
  EXPECT_THROW(build_v3_headers({"tok", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "sbx", "IN1\r\nX: y", ""}, now),
               Error);
  EXPECT_THROW(build_v3_headers({"tok\n", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "sbx", "", ""}, now), Error);
}

TEST(V3Headers, UuidCheck) {
  EXPECT_TRUE(is_uuid("3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01"));
  EXPECT_FALSE(is_uuid("3f9c1a8e2b7d4c1e9a0f5d6b7c8e9f01"));
  EXPECT_FALSE(is_uuid("3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f0g"));
  EXPECT_FALSE(is_uuid("3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f012"));
  EXPECT_FALSE(is_uuid(""));
}

TEST(V3Headers, NewRequestIdsAreVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_request_id();
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(V3Headers, DataPushWithAndWithoutASession) {
  const auto now = system_clock::now();
  V3HeaderInput in{"tok", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "sbx", "IN1", ""};
  auto has = [](const Headers& h, const char* name) {
    for (const auto& [k, v] : h)
      if (k == name) return true;
    return false;
  };
  const Headers with = build_data_push_headers(in, now);
  EXPECT_TRUE(has(with, "Authorization"));
  EXPECT_TRUE(has(with, "X-HIP-ID"));
  in.access_token = "";
  const Headers without = build_data_push_headers(in, now);
  EXPECT_FALSE(has(without, "Authorization"));
  EXPECT_TRUE(has(without, "X-HIP-ID"));
  EXPECT_TRUE(has(without, "REQUEST-ID"));
  in.hip_id = "";
  EXPECT_THROW(build_data_push_headers(in, now), Error);
}

TEST(V3Headers, HookCallsCarryNoCredentials) {
  const Headers h = build_hook_headers("3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", system_clock::now());
  ASSERT_EQ(h.size(), 3u);
  for (const auto& [k, v] : h) EXPECT_NE(k, "Authorization");
}

}  // namespace
}  // namespace abdm::net
