#include "core/abdm/headers.hpp"

#include <gtest/gtest.h>

#include "core/abdm/error_reply.hpp"

using namespace abdm::proto;
using nlohmann::json;
using namespace std::chrono;

namespace {
const TimePoint kHeadersNow = parse_timestamp("2026-01-01T10:00:00.000Z", "now", TimestampMode::kStrictUtc);

json good() {
  return {{"REQUEST-ID", "499a5a4a-7dda-4f20-9b67-e24589627061"},
          {"TIMESTAMP", "2026-01-01T09:59:58.123Z"},
          {"X-HIP-ID", "IN1410000232_1"},
          {"X-CM-ID", "sbx"},
          {"Authorization", "Bearer eyJ..."}};
}

ErrorReply refuse(const json& headers, const HeaderPolicy& policy = {}) {
  try {
    validate_inbound_headers(headers, kHeadersNow, policy);
  } catch (const abdm::Error& e) {
    return error_reply(e);
  }
  ADD_FAILURE() << "accepted " << headers.dump();
  return {};
}
}  // namespace

TEST(Headers, AcceptsGatewayHeaders) {
  const InboundHeaders h = validate_inbound_headers(good(), kHeadersNow);
  EXPECT_EQ(h.request_id, "499a5a4a-7dda-4f20-9b67-e24589627061");
  EXPECT_EQ(h.hip_id, "IN1410000232_1");
  EXPECT_EQ(format_timestamp(h.timestamp_at), "2026-01-01T09:59:58.123Z");
  EXPECT_EQ(h.cm_id, "sbx");
  ASSERT_TRUE(h.authorization);
  const json j = h.to_json();
  EXPECT_EQ(j["requestId"], "499a5a4a-7dda-4f20-9b67-e24589627061");
  EXPECT_FALSE(j.contains("authorization"));  // credentials are never stored
}

TEST(Headers, NamesAreCaseInsensitiveAndUnderscoreTolerant) {
  json h = {{"request-id", "499a5a4a-7dda-4f20-9b67-e24589627061"},
            {"Timestamp", "2026-01-01T10:00:00Z"},
            {"X_HIP_ID", json::array({"IN0710000001"})}};
  const InboundHeaders r = validate_inbound_headers(h, kHeadersNow);
  EXPECT_EQ(r.hip_id, "IN0710000001");
  EXPECT_FALSE(r.cm_id);
}

TEST(Headers, MissingOrBlankIsAccessDenied) {
  for (const char* name : {"REQUEST-ID", "TIMESTAMP", "X-HIP-ID"}) {
    json h = good();
    h.erase(name);
    ErrorReply r = refuse(h);
    EXPECT_EQ(r.http_status, 403) << name;
    EXPECT_NE(r.message.find(name), std::string::npos);
    EXPECT_NE(r.message.find("Access Denied"), std::string::npos);
    h[name] = "   ";
    EXPECT_EQ(refuse(h).http_status, 403) << name;
  }
  EXPECT_EQ(refuse(json::object()).http_status, 403);
  EXPECT_EQ(refuse(json()).http_status, 403);
}

TEST(Headers, HipIdOptionalWhenPolicySaysSo) {
  json h = good();
  h.erase("X-HIP-ID");
  HeaderPolicy p;
  p.require_hip_id = false;
  EXPECT_EQ(validate_inbound_headers(h, kHeadersNow, p).hip_id, "");
}

TEST(Headers, BadRequestIdIs1030) {
  json h = good();
  h["REQUEST-ID"] = "not-a-uuid";
  ErrorReply r = refuse(h);
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.code, "ABDM-1030");
}

TEST(Headers, BadTimestampIs1016) {
  for (const char* ts : {"2026-01-01 10:00:00", "2026-01-01T10:00:00.000+05:30", "yesterday", "2026-01-01T10:00:00.000"}) {
    json h = good();
    h["TIMESTAMP"] = ts;
    ErrorReply r = refuse(h);
    EXPECT_EQ(r.http_status, 400) << ts;
    EXPECT_EQ(r.code, "ABDM-1016") << ts;
  }
}

TEST(Headers, TimestampWindowIsConfigurable) {
  json h = good();
  h["TIMESTAMP"] = "2026-01-01T09:50:00.000Z";  // exactly 10 min old: inside the default window
  EXPECT_NO_THROW(validate_inbound_headers(h, kHeadersNow));
  h["TIMESTAMP"] = "2026-01-01T09:49:59.999Z";
  EXPECT_EQ(refuse(h).code, "ABDM-1016");
  h["TIMESTAMP"] = "2026-01-01T10:09:00.000Z";  // 9 min ahead: inside
  EXPECT_NO_THROW(validate_inbound_headers(h, kHeadersNow));
  h["TIMESTAMP"] = "2026-01-01T10:09:00.001Z";
  EXPECT_EQ(refuse(h).code, "ABDM-1016");
  HeaderPolicy tight;
  tight.max_age = minutes{1};
  tight.max_ahead = seconds{0};
  h["TIMESTAMP"] = "2026-01-01T09:58:00.000Z";
  EXPECT_EQ(refuse(h, tight).code, "ABDM-1016");
  h["TIMESTAMP"] = "2026-01-01T09:59:30.000Z";
  EXPECT_NO_THROW(validate_inbound_headers(h, kHeadersNow, tight));
}

TEST(Headers, NonObjectHeadersRefused) {
  EXPECT_EQ(refuse(json::array()).http_status, 400);
  EXPECT_EQ(refuse(json("REQUEST-ID: x")).http_status, 400);
}
