#include "core/auth/base64url.hpp"

#include <gtest/gtest.h>

namespace abdm::auth {
namespace {

TEST(Base64url, AcceptsUnpaddedUrlAlphabet) {
  EXPECT_TRUE(is_base64url(""));
  EXPECT_TRUE(is_base64url("AQAB"));
  EXPECT_TRUE(is_base64url("e30"));
  EXPECT_TRUE(is_base64url("-_09azAZ"));
  EXPECT_EQ(base64url_decode("e30"), "{}");
  EXPECT_EQ(base64url_decode("AQAB"), std::string("\x01\x00\x01", 3));
  EXPECT_EQ(base64url_decode("_-8"), "\xff\xef");
  EXPECT_EQ(base64url_decode(""), "");
}

TEST(Base64url, RefusesPaddingStandardAlphabetAndImpossibleLengths) {
  for (const char* s : {"e30=", "a=bc", "=", "ab+/", "ab/c", "a b", "ab\n", "A", "AAAAA", "e30.", "\xc3\xa9"}) {
    EXPECT_FALSE(is_base64url(s)) << s;
    EXPECT_FALSE(base64url_decode(s).has_value()) << s;
  }
  EXPECT_FALSE(is_base64url(std::string_view("AB\0C", 4)));
}

}  // namespace
}  // namespace abdm::auth
