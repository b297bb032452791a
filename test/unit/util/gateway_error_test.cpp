// The one reading of the gateway's error answers (the sender's classification and the protocol
// model's callbacks both use it).
#include "core/util/gateway_error.hpp"

#include <gtest/gtest.h>

using abdm::find_gateway_errors;
using abdm::GatewayError;
using abdm::normalize_error_code;
using abdm::normalize_error_code_json;
using nlohmann::json;

TEST(GatewayErrorCode, Normalised) {
  EXPECT_EQ(normalize_error_code("ABDM-1027: "), "ABDM-1027");
  EXPECT_EQ(normalize_error_code("ABDM-1207:"), "ABDM-1207");
  EXPECT_EQ(normalize_error_code("  abdm-1010 "), "ABDM-1010");
  EXPECT_EQ(normalize_error_code(" abdm-1010."), "ABDM-1010");
  EXPECT_EQ(normalize_error_code("ABDM_1010"), "ABDM-1010");
  EXPECT_EQ(normalize_error_code("ABDM-1092: Link token already requested"), "ABDM-1092");
  EXPECT_EQ(normalize_error_code("ABDM-1010"), "ABDM-1010");
  EXPECT_EQ(normalize_error_code("900901"), "900901");
  EXPECT_EQ(normalize_error_code("3404:"), "3404");
  EXPECT_EQ(normalize_error_code("SOMETHING-ELSE "), "SOMETHING-ELSE");
  EXPECT_EQ(normalize_error_code("ABDM-"), "ABDM-");  // no digits: kept as it came
  EXPECT_EQ(normalize_error_code(""), "");
  EXPECT_EQ(normalize_error_code_json(json(3404)), "3404");
  EXPECT_EQ(normalize_error_code_json(json(900901u)), "900901");
  EXPECT_EQ(normalize_error_code_json(json("ABDM-9999 ")), "ABDM-9999");
  EXPECT_EQ(normalize_error_code_json(json::object()), "");
  EXPECT_EQ(normalize_error_code_json(json()), "");
}

TEST(GatewayErrors, EveryEnvelopeIsFound) {
  auto e = find_gateway_errors(std::string_view(R"({"error":{"code":"ABDM-1027: ","message":"Link token expired"}})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (GatewayError{"ABDM-1027", "Link token expired"}));

  e = find_gateway_errors(std::string_view(R"({"code":"ABDM-1010","message":"Invalid HIP ID"})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "ABDM-1010");

  e = find_gateway_errors(std::string_view(R"([{"error":{"code":"2500","message":"name mismatch"}},{"code":"ABDM-1","message":"x"}])"));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].code, "2500");
  EXPECT_EQ(e[1].code, "ABDM-1");

  e = find_gateway_errors(std::string_view(R"({"errors":[{"code":"ABDM-1064","message":"Body missing"}]})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "ABDM-1064");

  e = find_gateway_errors(std::string_view(R"({"fault":{"code":900901,"message":"Invalid Credentials","description":"expired"}})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (GatewayError{"900901", "Invalid Credentials"}));

  e = find_gateway_errors(std::string_view(R"({"error":{"code":1000,"message":"v0.5 numeric code"}})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "1000");

  e = find_gateway_errors(std::string_view(R"({"timestamp":"x","status":400,"error":"Bad Request","message":"bad"})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (GatewayError{"", "Bad Request: bad"}));

  e = find_gateway_errors(std::string_view(R"({"error":"boom"})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (GatewayError{"", "boom"}));

  e = find_gateway_errors(std::string_view(R"({"error":{"message":"no code given"}})"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], (GatewayError{"", "no code given"}));

  // The parsed form gives the same.
  EXPECT_EQ(find_gateway_errors(json::parse(R"({"error":{"code":"ABDM-1092: ","message":"Duplicate"}})")),
            (std::vector<GatewayError>{{"ABDM-1092", "Duplicate"}}));
}

TEST(GatewayErrors, SuccessBodiesHaveNone) {
  for (const char* body : {"", "not json", R"({"error":null,"resp":{"requestId":"x"}})", R"({"error":{}})",
                           R"({"accessToken":"t","expiresIn":1200})", "[]", R"({"status":"SUCCESS","message":"linked"})",
                           R"({"status":"Notification is Accepted"})",
                           // a success payload that happens to carry a "code" among other data
                           R"({"code":"IN0710000001","name":"Hospital","types":["HIP"]})",
                           R"([{"id":"IN1","active":true}])"}) {
    EXPECT_TRUE(find_gateway_errors(std::string_view(body)).empty()) << body;
  }
  EXPECT_TRUE(find_gateway_errors(json()).empty());
}
