#include "core/auth/jwt.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jwt_test_support.hpp"

namespace abdm::auth {
namespace {

using namespace testing;  // NOLINT: the test helpers
using nlohmann::json;

// The gateway's JWKS as observed: two RSA keys, one RS256 and one RS512; plus one without alg.
Jwks gateway_jwks() {
  json doc = {{"keys", json::array({jwk(key_a(), "kid-256", "RS256"), jwk(key_b(), "kid-512", "RS512", ""),
                                    jwk(key_a(), "kid-any", "", "")})}};
  return Jwks(doc.dump());
}

JwtPolicy policy() { return JwtPolicy{kIssuer, std::chrono::seconds{1200}, "gateway"}; }

JwtResult verify(const std::string& token, const JwtPolicy& p = policy(), long long now = kNow) {
  static const Jwks keys = gateway_jwks();
  return verify_jwt(token, keys, p, at(now));
}

std::string good_token(const json& claims = gateway_claims()) {
  return rs_token(key_a(), header("RS256", "kid-256"), claims);
}

// The parts of a token that must never appear in a reason.
void expect_reason_free_of_token(const JwtResult& r, const std::string& token) {
  const size_t d1 = token.find('.');
  const size_t d2 = token.find('.', d1 + 1);
  ASSERT_NE(d2, std::string::npos);
  const std::string payload = token.substr(d1 + 1, d2 - d1 - 1);
  const std::string signature = token.substr(d2 + 1);
  const std::string header_part = token.substr(0, d1);
  EXPECT_FALSE(r.reason.empty());
  for (const std::string& part : {payload, signature, header_part}) {
    if (part.size() < 8) continue;
    // Any 8-character piece of the part would already be a leak.
    for (size_t i = 0; i + 8 <= part.size(); i += 8)
      EXPECT_EQ(r.reason.find(part.substr(i, 8)), std::string::npos) << r.reason;
  }
}

TEST(VerifyJwt, ValidRs256) {
  const JwtResult r = verify(good_token());
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.failure, JwtFailure::kNone);
  EXPECT_EQ(r.kid, "kid-256");
  EXPECT_EQ(r.alg, "RS256");
  EXPECT_EQ(r.claims["clientId"], "gateway");
  EXPECT_EQ(r.claims["realm_access"]["roles"][0], "gateway");
  EXPECT_TRUE(r.reason.empty());
}

TEST(VerifyJwt, ValidRs512WithRs512Key) {
  const JwtResult r = verify(rs_token(key_b(), header("RS512", "kid-512"), gateway_claims()));
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_EQ(r.alg, "RS512");
}

TEST(VerifyJwt, KeyWithoutAlgAcceptsRs256AndRs512) {
  EXPECT_TRUE(verify(rs_token(key_a(), header("RS256", "kid-any"), gateway_claims())).ok());
  EXPECT_TRUE(verify(rs_token(key_a(), header("RS512", "kid-any"), gateway_claims())).ok());
  // ... but the digest must be the one the header names.
  const JwtResult r = verify(rs_token(key_a(), header("RS512", "kid-any"), gateway_claims(), EVP_sha256()));
  EXPECT_EQ(r.failure, JwtFailure::kBadSignature) << r.reason;
}

TEST(VerifyJwt, FlippedSignatureByteFails) {
  const std::string token = good_token();
  const size_t sig_at = token.rfind('.') + 1;
  for (size_t pos : {sig_at, sig_at + 100, token.size() - 3}) {
    std::string forged = token;
    forged[pos] = forged[pos] == 'A' ? 'B' : 'A';
    const JwtResult r = verify(forged);
    EXPECT_EQ(r.failure, JwtFailure::kBadSignature) << pos << ": " << r.reason;
    EXPECT_EQ(r.reason, "signature does not verify with key kid-256");
    EXPECT_TRUE(r.claims.is_null());
    expect_reason_free_of_token(r, forged);
  }
}

TEST(VerifyJwt, TokenSignedByAnotherKeyUnderTheSameKidFails) {
  const std::string forged = rs_token(key_b(), header("RS256", "kid-256"), gateway_claims());
  const JwtResult r = verify(forged);
  EXPECT_EQ(r.failure, JwtFailure::kBadSignature) << r.reason;
  expect_reason_free_of_token(r, forged);
}

TEST(VerifyJwt, PayloadChangedAfterSigningFails) {
  const std::string token = good_token();
  json changed = gateway_claims();
  changed["clientId"] = "someone-else";
  const size_t d1 = token.find('.'), d2 = token.rfind('.');
  const std::string forged = token.substr(0, d1 + 1) + b64url(changed.dump()) + token.substr(d2);
  const JwtResult r = verify(forged);
  EXPECT_EQ(r.failure, JwtFailure::kBadSignature) << r.reason;
  expect_reason_free_of_token(r, forged);
}

// The realm signs every client's session token with the same key and issuer: a hospital's own
// token (another bridge's) must not pass for the gateway's.
TEST(VerifyJwt, AnotherClientsTokenIsNotTheGateways) {
  json c = gateway_claims();
  c["realm_access"]["roles"] = json::array({"hiu", "hip", "offline_access"});
  c["azp"] = "SBX_000123";
  c["clientId"] = "SBX_000123";
  JwtResult r = verify(good_token(c));
  EXPECT_EQ(r.failure, JwtFailure::kNotTheGateway);
  EXPECT_NE(r.reason.find("realm_access.roles lacks gateway"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.claims.is_null());
  for (json bad : {json(nullptr), json("gateway"), json::object(), json{{"roles", "gateway"}},
                   json{{"roles", json::array({42})}}}) {
    c["realm_access"] = bad;
    EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kNotTheGateway) << bad.dump();
  }
  c.erase("realm_access");
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kNotTheGateway);
  // With the role among others it passes; with no role required (tests only) any client passes.
  c["realm_access"] = {{"roles", json::array({"offline_access", "gateway"})}};
  EXPECT_TRUE(verify(good_token(c)).ok());
  c.erase("realm_access");
  JwtPolicy any = policy();
  any.role.clear();
  EXPECT_TRUE(verify(good_token(c), any).ok());
}

