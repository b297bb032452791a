#include "core/auth/jwks.hpp"

#include <cjose/jwk.h>
#include <cjose/util.h>
#include <gtest/gtest.h>

#include <string>

#include "core/util/error.hpp"
#include "jwt_test_support.hpp"

namespace abdm::auth {
namespace {

using namespace testing;  // NOLINT: the test helpers
using nlohmann::json;

std::string doc(const json& keys) { return json{{"keys", keys}}.dump(); }
// A list of keys. Its own overload: `doc({one_key})` through a json parameter is a copy of
// one_key under clang but a one-element array under gcc (brace elision), so the single-key
// tests read no "keys" array in the clang (sanitizer) build.
std::string doc(std::initializer_list<json> keys) { return doc(json(std::vector<json>(keys))); }

// The field of the abdm::Error that parsing `text` throws ("" when it does not throw).
std::string error_field(const std::string& text) {
  try {
    Jwks k(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.sqlstate(), "22023");
    return e.field();
  }
  return "";
}

TEST(Jwks, KeepsTheGatewaysTwoRsaKeys) {
  const Jwks k(doc({jwk(key_a(), "k1", "RS256"), jwk(key_b(), "k2", "RS512")}));
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k.skipped_count(), 0u);
  EXPECT_EQ(k.skipped_summary(), "");
  ASSERT_NE(k.find("k1"), nullptr);
  EXPECT_EQ(k.find("k1")->kid(), "k1");
  EXPECT_EQ(k.find("k1")->alg(), "RS256");
  EXPECT_EQ(k.find("k2")->alg(), "RS512");
  EXPECT_EQ(k.find("k1")->bits(), 2048u);
  EXPECT_NE(k.find("k1")->cjose_key(), nullptr);
  EXPECT_EQ(k.find("k3"), nullptr);
  EXPECT_EQ(k.find(""), nullptr);
}

TEST(Jwks, AlgAndUseMayBeAbsent) {
  const Jwks k(doc({jwk(key_a(), "k1", "", "")}));
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k.find("k1")->alg(), "");
}

TEST(Jwks, SkipsKeysThatCannotVerifyGatewayTokens) {
  json ec = {{"kty", "EC"}, {"crv", "P-256"}, {"kid", "ec-1"}, {"use", "sig"},
             {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}, {"y", "x_FEzRjGFCQJbtpA8fYZsM3_7yRMNIMsrO0KvATbGMc"}};
  json oct = {{"kty", "oct"}, {"kid", "hmac-1"}, {"k", "c2VjcmV0"}};
  json no_kty = {{"kid", "none"}, {"n", "AQAB"}};
  json ops = jwk(key_a(), "ops-1");
  ops["key_ops"] = json::array({"encrypt"});
  const Jwks k(doc({ec, oct, jwk(key_a(), "enc-1", "RSA-OAEP", "enc"), jwk(key_a(), "", "RS256"),
                    jwk(key_a(), "ps-1", "PS256"), jwk(key_a(), "hs-1", "HS256"), no_kty, ops,
                    jwk(key_a(), "keep-1"), jwk(key_b(), "keep-1", "RS512")}));
  ASSERT_EQ(k.size(), 1u);
  ASSERT_NE(k.find("keep-1"), nullptr);
  EXPECT_EQ(k.find("keep-1")->alg(), "RS256");  // the first of two with one kid
  for (const char* kid : {"ec-1", "hmac-1", "enc-1", "ps-1", "hs-1", "none", "ops-1"}) EXPECT_EQ(k.find(kid), nullptr);

  ASSERT_EQ(k.skipped_count(), 9u);
  const auto& s = k.skipped();
  EXPECT_EQ(s[0].index, 0u);
  EXPECT_EQ(s[0].kid, "ec-1");
  EXPECT_EQ(s[0].reason, "kty EC");
  EXPECT_EQ(s[1].reason, "kty oct");
  EXPECT_EQ(s[2].reason, "use enc");
  EXPECT_EQ(s[3].reason, "no kid");
  EXPECT_EQ(s[4].reason, "alg PS256");
  EXPECT_EQ(s[5].reason, "alg HS256");
  EXPECT_EQ(s[6].reason, "no kty");
  EXPECT_EQ(s[7].reason, "key_ops without verify");
  EXPECT_EQ(s[8].index, 9u);
  EXPECT_EQ(s[8].reason, "duplicate kid");
  const std::string summary = k.skipped_summary();
  EXPECT_NE(summary.find("keys[0] (kid ec-1): kty EC"), std::string::npos) << summary;
  EXPECT_NE(summary.find("keys[3]: no kid"), std::string::npos) << summary;
}

