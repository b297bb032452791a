// Inputs test/fuzz/jwt_fuzz found breaking an invariant, kept as tests so they stay fixed (the
// sanitizer stage of the test command runs them under UBSan, where the bug was an abort).
#include <gtest/gtest.h>

#include "core/auth/jwt.hpp"
#include "jwt_test_support.hpp"

namespace abdm::auth {
namespace {

using namespace testing;  // NOLINT: the test helpers
using nlohmann::json;

JwtResult verify_claims(const json& claims) {
  static const Jwks keys(json{{"keys", json::array({jwk(key_a(), "kid-256", "RS256")})}}.dump());
  return verify_jwt(rs_token(key_a(), header("RS256", "kid-256"), claims), keys,
                    JwtPolicy{kIssuer, std::chrono::seconds{1200}, "gateway"}, at(kNow));
}

// A correctly signed token whose exp (or nbf) is a number far outside long long's range: the
// reason's "expired N s ago" converted the difference to long long, which is undefined
// behaviour (UBSan: "1e+300 is outside the range of representable values"). Now clamped.
TEST(FuzzRegression, ExpAndNbfFarOutOfRange) {
  json c = gateway_claims();
  c["exp"] = -1e300;
  JwtResult r = verify_claims(c);
  EXPECT_EQ(r.failure, JwtFailure::kExpired);
  EXPECT_NE(r.reason.find("expired"), std::string::npos) << r.reason;

  c = gateway_claims();
  c["nbf"] = 1e300;
  r = verify_claims(c);
  EXPECT_EQ(r.failure, JwtFailure::kNotYetValid);
  EXPECT_NE(r.reason.find("not valid for another"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace abdm::auth