TEST(VerifyJwt, WrongIssuer) {
  json c = gateway_claims();
  c["iss"] = "https://evil.example/auth/realms/central-registry";
  const JwtResult r = verify(good_token(c));
  EXPECT_EQ(r.failure, JwtFailure::kWrongIssuer);
  EXPECT_NE(r.reason.find("evil.example"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.claims.is_null());

  c["iss"] = std::string(kIssuer) + "/";  // exact match only
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kWrongIssuer);
  c.erase("iss");
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kWrongIssuer);
  c["iss"] = 42;
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kWrongIssuer);
}

TEST(VerifyJwt, LongIssuerIsCutInTheReason) {
  json c = gateway_claims();
  c["iss"] = std::string(5000, 'x') + "\n";
  const JwtResult r = verify(good_token(c));
  EXPECT_EQ(r.failure, JwtFailure::kWrongIssuer);
  EXPECT_LT(r.reason.size(), 600u);
  EXPECT_EQ(r.reason.find('\n'), std::string::npos);
  // Control characters cannot forge a second log line.
  c["iss"] = "evil\nLOG: forged\x7f\t";
  const JwtResult r2 = verify(good_token(c));
  EXPECT_NE(r2.reason.find("iss evil?LOG: forged?? is not"), std::string::npos) << r2.reason;
}

TEST(VerifyJwt, EmptyPolicyIssuerFailsEveryToken) {
  JwtPolicy p = policy();
  p.issuer.clear();
  const JwtResult r = verify(good_token(), p);
  EXPECT_EQ(r.failure, JwtFailure::kNoIssuerConfigured);
  EXPECT_EQ(r.reason, "no issuer configured (abdm_hip.jwt_issuer)");
  json c = gateway_claims();
  c["iss"] = "";
  EXPECT_EQ(verify(good_token(c), p).failure, JwtFailure::kNoIssuerConfigured);
}

TEST(VerifyJwt, ExpiredBeyondLeeway) {
  // Issued two hours before now: exp was 6000 s ago.
  const std::string token = good_token(gateway_claims(kNow - 7200));
  const JwtResult r = verify(token);
  EXPECT_EQ(r.failure, JwtFailure::kExpired);
  EXPECT_EQ(r.reason, "expired 6000 s ago (leeway 1200 s)");
  EXPECT_TRUE(r.claims.is_null());
  expect_reason_free_of_token(r, token);
  // One second past the leeway.
  EXPECT_EQ(verify(good_token(gateway_claims(kNow - 1200 - 1201))).failure, JwtFailure::kExpired);
}

TEST(VerifyJwt, ExpiredWithinLeewayIsAccepted) {
  // The re-delivery case: a token issued 36 minutes ago expired 16 minutes ago, within the
  // 20-minute leeway.
  EXPECT_TRUE(verify(good_token(gateway_claims(kNow - 36 * 60))).ok());
  // Exactly at exp + leeway still passes; a zero leeway refuses one second after exp.
  EXPECT_TRUE(verify(good_token(gateway_claims(kNow - 2400))).ok());
  JwtPolicy strict = policy();
  strict.leeway = std::chrono::seconds{0};
  EXPECT_EQ(verify(good_token(gateway_claims(kNow - 1201)), strict).failure, JwtFailure::kExpired);
  EXPECT_TRUE(verify(good_token(gateway_claims(kNow - 1200)), strict).ok());
}

