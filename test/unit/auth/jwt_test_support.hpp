// Keys and tokens for the auth tests, made with OpenSSL directly (never with cjose), so a bug in
// how we drive cjose cannot hide behind the same bug in how the test signs.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace abdm::auth::testing {

using nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::shared_ptr<EVP_PKEY>;

inline Pkey make_rsa(unsigned bits = 2048) {
  EVP_PKEY* k = EVP_RSA_gen(bits);
  if (k == nullptr) throw std::runtime_error("EVP_RSA_gen failed");
  return Pkey(k, PkeyFree{});
}

// Generating RSA keys is slow; the tests share a few.
inline const Pkey& key_a() { static const Pkey k = make_rsa(); return k; }
inline const Pkey& key_b() { static const Pkey k = make_rsa(); return k; }

inline std::string b64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

inline std::string bn_bytes(const Pkey& k, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k.get(), param, &bn) != 1) throw std::runtime_error("get_bn_param");
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// The public JWK of `k`; alg and use only when non-empty.
inline json jwk(const Pkey& k, std::string kid, std::string alg = "RS256", std::string use = "sig") {
  json j = {{"kty", "RSA"},
            {"n", b64url(bn_bytes(k, OSSL_PKEY_PARAM_RSA_N))},
            {"e", b64url(bn_bytes(k, OSSL_PKEY_PARAM_RSA_E))}};
  if (!kid.empty()) j["kid"] = std::move(kid);
  if (!alg.empty()) j["alg"] = std::move(alg);
  if (!use.empty()) j["use"] = std::move(use);
  return j;
}

inline std::string public_pem(const Pkey& k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// PKCS#1 v1.5 signature of `input` with SHA-256 or SHA-512.
inline std::string rsa_sign(const Pkey& k, const EVP_MD* md, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, k.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("EVP_DigestSign failed");
  return sig;
}

inline std::string hmac_sha256(std::string_view key, std::string_view input) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

inline std::string signing_input(const json& header, const json& claims) {
  return b64url(header.dump()) + "." + b64url(claims.dump());
}

// A compact JWS: RS256 or RS512 by the header's alg unless `md` says otherwise.
inline std::string rs_token(const Pkey& k, const json& header, const json& claims, const EVP_MD* md = nullptr) {
  if (md == nullptr) md = header.value("alg", "RS256") == "RS512" ? EVP_sha512() : EVP_sha256();
  const std::string in = signing_input(header, claims);
  return in + "." + b64url(rsa_sign(k, md, in));
}

inline constexpr const char* kIssuer = "https://gateway.example/auth/realms/central-registry";
inline constexpr long long kNow = 1'700'000'000;  // the tests' "now", in Unix seconds

inline std::chrono::system_clock::time_point at(long long unix_seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
}

// The gateway session token's claims (see the ABDM sandbox's token), issued at kNow, 20 minutes.
inline json gateway_claims(long long iat = kNow) {
  return {{"iss", kIssuer}, {"aud", "account"}, {"azp", "gateway"}, {"clientId", "gateway"},
          {"iat", iat}, {"exp", iat + 1200}, {"jti", "6f1c7d1e-2b7e-4f55-9a4e-0d7c1f9b6a01"},
          {"realm_access", {{"roles", json::array({"gateway"})}}}};
}

inline json header(std::string alg, std::string kid) {
  json h = {{"typ", "JWT"}};
  if (!alg.empty()) h["alg"] = std::move(alg);
  if (!kid.empty()) h["kid"] = std::move(kid);
  return h;
}

}  // namespace abdm::auth::testing
