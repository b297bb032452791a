#include "core/abdm/receive.hpp"

#include <gtest/gtest.h>

using namespace abdm::proto;
using nlohmann::json;

namespace {
const TimePoint kReceivedAt = parse_timestamp("2026-01-01T10:00:00.000Z", "now", TimestampMode::kStrictUtc);
const json kHeaders = {{"REQUEST-ID", "499a5a4a-7dda-4f20-9b67-e24589627061"},
                       {"TIMESTAMP", "2026-01-01T10:00:00.000Z"},
                       {"X-HIP-ID", "IN1410000232_1"}};
const char* kConfirm = R"({"confirmation": {"token": "123456", "linkRefNumber": "7c1e4bb2-58a4-4a53-8f0e-3c4d2b1a0f99"}})";
const char* kPath = "/api/v3/hip/link/care-context/confirm";
}  // namespace

TEST(Receive, AcceptsAndNormalises) {
  const Triage t = triage_inbound(kPath, kHeaders, json::parse(kConfirm), kReceivedAt);
  EXPECT_EQ(t.http_status, 202);
  EXPECT_TRUE(t.reply_body.is_null());
  ASSERT_TRUE(t.accepted);
  EXPECT_EQ(t.accepted->message.kind, MessageKind::kLinkConfirm);
  EXPECT_EQ(t.accepted->headers.request_id, "499a5a4a-7dda-4f20-9b67-e24589627061");
  EXPECT_EQ(t.accepted->normalized["kind"], "link_confirm");
  EXPECT_EQ(t.accepted->normalized["confirmation"]["token"], "123456");
}

TEST(Receive, OrderIsPathThenHeadersThenBody) {
  json bad_headers = kHeaders;
  bad_headers.erase("REQUEST-ID");
  EXPECT_EQ(triage_inbound("/api/v3/nope", bad_headers, json(), kReceivedAt).http_status, 404);
  const Triage h = triage_inbound(kPath, bad_headers, json(), kReceivedAt);
  EXPECT_EQ(h.http_status, 403);
  EXPECT_EQ(h.field, "REQUEST-ID");
  const Triage b = triage_inbound(kPath, kHeaders, json::parse(R"({"confirmation": {"token": "1"}})"), kReceivedAt);
  EXPECT_EQ(b.http_status, 400);
  EXPECT_EQ(b.field, "confirmation.linkRefNumber");
  EXPECT_EQ(b.reply_body["error"]["code"], "ABDM-9999");
  EXPECT_EQ(b.reply_body["error"]["message"], "confirmation.linkRefNumber: is required");
  EXPECT_FALSE(b.accepted);
}

TEST(Receive, TextBodies) {
  EXPECT_EQ(triage_inbound_text(kPath, kHeaders, kConfirm, kReceivedAt).http_status, 202);
  const Triage not_json = triage_inbound_text(kPath, kHeaders, "{\"confirmation\": ", kReceivedAt);
  EXPECT_EQ(not_json.http_status, 400);
  EXPECT_EQ(not_json.field, "body");
  EXPECT_EQ(not_json.reply_body["error"]["message"], "body: not valid JSON");
  const Triage empty = triage_inbound_text(kPath, kHeaders, "  ", kReceivedAt);
  EXPECT_EQ(empty.reply_body["error"]["code"], "ABDM-1064");
  // The limit counts the body as compact JSON: whitespace between tokens is free, inside strings not.
  const std::string big = "{\"x\": \"" + std::string(kMaxBodyBytes, 'a') + "\"}";
  const Triage too_big = triage_inbound_text(kPath, kHeaders, big, kReceivedAt);
  EXPECT_EQ(too_big.http_status, 413);
  EXPECT_EQ(too_big.field, "body");
  EXPECT_EQ(too_big.reply_body["error"]["message"],
            "body: larger than " + std::to_string(kMaxBodyBytes) + " bytes (abdm_hip.listen_max_body)");
  EXPECT_EQ(triage_inbound_text(kPath, kHeaders, kConfirm, kReceivedAt, {}, 10).http_status, 413);
  EXPECT_EQ(triage_inbound_text(kPath, kHeaders, std::string(kMaxBodyBytes + 1, ' '), kReceivedAt).reply_body["error"]["code"],
            "ABDM-1064");
  // Path and header errors win over a broken body.
  EXPECT_EQ(triage_inbound_text("/x", kHeaders, "{", kReceivedAt).http_status, 404);
  json stale = kHeaders;
  stale["TIMESTAMP"] = "2025-01-01T00:00:00.000Z";
  EXPECT_EQ(triage_inbound_text(kPath, stale, "{", kReceivedAt).reply_body["error"]["code"], "ABDM-1016");
}

