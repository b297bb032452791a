// Every case of test/data/fidelius-vectors.json (made with the reference fidelius-cli): both
// directions, both public-key encodings, the key material itself, the intermediates and the
// negative cases.
#include <gtest/gtest.h>

#include "core/crypto/checksum.hpp"
#include "core/crypto/fidelius.hpp"
#include "core/util/base64.hpp"
#include "crypto_test_support.hpp"

namespace abdm::crypto {
namespace {

using testing::hex;
using testing::plaintext_of;
using testing::sha256_hex;
using testing::vectors;

class FideliusVector : public ::testing::TestWithParam<size_t> {
 protected:
  const nlohmann::json& c() const { return vectors().at("cases").at(GetParam()); }
  std::string s(const nlohmann::json& j, const char* key) const { return j.at(key).get<std::string>(); }

  // Compares an encryption result with the case: inline ciphertext, or the recipe's digests.
  void expect_ciphertext(const std::string& got) const {
    if (c().contains("ciphertext")) {
      EXPECT_EQ(got, s(c(), "ciphertext"));
      return;
    }
    EXPECT_EQ(got.size(), c().at("ciphertextBase64Chars").get<size_t>());
    EXPECT_EQ(got.substr(0, 64), s(c(), "ciphertextBase64Head"));
    EXPECT_EQ(sha256_hex(got), s(c(), "ciphertextBase64Sha256"));
    const auto raw = base64_decode(got, "ciphertext");
    EXPECT_EQ(raw.size(), c().at("ciphertextBytes").get<size_t>());
    EXPECT_EQ(sha256_hex(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size())),
              s(c(), "ciphertextSha256"));
    EXPECT_EQ(base64_encode(std::span<const uint8_t>(raw).last(16)), s(c(), "ciphertextTagBase64"));
  }

