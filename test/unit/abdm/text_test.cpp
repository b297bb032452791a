#include "core/abdm/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/abdm/error_reply.hpp"
#include "core/abdm/hi_type.hpp"
#include "core/abdm/inbound.hpp"

using namespace abdm::proto;

TEST(Utf8Clip, KeepsShortValidText) {
  EXPECT_EQ(utf8_clip("Hina Patel", 64), "Hina Patel");
  EXPECT_EQ(utf8_clip("हिना", 64), "हिना");
  EXPECT_EQ(utf8_clip("", 4), "");
}

TEST(Utf8Clip, CutsOnCharacterBoundary) {
  // "हिना" is 4 characters of 3 bytes; 7 bytes allow two of them.
  EXPECT_EQ(utf8_clip("हिना", 7), "हि\xE2\x80\xA6");
  EXPECT_EQ(utf8_clip("abcdef", 3), "abc\xE2\x80\xA6");
}

TEST(Utf8Clip, ReplacesIllFormedBytesAndControls) {
  EXPECT_EQ(utf8_clip("a\xff" "b", 10), "a?b");
  EXPECT_EQ(utf8_clip("\xe0\x80\x80", 10), "???");          // overlong
  EXPECT_EQ(utf8_clip("\xed\xa0\x80", 10), "???");          // surrogate
  EXPECT_EQ(utf8_clip("\xe2\x82", 10), "??");               // truncated sequence
  EXPECT_EQ(utf8_clip("a\nb\x7f", 10), "a b ");
}

TEST(Utf8Clip, ErrorRepliesStaySerialisable) {
  // A long unknown HI type in Devanagari, cut inside a character by a byte limit, and an invalid
  // byte in a path must still produce a JSON error body.
  std::string devanagari;
  for (int i = 0; i < 40; ++i) devanagari += "ह";
  try {
    require_hi_type(devanagari, "hiType");
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_NO_THROW(error_reply(e).body().dump());
  }
  try {
    route_path("/api/v3/\xff\xfe");
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_NO_THROW(error_reply(e).body().dump());
  }
}

TEST(Discover, AbhaAddressFromVerifiedIdentifiersWhenIdAbsent) {
  auto body = nlohmann::json::parse(R"({"transactionId": "03813343-ebc5-4c9f-89b6-6e9a75fd7c92",
    "patient": {"verifiedIdentifiers": [{"type": "abhaAddress", "value": "hina@sbx"}],
                "name": "Hina", "gender": "F", "yearOfBirth": 1990}})");
  EXPECT_EQ(parse_discover(body).abha_address, "hina@sbx");
  body["patient"]["verifiedIdentifiers"] = nlohmann::json::array();
  try {
    parse_discover(body);
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_EQ(e.field(), "patient.id");
  }
}