TEST(VerifyJwt, FractionalExpIsANumericDate) {
  json c = gateway_claims();
  c["exp"] = kNow - 1200 - 0.5;  // 0.5 s past exp + leeway
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kExpired);
  c["exp"] = kNow + 0.5;
  EXPECT_TRUE(verify(good_token(c)).ok());
}

TEST(VerifyJwt, NotBeforeInTheFuture) {
  json c = gateway_claims();
  c["nbf"] = kNow + 600;
  const JwtResult r = verify(good_token(c));
  EXPECT_EQ(r.failure, JwtFailure::kNotYetValid);
  EXPECT_EQ(r.reason, "not valid for another 600 s (nbf; clock skew allowed 60 s)");
  // Within the 60 s skew (not the 1200 s leeway): accepted; just past it: refused.
  c["nbf"] = kNow + 60;
  EXPECT_TRUE(verify(good_token(c)).ok());
  c["nbf"] = kNow + 61;
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kNotYetValid);
  c["nbf"] = "soon";
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kMalformed);
}

TEST(VerifyJwt, NoExpiry) {
  json c = gateway_claims();
  c.erase("exp");
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kNoExpiry);
  c["exp"] = std::to_string(kNow + 100);  // a string is not a NumericDate
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kNoExpiry);
  c["exp"] = true;
  EXPECT_EQ(verify(good_token(c)).failure, JwtFailure::kNoExpiry);
}

TEST(VerifyJwt, UnknownKid) {
  const std::string token = rs_token(key_a(), header("RS256", "rotated-kid"), gateway_claims());
  const JwtResult r = verify(token);
  EXPECT_EQ(r.failure, JwtFailure::kUnknownKid);
  EXPECT_EQ(r.kid, "rotated-kid");
  EXPECT_NE(r.reason.find("rotated-kid"), std::string::npos);
  expect_reason_free_of_token(r, token);
  // An empty key set knows no kid at all.
  EXPECT_EQ(verify_jwt(good_token(), Jwks(), policy(), at(kNow)).failure, JwtFailure::kUnknownKid);
}

TEST(VerifyJwt, NoKid) {
  EXPECT_EQ(verify(rs_token(key_a(), header("RS256", ""), gateway_claims())).failure, JwtFailure::kNoKid);
  json h = header("RS256", "");
  h["kid"] = 7;
  EXPECT_EQ(verify(rs_token(key_a(), h, gateway_claims(), EVP_sha256())).failure, JwtFailure::kNoKid);
  h["kid"] = "";
  EXPECT_EQ(verify(rs_token(key_a(), h, gateway_claims(), EVP_sha256())).failure, JwtFailure::kNoKid);
}

TEST(VerifyJwt, AlgNoneWithEmptySignatureIsRefused) {
  for (const char* kid : {"kid-256", "kid-any"}) {
    const std::string token = signing_input(header("none", kid), gateway_claims()) + ".";
    const JwtResult r = verify(token);
    EXPECT_EQ(r.failure, JwtFailure::kAlgNotAllowed) << r.reason;
    EXPECT_EQ(r.reason, std::string("alg none not allowed for RSA key ") + kid);
    expect_reason_free_of_token(r, token + "AAAAAAAA");
  }
  // Also "None", and no alg at all.
  EXPECT_EQ(verify(signing_input(header("None", "kid-any"), gateway_claims()) + ".").failure,
            JwtFailure::kAlgNotAllowed);
  EXPECT_EQ(verify(signing_input(header("", "kid-any"), gateway_claims()) + ".").failure,
            JwtFailure::kAlgNotAllowed);
}

// The key-confusion attack: the attacker HMACs with the public key (which everyone has) and says
// HS256, hoping the verifier uses the RSA key's bytes as the HMAC secret.
TEST(VerifyJwt, Hs256KeyedWithThePublicKeyIsRefused) {
  const std::string n = bn_bytes(key_a(), OSSL_PKEY_PARAM_RSA_N);
  const std::vector<std::string> secrets = {public_pem(key_a()), n, b64url(n), jwk(key_a(), "kid-any", "", "").dump()};
  for (const char* kid : {"kid-256", "kid-any"}) {
    for (const std::string& secret : secrets) {
      const std::string in = signing_input(header("HS256", kid), gateway_claims());
      const std::string token = in + "." + b64url(hmac_sha256(secret, in));
      const JwtResult r = verify(token);
      EXPECT_EQ(r.failure, JwtFailure::kAlgNotAllowed) << r.reason;
      EXPECT_EQ(r.reason, std::string("alg HS256 not allowed for RSA key ") + kid);
      expect_reason_free_of_token(r, token);
    }
  }
}

