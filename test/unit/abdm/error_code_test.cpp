#include "core/abdm/error_code.hpp"

#include <gtest/gtest.h>

#include "core/abdm/error_reply.hpp"

using namespace abdm::proto;
using nlohmann::json;

TEST(ErrorCode, Normalises) {
  EXPECT_EQ(normalize_error_code("ABDM-1027: "), "ABDM-1027");
  EXPECT_EQ(normalize_error_code("ABDM-1207:"), "ABDM-1207");
  EXPECT_EQ(normalize_error_code("  abdm-1010 "), "ABDM-1010");
  EXPECT_EQ(normalize_error_code("ABDM-1010"), "ABDM-1010");
  EXPECT_EQ(normalize_error_code("900901"), "900901");
  EXPECT_EQ(normalize_error_code("3404:"), "3404");
  EXPECT_EQ(normalize_error_code("SOMETHING-ELSE "), "SOMETHING-ELSE");
  EXPECT_EQ(normalize_error_code_json(json(3404)), "3404");
  EXPECT_EQ(normalize_error_code_json(json("ABDM-9999 ")), "ABDM-9999");
  EXPECT_EQ(normalize_error_code_json(json::object()), "");
}

TEST(ErrorCode, FindsWrappedError) {
  auto e = find_errors(json::parse(R"({"error":{"code":"ABDM-1092: ","message":"Duplicate"}})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (GatewayError{"ABDM-1092", "Duplicate"}));
}

TEST(ErrorCode, FindsBareAndListEnvelopes) {
  auto bare = find_errors(json::parse(R"({"code":"ABDM-1010","message":"Patient not found"})"));
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].code, "ABDM-1010");
  auto list = find_errors(json::parse(R"([{"code":"ABDM-9999","message":"a"},{"code":"ABDM-1016","message":"b"}])"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].code, "ABDM-1016");
  auto errors = find_errors(json::parse(R"({"errors":[{"code":"ABDM-1064","message":"Body missing"}]})"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "ABDM-1064");
  auto fault = find_errors(json::parse(R"({"fault":{"code":900901,"message":"Invalid Credentials","description":"x"}})"));
  ASSERT_EQ(fault.size(), 1u);
  EXPECT_EQ(fault[0], (GatewayError{"900901", "Invalid Credentials"}));
  auto text = find_errors(json::parse(R"({"error":"boom"})"));
  ASSERT_EQ(text.size(), 1u);
  EXPECT_EQ(text[0].message, "boom");
}

TEST(ErrorCode, SuccessBodiesHaveNoErrors) {
  EXPECT_TRUE(find_errors(json::parse(R"({"status":"Notification is Accepted"})")).empty());
  EXPECT_TRUE(find_errors(json::parse(R"({"accessToken":"x","expiresIn":1200})")).empty());
  EXPECT_TRUE(find_errors(json()).empty());
  EXPECT_TRUE(find_errors(json::parse(R"({"error":null,"status":"ok"})")).empty());
  // A success payload that happens to carry a "code" among other data.
  EXPECT_TRUE(find_errors(json::parse(R"({"code":"IN0710000001","name":"Hospital","types":["HIP"]})")).empty());
  EXPECT_TRUE(find_errors(json::parse(R"([{"id":"IN1","active":true}])")).empty());
}

TEST(ErrorReply, MapsProtocolAndFieldErrors) {
  ErrorReply r = error_reply(ProtocolError(400, code::kInvalidRequestId, "22023", "REQUEST-ID", "Invalid request ID"));
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(r.body(), json::parse(R"({"error":{"code":"ABDM-1030","message":"REQUEST-ID: Invalid request ID"}})"));
  ErrorReply f = error_reply(abdm::Error("23502", "hiRequest.keyMaterial.nonce", "is required"));
  EXPECT_EQ(f.http_status, 400);
  EXPECT_EQ(f.code, "ABDM-9999");
  EXPECT_EQ(f.message, "hiRequest.keyMaterial.nonce: is required");
  EXPECT_EQ(internal_error_reply().http_status, 500);
}