// jsonb holds numbers a double cannot (1e400); the glue hands such headers over as unreadable, and
// such a body is refused like any text that is not JSON: an answer, never an exception.
TEST(Receive, NumbersBeyondADouble) {
  const Triage h = triage_unreadable_headers(kPath);
  EXPECT_EQ(h.http_status, 400);
  EXPECT_EQ(h.field, "headers");
  EXPECT_TRUE(h.kind.has_value());
  EXPECT_EQ(triage_unreadable_headers("/x").http_status, 404);
  EXPECT_FALSE(json::parse("{\"a\": 1e400}", nullptr, false).is_object());  // what makes the glue call it
  const Triage b = triage_inbound_text(kPath, kHeaders, "{\"confirmation\": 1e400}", kReceivedAt);
  EXPECT_EQ(b.http_status, 400);
  EXPECT_EQ(b.field, "body");
}

TEST(Receive, CompactJsonSize) {
  EXPECT_EQ(compact_json_size(R"({"a": 1, "b": [1, 2]})"), std::string(R"({"a":1,"b":[1,2]})").size());
  EXPECT_EQ(compact_json_size("{\n  \"a b\" : \" x \"\n}"), std::string(R"({"a b":" x "})").size());
  // An escaped quote does not end the string: the spaces after it still count.
  EXPECT_EQ(compact_json_size(R"(["a\" b"])"), std::string(R"(["a\" b"])").size());
  EXPECT_EQ(compact_json_size(R"(["a\\" , 1])"), std::string(R"(["a\\",1])").size());
  EXPECT_EQ(compact_json_size(" \t\r\n"), 0u);
}

TEST(Receive, DeeplyNestedRequesterRefused) {
  json nested = "x";
  for (int i = 0; i < 50; ++i) nested = json::object({{"a", nested}});
  json body = json::parse(R"({"notification": {"status": "GRANTED", "consentId": "1876f659-bb20-4000-88dc-b45f97252901",
    "consentDetail": {"consentId": "1876f659-bb20-4000-88dc-b45f97252901", "patient": {"id": "a@sbx"},
      "careContexts": [{"patientReference": "P", "careContextReference": "C"}], "purpose": {"code": "CAREMGT"},
      "hip": {"id": "H"}, "hiTypes": ["Prescription"],
      "permission": {"accessMode": "VIEW", "dateRange": {"from": "2020-01-01T00:00:00Z", "to": "2021-01-01T00:00:00Z"},
                     "dataEraseAt": "2030-01-01T00:00:00Z"}}}})");
  EXPECT_EQ(triage_inbound("/api/v3/consent/request/hip/notify", kHeaders, body, kReceivedAt).http_status, 202);
  body["notification"]["consentDetail"]["requester"] = nested;
  const Triage t = triage_inbound("/api/v3/consent/request/hip/notify", kHeaders, body, kReceivedAt);
  EXPECT_EQ(t.http_status, 400);
  EXPECT_EQ(t.field, "notification.consentDetail.requester");
}

TEST(Receive, InboundCheckIsWhatReceiveStores) {
  json headers = kHeaders;
  headers["Authorization"] = "Bearer secret-token";
  const json ok = inbound_check(kPath, headers, json::parse(kConfirm), kReceivedAt);
  EXPECT_TRUE(ok["ok"].get<bool>());
  EXPECT_EQ(ok["kind"], "link_confirm");
  EXPECT_EQ(ok["requestId"], "499a5a4a-7dda-4f20-9b67-e24589627061");
  EXPECT_EQ(ok["message"], triage_inbound(kPath, kHeaders, json::parse(kConfirm), kReceivedAt).accepted->normalized);
  EXPECT_FALSE(ok["headers"].contains("Authorization")) << "credentials never reach the inbox";

  // Refused for its body: the call is still identified, and the answer is the gateway-style error.
  const json bad = inbound_check(kPath, headers, json::parse(R"({"confirmation": {"token": "123456"}})"), kReceivedAt);
  EXPECT_FALSE(bad["ok"].get<bool>());
  EXPECT_EQ(bad["status"], 400);
  EXPECT_EQ(bad["kind"], "link_confirm");
  EXPECT_EQ(bad["requestId"], "499a5a4a-7dda-4f20-9b67-e24589627061");
  EXPECT_NE(bad["error"]["message"].get<std::string>().find("confirmation.linkRefNumber"), std::string::npos);

  // An unknown path: 404, no kind.
  const json lost = inbound_check("/api/v3/nowhere", headers, json::parse(kConfirm), kReceivedAt);
  EXPECT_EQ(lost["status"], 404);
  EXPECT_FALSE(lost.contains("kind"));
}