TEST(VerifyJwt, OtherAlgorithmsAreRefused) {
  for (const char* alg : {"HS512", "HS384", "ES256", "PS256", "PS512", "RS384", "rs256", "RS256 "}) {
    const std::string in = signing_input(header(alg, "kid-any"), gateway_claims());
    const JwtResult r = verify(in + "." + b64url(rsa_sign(key_a(), EVP_sha256(), in)));
    EXPECT_EQ(r.failure, JwtFailure::kAlgNotAllowed) << alg << ": " << r.reason;
  }
  json h = header("", "kid-any");
  h["alg"] = json::array({"RS256"});
  EXPECT_EQ(verify(rs_token(key_a(), h, gateway_claims(), EVP_sha256())).failure, JwtFailure::kAlgNotAllowed);
}

TEST(VerifyJwt, Rs512AgainstAnRs256KeyIsRefused) {
  const std::string token = rs_token(key_a(), header("RS512", "kid-256"), gateway_claims());
  const JwtResult r = verify(token);
  EXPECT_EQ(r.failure, JwtFailure::kAlgNotAllowed) << r.reason;
  EXPECT_EQ(r.reason, "alg RS512 does not match key kid-256 (alg RS256)");
  // And the other way round.
  EXPECT_EQ(verify(rs_token(key_b(), header("RS256", "kid-512"), gateway_claims())).failure,
            JwtFailure::kAlgNotAllowed);
}

TEST(VerifyJwt, AlgDecisionTable) {
  EXPECT_TRUE(jwt_alg_allowed_for_key("RS256", ""));
  EXPECT_TRUE(jwt_alg_allowed_for_key("RS512", ""));
  EXPECT_TRUE(jwt_alg_allowed_for_key("RS256", "RS256"));
  EXPECT_TRUE(jwt_alg_allowed_for_key("RS512", "RS512"));
  EXPECT_FALSE(jwt_alg_allowed_for_key("RS512", "RS256"));
  EXPECT_FALSE(jwt_alg_allowed_for_key("RS256", "RS512"));
  for (const char* alg : {"", "none", "HS256", "HS512", "ES256", "PS256", "RS384"}) {
    EXPECT_FALSE(jwt_alg_allowed_for_key(alg, "")) << alg;
    EXPECT_FALSE(jwt_alg_allowed_for_key(alg, alg)) << alg;  // even if a key claimed it
  }
}

TEST(VerifyJwt, GarbageIsMalformed) {
  const std::string valid = good_token();
  const std::string h = valid.substr(0, valid.find('.'));
  const std::vector<std::string> inputs = {
      "", ".", "..", "a.b", "a.b.c.d", "....", h + "..", ".payload.sig",
      "!!!.###.$$$", h + ".e30=.", h + ".e30.a=bc", "a=bc.e30.", h + ".e30.A",
      b64url("not json") + ".e30.", b64url("[1,2]") + ".e30.", b64url("\"s\"") + ".e30.",
      b64url("{\"alg\":") + ".e30.", std::string(20 * 1024, 'A'),
      valid + "." , valid + "x.", std::string("\0\0.\0.\0", 6), valid.substr(0, valid.size() / 2) + "\n"};
  for (const std::string& in : inputs) {
    const JwtResult r = verify(in);
    EXPECT_EQ(r.failure, JwtFailure::kMalformed) << "[" << in.substr(0, 40) << "]: " << r.reason;
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.reason.empty());
  }
  // A 20 KiB token of the right shape is refused for its size, unread.
  json big = gateway_claims();
  big["pad"] = std::string(20 * 1024, 'x');
  const JwtResult r = verify(good_token(big));
  EXPECT_EQ(r.failure, JwtFailure::kMalformed);
  EXPECT_EQ(r.reason, "token longer than 16384 bytes");
}

TEST(VerifyJwt, PayloadNotAJsonObjectIsMalformedEvenWhenSigned) {
  for (const std::string payload : {"[1]", "not json", "\"gateway\"", ""}) {
    const std::string in = b64url(header("RS256", "kid-256").dump()) + "." + b64url(payload);
    if (payload.empty()) {
      EXPECT_EQ(verify(in + "." + b64url(rsa_sign(key_a(), EVP_sha256(), in))).failure, JwtFailure::kMalformed);
      continue;
    }
    const JwtResult r = verify(in + "." + b64url(rsa_sign(key_a(), EVP_sha256(), in)));
    EXPECT_EQ(r.failure, JwtFailure::kMalformed) << payload;
    EXPECT_EQ(r.reason, "payload is not a JSON object");
  }
}