  std::string ciphertext() const {
    if (c().contains("ciphertext")) return s(c(), "ciphertext");
    const auto& snd = c().at("sender");
    const auto& req = c().at("requester");
    return encrypt(plaintext_of(c()), s(snd, "privateKey"), s(snd, "nonce"), s(req, "publicKey"), s(req, "nonce"));
  }
};

TEST_P(FideliusVector, PlaintextMatchesItsDigest) {
  const std::string plain = plaintext_of(c());
  EXPECT_EQ(plain.size(), c().at("plaintextBytes").get<size_t>());
  EXPECT_EQ(sha256_hex(plain), s(c(), "plaintextSha256"));
  EXPECT_EQ(md5_base64(plain), s(c(), "md5Base64"));
}

TEST_P(FideliusVector, EncryptsToTheReferenceCiphertextWithBothKeyEncodings) {
  const auto& snd = c().at("sender");
  const auto& req = c().at("requester");
  const std::string plain = plaintext_of(c());
  expect_ciphertext(encrypt(plain, s(snd, "privateKey"), s(snd, "nonce"), s(req, "publicKey"), s(req, "nonce")));
  expect_ciphertext(encrypt(plain, s(snd, "privateKey"), s(snd, "nonce"), s(req, "x509PublicKey"), s(req, "nonce")));
}

TEST_P(FideliusVector, DecryptsWithBothKeyEncodings) {
  const auto& snd = c().at("sender");
  const auto& req = c().at("requester");
  const std::string plain = plaintext_of(c());
  const std::string ct = ciphertext();
  EXPECT_EQ(decrypt(ct, s(req, "privateKey"), s(req, "nonce"), s(snd, "publicKey"), s(snd, "nonce")), plain);
  EXPECT_EQ(decrypt(ct, s(req, "privateKey"), s(req, "nonce"), s(snd, "x509PublicKey"), s(snd, "nonce")), plain);
}

TEST_P(FideliusVector, KeyMaterialRoundTripsExactly) {
  for (const char* who : {"sender", "requester"}) {
    SCOPED_TRACE(who);
    const auto& k = c().at(who);
    const Scalar d = parse_private_key(s(k, "privateKey"), "privateKey");
    // Our Java-style export gives back the reference's exact bytes (31- and 00-prefixed keys too).
    EXPECT_EQ(private_key_base64(d), s(k, "privateKey"));
    EXPECT_EQ(base64_decode(s(k, "privateKey"), "k").size(), k.at("privateKeyBytes").get<size_t>());
    const Point P = public_key_of(d);
    EXPECT_EQ(raw_public_key_base64(P), s(k, "publicKey"));
    EXPECT_EQ(x509_public_key_base64(P), s(k, "x509PublicKey"));
    EXPECT_EQ(parse_public_key(s(k, "publicKey"), "pk"), P);
    EXPECT_EQ(parse_public_key(s(k, "x509PublicKey"), "pk"), P);
    EXPECT_EQ(base64_decode(s(k, "nonce"), "n").size(), 32u);
  }
}

TEST_P(FideliusVector, IntermediatesMatchTheReference) {
  const auto& snd = c().at("sender");
  const auto& req = c().at("requester");
  const auto& mid = c().at("intermediate");
  const Scalar d_s = parse_private_key(s(snd, "privateKey"), "sender_private_key");
  const Scalar d_r = parse_private_key(s(req, "privateKey"), "requester_private_key");
  const Point P_s = parse_public_key(s(snd, "publicKey"), "sender_public_key");
  const Point P_r = parse_public_key(s(req, "x509PublicKey"), "requester_public_key");
  const Nonce n_s = parse_nonce(s(snd, "nonce"), "sender_nonce");
  const Nonce n_r = parse_nonce(s(req, "nonce"), "requester_nonce");

  const Scalar from_sender = shared_secret(d_s, P_r);
  const Scalar from_requester = shared_secret(d_r, P_s);
  EXPECT_EQ(hex(from_sender.span()), s(mid, "sharedSecretHex"));
  EXPECT_EQ(hex(from_requester.span()), s(mid, "sharedSecretHex"));
  EXPECT_EQ(hex(shared_x_generic(d_s, P_r).span()), s(mid, "sharedSecretHex"));

  const SessionKeys keys = derive_session_keys(from_sender, n_s, n_r);
  EXPECT_EQ(hex(keys.salt), s(mid, "saltHex"));
  EXPECT_EQ(hex(keys.iv), s(mid, "ivHex"));
  EXPECT_EQ(hex(keys.aes_key.span()), s(mid, "aesKeyHex"));
  EXPECT_EQ(s(mid, "xorOfNoncesHex"), s(mid, "saltHex") + s(mid, "ivHex"));
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = vectors().at("cases").at(info.param).at("name").get<std::string>();
  for (auto& ch : name)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllCases, FideliusVector,
                         ::testing::Range(size_t{0}, vectors().at("cases").size()), case_name);

TEST(FideliusVectors, FileHasTheExpectedShape) {
  EXPECT_EQ(vectors().at("cases").size(), 8u);
  EXPECT_EQ(vectors().at("negatives").size(), 2u);
  const auto prefix = base64_decode(vectors().at("x509PublicKeyPrefixBase64").get<std::string>(), "prefix");
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), kX509PublicKeyPrefix.begin(), kX509PublicKeyPrefix.end()));
}

// Negative cases: decrypt must raise the documented error class (the reference printed an empty
// plaintext with exit code 0 instead).
TEST(FideliusVectors, NegativesRaiseTheirErrorClass) {
  for (const auto& neg : vectors().at("negatives")) {
    SCOPED_TRACE(neg.at("name").get<std::string>());
    ASSERT_EQ(neg.at("operation"), "decrypt");
    const auto& in = neg.at("inputs");
    const std::string error_class = neg.at("errorClass");
    std::string sqlstate, fragment, field = "ciphertext";
    if (error_class == "authentication-failed") {
      sqlstate = "22000", fragment = "authentication failed";
    } else if (error_class == "ciphertext-too-short") {
      sqlstate = "22023", fragment = "ciphertext too short";
    } else if (error_class == "invalid-public-key") {
      sqlstate = "22023", fragment = "invalid public key", field = "sender_public_key";
    } else {
      FAIL() << "unknown error class " << error_class;
    }
    testing::expect_error(
        [&] {
          decrypt(in.at("ciphertext").get<std::string>(), in.at("requesterPrivateKey").get<std::string>(),
                  in.at("requesterNonce").get<std::string>(), in.at("senderPublicKey").get<std::string>(),
                  in.at("senderNonce").get<std::string>());
        },
        sqlstate, field, fragment);
  }
}

}  // namespace
}  // namespace abdm::crypto
