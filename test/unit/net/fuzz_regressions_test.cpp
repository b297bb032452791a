// Inputs that break session_fuzz's invariants (found reading for the pattern of the jwt bug, a
// double converted before its range is checked; replayed from test/fuzz/regressions/session)
// (the sanitizer stage of the test command runs them under UBSan, where the bug was an abort).
#include <gtest/gtest.h>

#include "core/net/gateway_session.hpp"
#include "core/util/error.hpp"

namespace {

std::string refusal_field(std::string_view body) {
  try {
    abdm::net::parse_session_response(body);
  } catch (const abdm::Error& e) {
    return e.field();
  }
  return "(accepted)";
}

}  // namespace

// expiresIn as a float far beyond long long (1e300) was converted before its range was checked:
// undefined behaviour. It is now refused as out of range, like any lifetime beyond 7 days.
TEST(FuzzRegression, SessionLifetimeFarOutOfRange) {
  EXPECT_EQ(refusal_field(R"({"accessToken":"t","expiresIn":1e300})"), "expiresIn");
  EXPECT_EQ(refusal_field(R"({"accessToken":"t","expiresIn":-1e300})"), "expiresIn");
  EXPECT_EQ(refusal_field(R"({"accessToken":"t","expiresIn":1200.5})"), "(accepted)");
}

// A body that is not a JSON object was refused with an empty field; the SQL layer reports
// "<field>: <message>", so it now names the body.
TEST(FuzzRegression, SessionResponseNotAnObjectNamesTheBody) {
  EXPECT_EQ(refusal_field("[1]"), "body");
  EXPECT_EQ(refusal_field("not json"), "body");
}
