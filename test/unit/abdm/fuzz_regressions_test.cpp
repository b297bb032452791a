// Inputs test/fuzz/inbound_fuzz found breaking an invariant, kept as tests so they stay fixed.
// Each names the invariant and the fix.
#include <gtest/gtest.h>

#include "core/abdm/inbound.hpp"
#include "core/abdm/receive.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {

// to_json(parse(to_json(m))) == to_json(m): what receive() stores must read back the same.
json round_trip(MessageKind kind, const json& body) {
  const json once = to_json(parse_inbound(kind, body));
  const json again = to_json(parse_inbound(kind, once));
  EXPECT_EQ(once, again);
  return once;
}

}  // namespace

// A GRANTED consent whose purpose has no "text": to_json wrote "text": "", which the parser
// refuses ("must not be empty"), so the normalised artefact did not parse again.
TEST(FuzzRegression, ConsentPurposeWithoutText) {
  const json body = json::parse(R"({"notification":{"status":"GRANTED","consentId":"1876f659-bb20-4000-88dc-b45f97252901",
    "consentDetail":{"consentId":"1876f659-bb20-4000-88dc-b45f97252901","patient":{"id":"a@sbx"},
      "careContexts":[{"patientReference":"P","careContextReference":"C"}],"purpose":{"code":"CAREMGT"},
      "hip":{"id":"H"},"hiTypes":["Prescription"],"permission":{"accessMode":"VIEW",
      "dateRange":{"from":"2020-01-01T00:00:00.000Z","to":"2021-01-01T00:00:00.000Z"},"dataEraseAt":"2030-01-01T00:00:00.000Z"}}}})");
  const json n = round_trip(MessageKind::kConsentNotify, body);
  EXPECT_FALSE(n["notification"]["consentDetail"]["purpose"].contains("text"));
}

// An on-carecontext whose error has a code and no message: to_json wrote "message": "", which
// the parser refuses. An absent message now stays absent.
TEST(FuzzRegression, CallbackErrorWithoutMessage) {
  const json n = round_trip(MessageKind::kOnCareContext, json::parse(R"({"abhaAddress":"abc@sbx","error":{"code":"ABDM-1207"},
    "response":{"requestId":"11111111-2222-4333-8444-555555555555"}})"));
  EXPECT_EQ(n["error"], json::parse(R"({"code":"ABDM-1207"})"));
}

// An error sent as a bare string had the code "", which the normalised form cannot carry (a
// code is required) and the SQL handlers cannot act on. It now gets the ABDM code it starts
// with, or the generic ABDM-9999.
TEST(FuzzRegression, CallbackErrorAsAString) {
  const json rid = R"({"requestId":"11111111-2222-4333-8444-555555555555"})"_json;
  json n = round_trip(MessageKind::kOnCareContext, json{{"error", "ABDM-1092: duplicate request"}, {"response", rid}});
  EXPECT_EQ(n["error"]["code"], "ABDM-1092");
  EXPECT_EQ(n["error"]["message"], "ABDM-1092: duplicate request");
  n = round_trip(MessageKind::kOnGenerateToken, json{{"error", "something went wrong"}, {"response", rid}});
  EXPECT_EQ(n["error"]["code"], "ABDM-9999");
}

// An on-generate-token whose (unverified) link token carries exp 9e18: the expiry was made a
// millisecond time point, 9e18 × 1000 overflowed (undefined behaviour; UBSan abort). An exp
// outside 1970..9999 is now ignored, as a non-integer one always was.
TEST(FuzzRegression, LinkTokenExpFarInTheFuture) {
  // base64url of {"exp":9000000000000000000,"hipId":"IN2710000001"}
  const std::string token = "eyJhbGciOiJSUzUxMiJ9.eyJleHAiOjkwMDAwMDAwMDAwMDAwMDAwMDAsImhpcElkIjoiSU4yNzEwMDAwMDAxIn0.c2ln";
  const json body = {{"abhaAddress", "a@sbx"}, {"linkToken", token},
                     {"response", {{"requestId", "11111111-2222-4333-8444-555555555555"}}}};
  const OnGenerateToken m = parse_on_generate_token(body);
  EXPECT_FALSE(m.token_expiry.has_value());
  EXPECT_EQ(m.token_hip_id, "IN2710000001");
  round_trip(MessageKind::kOnGenerateToken, body);
}