TEST(Jwks, SkipsSmallRsaKeys) {
  const Jwks k(doc({jwk(make_rsa(1024), "small"), jwk(key_a(), "big")}));
  EXPECT_EQ(k.size(), 1u);
  ASSERT_EQ(k.skipped_count(), 1u);
  EXPECT_EQ(k.skipped()[0].reason, "RSA modulus of 1024 bits (< 2048)");
}

TEST(Jwks, AllKeysSkippedIsAValidEmptySet) {
  const Jwks k(doc({{{"kty", "oct"}, {"kid", "x"}, {"k", "AAAA"}}}));
  EXPECT_EQ(k.size(), 0u);
  EXPECT_TRUE(k.empty());
  EXPECT_EQ(Jwks(doc(json::array())).size(), 0u);
  EXPECT_EQ(Jwks().size(), 0u);
}

// A JWKS that wrongly publishes a private key must not leave one in our memory: only kty, n and e
// reach cjose (and nothing else is decoded, so a junk member cannot upset it either).
TEST(Jwks, PrivateMembersAreNotImported) {
  json j = jwk(key_a(), "k1");
  j["d"] = b64url(bn_bytes(key_a(), OSSL_PKEY_PARAM_RSA_D));
  json junk = jwk(key_b(), "k2");
  junk["d"] = "a=bc";  // would reach an assert() in cjose's base64url decoder
  const Jwks k(doc({j, junk}));
  ASSERT_EQ(k.size(), 2u);
  cjose_err err{};
  char* exported = cjose_jwk_to_json(k.find("k1")->cjose_key(), /*priv=*/true, &err);
  ASSERT_NE(exported, nullptr);
  const std::string text(exported);
  cjose_get_dealloc()(exported);
  EXPECT_NE(text.find("\"n\""), std::string::npos) << text;
  EXPECT_EQ(text.find("\"d\""), std::string::npos) << text;
}

TEST(Jwks, RefusesWhatIsNotAJwks) {
  EXPECT_EQ(error_field("not json"), "jwks");
  EXPECT_EQ(error_field(""), "jwks");
  EXPECT_EQ(error_field("[]"), "jwks");
  EXPECT_EQ(error_field("{}"), "keys");
  EXPECT_EQ(error_field(R"({"keys":{}})"), "keys");
  EXPECT_EQ(error_field(R"({"Keys":[]})"), "keys");
  EXPECT_EQ(error_field(R"({"keys":[1]})"), "keys[0]");
  // Larger than 256 KiB, even if it is JSON.
  json big = json::parse(doc({jwk(key_a(), "k1")}));
  big["pad"] = std::string(256 * 1024, 'x');
  EXPECT_EQ(error_field(big.dump()), "jwks");
}

TEST(Jwks, RefusesBrokenMembersAndKeyMaterial) {
  const json good = jwk(key_a(), "k1");
  auto with = [&](const char* member, json value) {
    json j = good;
    if (value.is_null()) j.erase(member); else j[member] = std::move(value);
    return doc({jwk(key_b(), "first"), j});
  };
  EXPECT_EQ(error_field(with("kid", 5)), "keys[1].kid");
  EXPECT_EQ(error_field(with("kty", json::array())), "keys[1].kty");
  EXPECT_EQ(error_field(with("use", 1)), "keys[1].use");
  EXPECT_EQ(error_field(with("alg", false)), "keys[1].alg");
  EXPECT_EQ(error_field(with("key_ops", "verify")), "keys[1].key_ops");
  EXPECT_EQ(error_field(with("n", nullptr)), "keys[1].n");
  EXPECT_EQ(error_field(with("n", 12345)), "keys[1].n");
  EXPECT_EQ(error_field(with("n", "a=bc")), "keys[1].n");  // would reach an assert() in cjose
  EXPECT_EQ(error_field(with("n", "ab+/")), "keys[1].n");  // standard base64, not base64url
  EXPECT_EQ(error_field(with("n", "AAAA")), "keys[1].n");  // zero
  EXPECT_EQ(error_field(with("e", "AQ")), "keys[1].e");    // e = 1
  EXPECT_EQ(error_field(with("e", "AAI")), "keys[1].e");   // e = 2
  EXPECT_EQ(error_field(with("e", nullptr)), "keys[1].e");
  EXPECT_EQ(error_field(with("e", "AQAB")), "");           // 65537
  EXPECT_EQ(error_field(with("e", "Aw")), "");             // 3
}

TEST(Jwks, CopiesShareTheKeys) {
  Jwks copy;
  {
    const Jwks original(doc({jwk(key_a(), "k1")}));
    copy = original;
  }
  ASSERT_NE(copy.find("k1"), nullptr);
  EXPECT_NE(copy.find("k1")->cjose_key(), nullptr);
}

}  // namespace
}  // namespace abdm::auth
