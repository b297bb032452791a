#include "core/abdm/error_reply.hpp"

#include <gtest/gtest.h>

using namespace abdm::proto;
using nlohmann::json;

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