TEST(VerifyJwt, CritHeaderIsRefused) {
  json h = header("RS256", "kid-256");
  h["crit"] = json::array({"b64"});
  h["b64"] = false;
  EXPECT_EQ(verify(rs_token(key_a(), h, gateway_claims())).failure, JwtFailure::kMalformed);
}

TEST(VerifyJwt, DuplicateHeaderMembersAreNotReadTwoWays) {
  // {"alg":"RS256","kid":"kid-256","alg":"RS256"} reads the same to both parsers and verifies;
  // a kid given twice with different values is refused or read consistently, never mixed.
  const std::string claims_b64 = b64url(gateway_claims().dump());
  for (const std::string raw : {R"({"alg":"RS256","kid":"kid-512","kid":"kid-256"})",
                                R"({"kid":"kid-256","alg":"HS256","alg":"RS256"})"}) {
    const std::string in = b64url(raw) + "." + claims_b64;
    const JwtResult r = verify(in + "." + b64url(rsa_sign(key_a(), EVP_sha256(), in)));
    // Both parsers keep the last member: the token is an RS256 token for kid-256.
    EXPECT_TRUE(r.ok()) << r.reason;
    EXPECT_EQ(r.kid, "kid-256");
  }
}

TEST(VerifyJwt, ReasonsNeverCarryTheToken) {
  json c = gateway_claims();
  c["iss"] = "https://other.example";
  std::vector<std::string> tokens = {
      good_token(c), good_token(gateway_claims(kNow - 9000)),
      rs_token(key_b(), header("RS256", "kid-256"), gateway_claims()),
      rs_token(key_a(), header("RS512", "kid-256"), gateway_claims()),
      rs_token(key_a(), header("RS256", "nope"), gateway_claims()),
      rs_token(key_a(), header("RS256", ""), gateway_claims())};
  for (const std::string& t : tokens) {
    const JwtResult r = verify(t);
    ASSERT_FALSE(r.ok());
    expect_reason_free_of_token(r, t);
  }
}

TEST(FailureName, EveryValueHasAName) {
  EXPECT_EQ(failure_name(JwtFailure::kNone), "none");
  EXPECT_EQ(failure_name(JwtFailure::kMalformed), "malformed");
  EXPECT_EQ(failure_name(JwtFailure::kNoKid), "no_kid");
  EXPECT_EQ(failure_name(JwtFailure::kUnknownKid), "unknown_kid");
  EXPECT_EQ(failure_name(JwtFailure::kAlgNotAllowed), "alg_not_allowed");
  EXPECT_EQ(failure_name(JwtFailure::kBadSignature), "bad_signature");
  EXPECT_EQ(failure_name(JwtFailure::kNoIssuerConfigured), "no_issuer_configured");
  EXPECT_EQ(failure_name(JwtFailure::kWrongIssuer), "wrong_issuer");
  EXPECT_EQ(failure_name(JwtFailure::kNoExpiry), "no_expiry");
  EXPECT_EQ(failure_name(JwtFailure::kExpired), "expired");
  EXPECT_EQ(failure_name(JwtFailure::kNotYetValid), "not_yet_valid");
}

TEST(BearerToken, AcceptsTheSchemeInAnyCase) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER abc"), "abc");
  EXPECT_EQ(bearer_token("bEaReR abc"), "abc");
  EXPECT_EQ(bearer_token("Bearer    abc"), "abc");
  EXPECT_EQ(bearer_token("  Bearer abc  "), "abc");  // whitespace around a field value is not in it
  EXPECT_EQ(bearer_token("Bearer a-b_c~d+e/f.g=="), "a-b_c~d+e/f.g==");
}

TEST(BearerToken, RefusesEverythingElse) {
  for (const char* v : {"", "Bearer", "Bearer ", "Bearer    ", "Basic abc", "Bearerabc", "Bearer\tabc",
                        "Bearer a b", "Bearer a\tb", "Bearer a\nb", "Bearer =abc", "Bearer ab=c",
                        "Token abc", "Bearer: abc", "Bearer abc,def", "Bearer \"abc\""}) {
    EXPECT_FALSE(bearer_token(v).has_value()) << "[" << v << "]";
  }
}

}  // namespace
}  // namespace abdm::auth
