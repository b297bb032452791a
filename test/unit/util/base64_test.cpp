// Strict standard base64 on OpenSSL: RFC 4648 §10 vectors, round trips across OpenSSL block
// boundaries, and every kind of malformed input refused with the field named.
#include "core/util/base64.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/util/error.hpp"

namespace {

using abdm::base64_decode;
using abdm::base64_encode;

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::string as_string(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(std::string_view(plain)), encoded);
    EXPECT_EQ(as_string(base64_decode(encoded, "f")), plain);
    EXPECT_EQ(abdm::base64_encoded_size(std::string_view(plain).size()), std::string_view(encoded).size());
  }
}

TEST(Base64, AllByteValuesAndAlphabet) {
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  const std::string text = base64_encode(all);
  EXPECT_EQ(text.substr(0, 8), "AAECAwQF");
  EXPECT_NE(text.find('+'), std::string::npos);
  EXPECT_NE(text.find('/'), std::string::npos);
  EXPECT_EQ(base64_decode(text, "f"), all);
}

TEST(Base64, RoundTripAcrossBlockBoundaries) {
  // OpenSSL is called in 3 MiB (encode) and 4 MiB-character (decode) blocks.
  const size_t block = size_t{3} << 20;
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{47}, size_t{48}, size_t{49}, block - 1, block,
                   block + 1, block + 2, block + 3, 2 * block + 1}) {
    const auto data = random_bytes(n, static_cast<uint32_t>(n));
    const std::string text = base64_encode(data);
    ASSERT_EQ(text.size(), abdm::base64_encoded_size(n)) << n;
    ASSERT_EQ(abdm::base64_decoded_size(text, "f"), n);
    ASSERT_EQ(base64_decode(text, "f"), data) << n;
  }
}

TEST(Base64, EncodeIntoWritesExactlyTheEncodedSize) {
  const auto data = random_bytes(100, 7);
  std::string buf(abdm::base64_encoded_size(data.size()) + 8, '#');
  abdm::base64_encode_into(data, buf.data());
  EXPECT_EQ(buf.substr(buf.size() - 8), "########");  // no NUL or anything else past the end
  EXPECT_EQ(buf.substr(0, buf.size() - 8), base64_encode(data));
}

void expect_rejected(const std::string& text, const std::string& why) {
  try {
    base64_decode(text, "some_field");
    ADD_FAILURE() << "accepted " << why;
  } catch (const abdm::Error& e) {
    EXPECT_EQ(e.sqlstate(), "22P02") << why;
    EXPECT_EQ(e.field(), "some_field") << why;
    EXPECT_NE(std::string(e.what()).find("invalid base64"), std::string::npos) << e.what();
  }
}

TEST(Base64, StrictDecodingRefusesMalformedText) {
  expect_rejected("Zm9", "length not a multiple of 4");
  expect_rejected("Zm9vY", "length 5");
  expect_rejected(" Zm9v", "leading space");
  expect_rejected("Zm9v ", "trailing space");
  expect_rejected("Zm9v\n", "trailing newline");
  expect_rejected("Zm9v\nZm9v", "line break inside");
  expect_rejected("\t\t\t\tZm9v", "four leading tabs (OpenSSL would trim them)");
  expect_rejected("Zm9vZm9v\r\n\r\n", "trailing CRLFs (OpenSSL would trim them)");
  expect_rejected("Zm=v", "'=' inside the last group");
  expect_rejected("Zg==Zm9v", "'=' in the middle");
  expect_rejected("Z===", "three padding characters");
  expect_rejected("====", "padding only");
  expect_rejected("Zm9v-_8A", "URL-safe alphabet");
  expect_rejected("Zm9v\x80\x81\x82\x83", "non-ASCII bytes");
  expect_rejected(std::string("Zm\0v", 4), "NUL byte");
  expect_rejected("Zh==", "non-zero bits under '=='");
  expect_rejected("Zm9=", "non-zero bits under '='");
}

TEST(Base64, StrictDecodingAtOpenSslBlockEdges) {
  // A block handed to EVP_DecodeBlock starting or ending with whitespace must not be trimmed.
  const size_t block_chars = size_t{4} << 20;
  std::string text = base64_encode(random_bytes(block_chars / 4 * 3 + 30, 3));
  std::string bad = text;
  bad.replace(block_chars, 4, "\t\t\t\t");
  expect_rejected(bad, "tabs at the start of the second block");
  bad = text;
  bad.replace(block_chars - 4, 4, "   \n");
  expect_rejected(bad, "whitespace at the end of the first block");
  bad = text;
  bad[block_chars + 1] = '=';
  expect_rejected(bad, "'=' in the second block");
  EXPECT_NO_THROW(base64_decode(text, "f"));
}

TEST(Base64, ErrorMessageSaysWhere) {
  try {
    base64_decode("Zm9v Zm8", "requester_nonce");
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_STREQ(e.what(), "requester_nonce: invalid base64: character 0x20 at offset 4 is not in the standard alphabet");
  }
  try {  // what PostgreSQL's encode(..., 'base64') produces for more than 57 bytes
    base64_decode(std::string(76, 'A') + "\nAAAA", "k");
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_STREQ(e.what(), "k: invalid base64: line break at offset 76 (base64 without line breaks is required)");
  }
  try {
    base64_decode("AAAA=\n", "k");
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_STREQ(e.what(), "k: invalid base64: line break at offset 5 (base64 without line breaks is required)");
  }
  try {
    base64_decode("AA=AAAAA", "k");
    FAIL();
  } catch (const abdm::Error& e) {
    EXPECT_STREQ(e.what(), "k: invalid base64: '=' at offset 2 is not final padding");
  }
}

}  // namespace
