// Bad inputs of every kind, each refused with abdm::Error naming the SQL argument: bad base64,
// wrong lengths, wrong encodings, points off the curve or outside the prime-order subgroup,
// out-of-range private scalars, short or altered ciphertexts.
#include <gtest/gtest.h>

#include "core/crypto/fidelius.hpp"
#include "core/util/base64.hpp"
#include "crypto_test_support.hpp"
#include "torsion_points.hpp"

namespace abdm::crypto {
namespace {

using testing::expect_error;

// A valid session from the vectors file's fhir-bundle case.
struct Fixture {
  std::string s_priv, s_pub, s_x509, s_nonce, r_priv, r_pub, r_x509, r_nonce, plaintext, ciphertext;
  Fixture() {
    const auto& c = testing::vectors().at("cases").at(2);
    const auto& s = c.at("sender");
    const auto& r = c.at("requester");
    s_priv = s.at("privateKey"), s_pub = s.at("publicKey"), s_x509 = s.at("x509PublicKey"), s_nonce = s.at("nonce");
    r_priv = r.at("privateKey"), r_pub = r.at("publicKey"), r_x509 = r.at("x509PublicKey"), r_nonce = r.at("nonce");
    plaintext = c.at("plaintext"), ciphertext = c.at("ciphertext");
  }
};
const Fixture& fx() {
  static const Fixture f;
  return f;
}

std::string b64(const std::vector<uint8_t>& v) { return base64_encode(v); }
std::vector<uint8_t> raw(const std::string& text) { return base64_decode(text, "t"); }

// encrypt() with one argument replaced.
void expect_encrypt_error(const char* field, const std::string& value, const std::string& sqlstate,
                          const std::string& fragment) {
  std::string a[5] = {fx().plaintext, fx().s_priv, fx().s_nonce, fx().r_pub, fx().r_nonce};
  const char* names[5] = {"plaintext", "sender_private_key", "sender_nonce", "requester_public_key", "requester_nonce"};
  for (int i = 0; i < 5; ++i)
    if (std::string(names[i]) == field) a[i] = value;
  SCOPED_TRACE(std::string("encrypt ") + field);
  expect_error([&] { encrypt(a[0], a[1], a[2], a[3], a[4]); }, sqlstate, field, fragment);
}

void expect_decrypt_error(const char* field, const std::string& value, const std::string& sqlstate,
                          const std::string& fragment) {
  std::string a[5] = {fx().ciphertext, fx().r_priv, fx().r_nonce, fx().s_pub, fx().s_nonce};
  const char* names[5] = {"ciphertext", "requester_private_key", "requester_nonce", "sender_public_key", "sender_nonce"};
  for (int i = 0; i < 5; ++i)
    if (std::string(names[i]) == field) a[i] = value;
  SCOPED_TRACE(std::string("decrypt ") + field);
  expect_error([&] { decrypt(a[0], a[1], a[2], a[3], a[4]); }, sqlstate, field, fragment);
}

TEST(FideliusNegative, FixtureIsValid) {
  EXPECT_EQ(encrypt(fx().plaintext, fx().s_priv, fx().s_nonce, fx().r_pub, fx().r_nonce), fx().ciphertext);
  EXPECT_EQ(decrypt(fx().ciphertext, fx().r_priv, fx().r_nonce, fx().s_x509, fx().s_nonce), fx().plaintext);
}

TEST(FideliusNegative, BadBase64InEveryArgument) {
  for (const char* bad : {"not base64!", "AAAA AAAA", "AAA", "-_-_", "A===", ""}) {
    const bool empty = std::string(bad).empty();
    for (const char* f : {"sender_private_key", "sender_nonce", "requester_public_key", "requester_nonce"})
      expect_encrypt_error(f, bad, empty ? "22023" : "22P02", empty ? "is 0 bytes" : "invalid base64");
    for (const char* f : {"requester_private_key", "requester_nonce", "sender_public_key", "sender_nonce"})
      expect_decrypt_error(f, bad, empty ? "22023" : "22P02", empty ? "is 0 bytes" : "invalid base64");
  }
  expect_decrypt_error("ciphertext", fx().ciphertext + "\n", "22P02", "invalid base64");
  expect_decrypt_error("ciphertext", " " + fx().ciphertext.substr(1), "22P02", "invalid base64");
  expect_decrypt_error("ciphertext", fx().ciphertext.substr(0, 10) + "=" + fx().ciphertext.substr(11), "22P02",
                       "invalid base64");
}

TEST(FideliusNegative, NonceLengths) {
  for (size_t n : {0u, 1u, 16u, 31u, 33u, 64u}) {
    const std::string nonce = b64(std::vector<uint8_t>(n, 7));
    expect_encrypt_error("sender_nonce", nonce, "22023", "nonce is " + std::to_string(n) + " bytes; expected 32");
    expect_encrypt_error("requester_nonce", nonce, "22023", "expected 32");
    expect_decrypt_error("requester_nonce", nonce, "22023", "expected 32");
    expect_decrypt_error("sender_nonce", nonce, "22023", "expected 32");
  }
}

TEST(FideliusNegative, SenderNonceMustDifferFromRequesterNonce) {
  // Equal nonces XOR to an all-zero salt and IV; found by probing fidelius_encrypt.
  expect_encrypt_error("sender_nonce", fx().r_nonce, "22023", "equals requester_nonce");
}

TEST(FideliusNegative, PrivateKeyRange) {
  const std::string n_hex = "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";
  std::vector<uint8_t> n(32);
  for (size_t i = 0; i < 32; ++i) n[i] = static_cast<uint8_t>(std::stoi(n_hex.substr(2 * i, 2), nullptr, 16));
  std::vector<uint8_t> n_plus_1 = n;
  n_plus_1[31] += 1;
  std::vector<uint8_t> n_minus_1 = n;
  n_minus_1[31] -= 1;
  for (const char* f : {"sender_private_key"}) {
    expect_encrypt_error(f, b64(std::vector<uint8_t>(32, 0)), "22023", "invalid private key: zero");
    expect_encrypt_error(f, b64({0}), "22023", "invalid private key: zero");
    expect_encrypt_error(f, b64(n), "22023", "not below the group order n");
    expect_encrypt_error(f, b64(n_plus_1), "22023", "not below the group order n");
    expect_encrypt_error(f, b64(std::vector<uint8_t>(32, 0x7f)), "22023", "not below the group order n");
    expect_encrypt_error(f, b64(std::vector<uint8_t>(32, 0xff)), "22023", "negative");
    expect_encrypt_error(f, b64(std::vector<uint8_t>(33, 0x01)), "22023", "not below the group order n");
    expect_encrypt_error(f, b64(std::vector<uint8_t>(34, 0)), "22023", "private key is 34 bytes");
  }
  expect_decrypt_error("requester_private_key", b64(n), "22023", "not below the group order n");
  expect_decrypt_error("requester_private_key", b64(std::vector<uint8_t>(31, 0)), "22023", "zero");
  // n − 1 is the largest valid scalar; 1 the smallest.
  EXPECT_NO_THROW(parse_private_key(b64(n_minus_1), "k"));
  EXPECT_NO_THROW(parse_private_key(b64({1}), "k"));
}

TEST(FideliusNegative, PublicKeyEncodings) {
  const auto good_raw = raw(fx().r_pub);
  const auto good_x509 = raw(fx().r_x509);
  for (size_t n : {0u, 1u, 32u, 33u, 64u, 66u, 91u, 308u, 310u}) {
    std::vector<uint8_t> v(n, 4);
    expect_encrypt_error("requester_public_key", b64(v), "22023", "public key is " + std::to_string(n) + " bytes");
  }
  // Compressed form of the same point (33 bytes) and a 65-byte key with another first byte.
  std::vector<uint8_t> compressed(good_raw.begin(), good_raw.begin() + 33);
  compressed[0] = 0x02 | (good_raw[64] & 1);
  expect_encrypt_error("requester_public_key", b64(compressed), "22023", "public key is 33 bytes");
  for (uint8_t lead : {0x00, 0x02, 0x03, 0x06, 0x07}) {
    auto v = good_raw;
    v[0] = lead;
    expect_encrypt_error("requester_public_key", b64(v), "22023", "must start with 0x04");
  }
  // Any change in the X.509 prefix: the OID, a curve parameter, the cofactor, the BIT STRING.
  for (size_t pos : {0u, 3u, 10u, 40u, 100u, 200u, 238u, 241u, 244u}) {
    auto v = good_x509;
    v[pos] ^= 0x01;
    expect_decrypt_error("sender_public_key", b64(v), "22023", "not an X.509 SubjectPublicKeyInfo");
  }
}

TEST(FideliusNegative, PointsOffTheCurveOrOutsideTheSubgroup) {
  const auto good = raw(fx().r_pub);
  {
    auto v = good;
    v[64] ^= 1;  // y changed: off the curve
    expect_encrypt_error("requester_public_key", b64(v), "22023", "not on the curve");
    auto x = raw(fx().r_x509);
    x[308] ^= 1;
    expect_encrypt_error("requester_public_key", b64(x), "22023", "not on the curve");
  }
  {
    std::vector<uint8_t> v(65, 0);  // (0, 0) is not on the curve
    v[0] = 4;
    expect_encrypt_error("requester_public_key", b64(v), "22023", "not on the curve");
  }
  {
    // x + p: the same residue written with a coordinate >= p.
    const Point P = parse_public_key(fx().r_pub, "k");
    BnPtr x(BN_bin2bn(P.x.data(), 32, nullptr));
    BN_add(x.get(), x.get(), Curve::get().p());
    ASSERT_LE(BN_num_bytes(x.get()), 32);
    auto v = good;
    BN_bn2binpad(x.get(), v.data() + 1, 32);
    expect_encrypt_error("requester_public_key", b64(v), "22023", "not below the field prime");
  }
  // Small-order points and valid points shifted by them, in both encodings.
  EcPointPtr T = testing::order8_point();
  const Point P = parse_public_key(fx().s_pub, "k");
  for (unsigned long k = 1; k < 8; ++k) {
    const Point small = testing::multiple(T.get(), k);
    EcPointPtr tk = testing::from_point(small);
    const Point moved = testing::shifted(P, tk.get());
    for (const Point& bad : {small, moved}) {
      expect_decrypt_error("sender_public_key", raw_public_key_base64(bad), "22023", "not in the prime-order subgroup");
      expect_decrypt_error("sender_public_key", x509_public_key_base64(bad), "22023", "not in the prime-order subgroup");
      expect_encrypt_error("requester_public_key", raw_public_key_base64(bad), "22023",
                           "not in the prime-order subgroup");
    }
  }
}

TEST(FideliusNegative, CiphertextTooShort) {
  expect_decrypt_error("ciphertext", "", "22023", "ciphertext too short: 0 bytes");
  expect_decrypt_error("ciphertext", b64(std::vector<uint8_t>(1, 9)), "22023", "ciphertext too short: 1 bytes");
  expect_decrypt_error("ciphertext", b64(std::vector<uint8_t>(15, 9)), "22023", "ciphertext too short: 15 bytes");
  // 16 bytes is a (wrong) tag of an empty plaintext: authentication, not length, fails.
  expect_decrypt_error("ciphertext", b64(std::vector<uint8_t>(16, 9)), "22000", "authentication failed");
}

TEST(FideliusNegative, AlteredDataOrWrongKeysFailAuthentication) {
  auto bytes = raw(fx().ciphertext);
  for (size_t pos : {size_t{0}, bytes.size() / 2, bytes.size() - 17, bytes.size() - 16, bytes.size() - 1}) {
    auto v = bytes;
    v[pos] ^= 0x80;
    expect_decrypt_error("ciphertext", b64(v), "22000", "authentication failed");
  }
  auto truncated = bytes;
  truncated.pop_back();
  expect_decrypt_error("ciphertext", b64(truncated), "22000", "authentication failed");
  // The right ciphertext with another party's nonce or key.
  const auto& other = testing::vectors().at("cases").at(3);
  const std::string other_nonce = other.at("sender").at("nonce");
  const std::string other_pub = other.at("sender").at("publicKey");
  const std::string other_priv = other.at("requester").at("privateKey");
  expect_error([&] { decrypt(fx().ciphertext, fx().r_priv, fx().r_nonce, fx().s_pub, other_nonce); }, "22000",
               "ciphertext", "authentication failed");
  expect_error([&] { decrypt(fx().ciphertext, fx().r_priv, fx().r_nonce, other_pub, fx().s_nonce); }, "22000",
               "ciphertext", "authentication failed");
  expect_error([&] { decrypt(fx().ciphertext, other_priv, fx().r_nonce, fx().s_pub, fx().s_nonce); }, "22000",
               "ciphertext", "authentication failed");
}

TEST(FideliusNegative, FirstBadArgumentIsTheOneReported) {
  expect_error([&] { encrypt("x", "!!!!", "!!!!", "!!!!", "!!!!"); }, "22P02", "sender_private_key", "invalid base64");
  expect_error([&] { encrypt("x", fx().s_priv, "!!!!", "!!!!", "!!!!"); }, "22P02", "sender_nonce", "invalid base64");
  expect_error([&] { decrypt("!!!!", "!!!!", "!!!!", "!!!!", "!!!!"); }, "22P02", "requester_private_key",
               "invalid base64");
}

}  // namespace
}  // namespace abdm::crypto
