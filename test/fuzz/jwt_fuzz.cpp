// Gateway bearer tokens (core/auth/jwt): the Authorization header's token, then verify_jwt.
// Input, first byte:
//   'T' then a whole Authorization header value: bearer_token, then verify_jwt as it comes
//       (compact form, base64url, header JSON, kid and alg, cjose's import);
//   'S' then "<header JSON>\n<payload JSON>": signed here with the JWKS's own key (RS256), so the
//       claim checks (iss, exp, nbf, realm_access.roles) see whatever the fuzzer makes of them —
//       a forged signature could never get there.
// Asserts: nothing throws (verify_jwt is noexcept: a throw would terminate); a bearer token is
// a part of the header value in the b64token alphabet; a failure has a reason with no control
// character and no part of the token but kid, alg or iss; success only for a token whose
// signature, issuer, exp and role hold.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/auth/jwks.hpp"
#include "core/auth/jwt.hpp"
#include "fuzz_support.hpp"

using namespace abdm::auth;
using nlohmann::json;

namespace {

std::string b64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string bn_param(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) abdm::fuzz::fail("EVP_PKEY_get_bn_param");
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// One RSA key made at start-up (the corpus's signed seeds are re-signed per run, so no key is
// stored in the repository), its JWKS with kid "fuzz-key".
struct Signer {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  Jwks jwks{json{{"keys", json::array({json{{"kty", "RSA"}, {"kid", "fuzz-key"}, {"alg", "RS256"}, {"use", "sig"},
                                           {"n", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N))},
                                           {"e", b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E))}}})}}
                    .dump()};

  std::string sign(std::string_view signing_input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) == 1) {
      sig.resize(len);
      if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                         reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1)
        sig.clear();
      sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    if (sig.empty()) abdm::fuzz::fail("EVP_DigestSign");
    return sig;
  }
};

const Signer& signer() {
  static const Signer s;
  return s;
}

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1716204567));  // 2024-05-20

bool is_b64token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void check_verdict(std::string_view token, const JwtResult& r, const JwtPolicy& policy) {
  if (r.ok()) {
    FUZZ_ASSERT(r.reason.empty() && r.claims.is_object(), "a verified token has claims and no reason");
    FUZZ_ASSERT(r.claims.value("iss", json()) == policy.issuer, "verified only with the configured issuer");
    FUZZ_ASSERT(r.claims.contains("exp") && r.claims["exp"].is_number(), "verified only with a numeric exp");
    return;
  }
  FUZZ_ASSERT(r.claims.is_null(), "claims only for a verified token");
  FUZZ_ASSERT(!r.reason.empty(), "a failure has a reason");
  FUZZ_ASSERT(failure_name(r.failure) != "none", "a failure has a name");
  for (const char c : r.reason)
    FUZZ_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control character in the reason: " + r.reason);
  // The token's payload and signature never reach a log line (jwt.hpp), unless the fuzzer copied
  // them into the kid, alg or iss that may. Only a base64url part can be a real payload or
  // signature; any other text is refused with a fixed reason, which the fuzzer can copy into a part
  // ("a.x.parts are not non-empty base64url" once broke a check that looked at every part).
  const size_t d1 = token.find('.'), d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 != std::string_view::npos) {
    for (const std::string_view part : {token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)}) {
      if (part.size() < 24 || !std::all_of(part.begin(), part.end(), is_base64url_char)) continue;
      if (r.kid.find(part) != std::string::npos || r.alg.find(part) != std::string::npos) continue;
      if (r.reason.find("iss") != std::string::npos) continue;
      FUZZ_ASSERT(r.reason.find(part) == std::string::npos, "a part of the token is in the reason: " + r.reason);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  JwtPolicy policy;
  policy.issuer = "https://dev.abdm.gov.in/auth/realms/central-registry";

  if (data[0] == 'T') {
    const auto token = bearer_token(in);
    if (token) {
      FUZZ_ASSERT(!token->empty() && token->data() >= in.data() && token->data() + token->size() <= in.data() + in.size(),
                  "the bearer token is a part of the header value");
      for (const char c : *token) FUZZ_ASSERT(is_b64token_char(c), "b64token alphabet (RFC 6750 §2.1)");
    }
    // The listener only hands verify_jwt a bearer token, but verify_jwt must hold for any text.
    check_verdict(in, verify_jwt(in, signer().jwks, policy, kNow), policy);
    if (token) check_verdict(*token, verify_jwt(*token, signer().jwks, policy, kNow), policy);
  } else if (data[0] == 'S') {
    const size_t nl = in.find('\n');
    if (nl == std::string_view::npos) return 0;
    const std::string signing_input = b64url(in.substr(0, nl)) + "." + b64url(in.substr(nl + 1));
    const std::string token = signing_input + "." + b64url(signer().sign(signing_input));
    check_verdict(token, verify_jwt(token, signer().jwks, policy, kNow), policy);
  }
  return 0;
}
