#include <gtest/gtest.h>

#include "core/abdm/outbound.hpp"
#include "core/abdm/outbound_input.hpp"
#include "core/util/error.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {
std::string field_of(const char* kind, const json& input) {
  try {
    build_outbound(kind, input);
  } catch (const abdm::Error& e) {
    return e.field();
  }
  return "(no error)";
}
}  // namespace

TEST(OutboundInput, BuildsWhatTheBuilderBuilds) {
  const json in = {{"requestId", "5f7a535d-a3fd-416b-b069-c97d021fbacd"},
                   {"transactionId", "a1b2c3d4-1111-4222-8333-444455556666"}};
  EXPECT_EQ(build_outbound("hi_on_request", in),
            hi_on_request("5f7a535d-a3fd-416b-b069-c97d021fbacd", "a1b2c3d4-1111-4222-8333-444455556666"));
  json err = in;
  err["error"] = {{"code", "ABDM-1062"}, {"message", "hiRequest.consent.id: consent is REVOKED, not GRANTED"}};
  EXPECT_EQ(build_outbound("hi_on_request", err),
            hi_on_request_error("5f7a535d-a3fd-416b-b069-c97d021fbacd", "a1b2c3d4-1111-4222-8333-444455556666",
                                "ABDM-1062", "hiRequest.consent.id: consent is REVOKED, not GRANTED"));
}

TEST(OutboundInput, BadInputNamesItsField) {
  EXPECT_EQ(field_of("hi_on_request", {{"requestId", "5f7a535d-a3fd-416b-b069-c97d021fbacd"}}), "input.transactionId");
  EXPECT_EQ(field_of("hi_on_request", json::array()), "input");
  EXPECT_EQ(field_of("on_confirm", {{"requestId", "x"}, {"error", {{"code", "ABDM-9999"}}}}), "input.error.message");
  EXPECT_EQ(field_of("generate_token", {{"name", "A B"}, {"gender", "F"}, {"yearOfBirth", "nineteen"}}),
            "input.yearOfBirth");
  EXPECT_EQ(field_of("hi_notify", {{"consentId", "c"}, {"transactionId", "t"}, {"doneAt", "2024-01-01T00:00:00.000Z"},
                                   {"hipId", "H"}, {"statuses", {{{"delivered", true}}}}}),
            "input.statuses[0].careContextReference");
  EXPECT_EQ(field_of("no_such_kind", json::object()), "kind");
}
