#include "core/auth/jwt.hpp"

#include <cjose/header.h>
#include <cjose/jws.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/auth/base64url.hpp"
#include "core/auth/log_text.hpp"

namespace abdm::auth {
namespace {

using nlohmann::json;

// "nbf" gets a fixed, small skew instead of the leeway: the leeway exists because the gateway
// re-delivers with an old token (a past exp), while a token that is not valid yet can only come
// from clocks that disagree, which NTP keeps to well under a minute. So min(leeway, 60 s).
constexpr std::chrono::seconds kMaxNbfSkew{60};

struct JwsRelease {
  void operator()(cjose_jws_t* j) const noexcept { cjose_jws_release(j); }
};
using JwsPtr = std::unique_ptr<cjose_jws_t, JwsRelease>;

// Takes `r` by reference and moves from it only here, after every argument is evaluated: the
// reasons are built from r.kid, r.alg and the claims, and with `r` taken by value the order in
// which a compiler evaluates arguments decided whether they were read before or after the move
// (gcc: before; clang: after, which left the kid out of the reason and read moved-from claims).
JwtResult fail(JwtResult& r, JwtFailure f, std::string reason) {
  r.failure = f;
  r.reason = std::move(reason);
  return std::move(r);
}

bool is_b64token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// Whole seconds for a reason text, clamped: exp and nbf may be any JSON number (1e300), and
// converting a double outside long long's range is undefined behaviour (UBSan, found by
// test/fuzz/jwt_fuzz with a signed token whose exp was -1e300).
long long whole_seconds(double s) {
  constexpr double kLimit = 9.0e18;  // below 2^63
  if (!(s < kLimit)) return static_cast<long long>(kLimit);
  if (!(s > -kLimit)) return -static_cast<long long>(kLimit);
  return static_cast<long long>(std::floor(s));
}

// cjose's view of a protected header member; "" when absent or not a string.
std::string cjose_header_string(cjose_jws_t* jws, const char* member) {
  cjose_err err{};
  cjose_header_t* h = cjose_jws_get_protected(jws);
  const char* v = h != nullptr ? cjose_header_get(h, member, &err) : nullptr;
  return v != nullptr ? std::string(v) : std::string();
}

JwtResult check_claims(JwtResult r, const JwtPolicy& policy,
                       std::chrono::system_clock::time_point now) {
  const json& c = r.claims;
  if (policy.issuer.empty())
    return fail(r, JwtFailure::kNoIssuerConfigured, "no issuer configured (abdm_hip.jwt_issuer)");
  const auto iss = c.find("iss");
  if (iss == c.end() || !iss->is_string())
    return fail(r, JwtFailure::kWrongIssuer, "no iss claim");
  if (iss->get_ref<const std::string&>() != policy.issuer)
    return fail(r, JwtFailure::kWrongIssuer,
                "iss " + log_text(iss->get_ref<const std::string&>()) + " is not the configured issuer " +
                    log_text(policy.issuer));

  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const auto leeway = std::max(policy.leeway, std::chrono::seconds{0});
  const auto exp = c.find("exp");
  if (exp == c.end() || !exp->is_number() || !std::isfinite(exp->get<double>()))
    return fail(r, JwtFailure::kNoExpiry, "no numeric exp claim");
  const double exp_s = exp->get<double>();
  if (now_s > exp_s + static_cast<double>(leeway.count()))
    return fail(r, JwtFailure::kExpired,
                "expired " + std::to_string(whole_seconds(now_s - exp_s)) + " s ago (leeway " +
                    std::to_string(leeway.count()) + " s)");

  if (const auto nbf = c.find("nbf"); nbf != c.end()) {
    if (!nbf->is_number() || !std::isfinite(nbf->get<double>()))
      return fail(r, JwtFailure::kMalformed, "nbf claim is not a number");
    const auto skew = std::min(leeway, kMaxNbfSkew);
    const double nbf_s = nbf->get<double>();
    if (now_s + static_cast<double>(skew.count()) < nbf_s)
      return fail(r, JwtFailure::kNotYetValid,
                  "not valid for another " + std::to_string(whole_seconds(nbf_s - now_s)) +
                      " s (nbf; clock skew allowed " + std::to_string(skew.count()) + " s)");
  }
  if (!policy.role.empty()) {
    bool has_role = false;
    const auto realm = c.find("realm_access");
    if (realm != c.end() && realm->is_object()) {
      const auto roles = realm->find("roles");
      if (roles != realm->end() && roles->is_array())
        for (const json& role : *roles) has_role = has_role || (role.is_string() && role == policy.role);
    }
    if (!has_role)
      return fail(r, JwtFailure::kNotTheGateway,
                  "realm_access.roles lacks " + log_text(policy.role) + ": not the gateway's token");
  }
  r.failure = JwtFailure::kNone;
  r.reason.clear();
  return r;
}

JwtResult verify(std::string_view token, const Jwks& keys, const JwtPolicy& policy,
                 std::chrono::system_clock::time_point now) {
  JwtResult r;
  r.failure = JwtFailure::kMalformed;

  // Shape: header.payload.signature, each unpadded base64url (RFC 7515 §7.1). The signature may
  // be empty here so that "alg":"none" is reported as what it is, below.
  if (token.size() > kMaxJwtBytes)
    return fail(r, JwtFailure::kMalformed,
                "token longer than " + std::to_string(kMaxJwtBytes) + " bytes");
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return fail(r, JwtFailure::kMalformed, "not three dot-separated parts");
  const std::string_view header_b64 = token.substr(0, d1);
  const std::string_view payload_b64 = token.substr(d1 + 1, d2 - d1 - 1);
  const std::string_view signature_b64 = token.substr(d2 + 1);
  if (header_b64.empty() || payload_b64.empty() || !is_base64url(payload_b64) ||
      !is_base64url(signature_b64))
    return fail(r, JwtFailure::kMalformed, "parts are not non-empty base64url");
  const auto header_text = base64url_decode(header_b64);
  if (!header_text) return fail(r, JwtFailure::kMalformed, "header is not base64url");
  const json header = json::parse(*header_text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return fail(r, JwtFailure::kMalformed, "header is not a JSON object");
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood; we understand none.
  if (header.contains("crit"))
    return fail(r, JwtFailure::kMalformed, "header has crit (no extension is supported)");
  if (const auto alg = header.find("alg"); alg != header.end() && alg->is_string())
    r.alg = log_text(alg->get_ref<const std::string&>());

  const auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string() || kid->get_ref<const std::string&>().empty())
    return fail(r, JwtFailure::kNoKid, "header has no kid");
  const std::string& kid_value = kid->get_ref<const std::string&>();
  r.kid = log_text(kid_value);
  const JwksKey* key = keys.find(kid_value);
  if (key == nullptr)
    return fail(r, JwtFailure::kUnknownKid,
                "no key with kid " + r.kid + " among the " + std::to_string(keys.size()) + " JWKS keys");

  // The key decides the algorithm, and before cjose sees the token: cjose dispatches on the
  // header's alg, and for an HMAC alg it would key the HMAC with the RSA key's memory.
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string())
    return fail(r, JwtFailure::kAlgNotAllowed, "header has no alg");
  const std::string& alg_value = alg->get_ref<const std::string&>();
  if (!jwt_alg_allowed_for_key(alg_value, key->alg())) {
    if (alg_value == "RS256" || alg_value == "RS512")
      return fail(r, JwtFailure::kAlgNotAllowed,
                  "alg " + r.alg + " does not match key " + r.kid + " (alg " + key->alg() + ")");
    return fail(r, JwtFailure::kAlgNotAllowed, "alg " + r.alg + " not allowed for RSA key " + r.kid);
  }

  cjose_err err{};
  JwsPtr jws(cjose_jws_import(token.data(), token.size(), &err));
  if (!jws) return fail(r, JwtFailure::kMalformed, "cjose could not parse the token");
  // The header was parsed twice (by us, by cjose's jansson); a token that reads differently to the
  // two (duplicate members, escapes) is refused rather than verified under one reading.
  if (cjose_header_string(jws.get(), CJOSE_HDR_ALG) != alg_value ||
      cjose_header_string(jws.get(), CJOSE_HDR_KID) != kid_value)
    return fail(r, JwtFailure::kMalformed, "header reads differently to cjose");
  if (!cjose_jws_verify(jws.get(), key->cjose_key(), &err))
    return fail(r, JwtFailure::kBadSignature, "signature does not verify with key " + r.kid);

  uint8_t* plaintext = nullptr;
  size_t plaintext_len = 0;
  if (!cjose_jws_get_plaintext(jws.get(), &plaintext, &plaintext_len, &err) || plaintext == nullptr)
    return fail(r, JwtFailure::kMalformed, "payload is not a JSON object");
  json claims = json::parse(plaintext, plaintext + plaintext_len, nullptr, /*allow_exceptions=*/false);
  if (claims.is_discarded() || !claims.is_object())
    return fail(r, JwtFailure::kMalformed, "payload is not a JSON object");
  r.claims = std::move(claims);
  JwtResult checked = check_claims(std::move(r), policy, now);
  if (!checked.ok()) checked.claims = json();
  return checked;
}

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept {
  std::string_view v = authorization;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() || v[kScheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  size_t i = 0;
  while (i < v.size() && is_b64token_char(v[i])) ++i;
  if (i == 0) return std::nullopt;
  while (i < v.size() && v[i] == '=') ++i;
  if (i != v.size()) return std::nullopt;
  return v;
}

std::string_view failure_name(JwtFailure f) noexcept {
  switch (f) {
    case JwtFailure::kNone: return "none";
    case JwtFailure::kMalformed: return "malformed";
    case JwtFailure::kNoKid: return "no_kid";
    case JwtFailure::kUnknownKid: return "unknown_kid";
    case JwtFailure::kAlgNotAllowed: return "alg_not_allowed";
    case JwtFailure::kBadSignature: return "bad_signature";
    case JwtFailure::kNoIssuerConfigured: return "no_issuer_configured";
    case JwtFailure::kWrongIssuer: return "wrong_issuer";
    case JwtFailure::kNoExpiry: return "no_expiry";
    case JwtFailure::kExpired: return "expired";
    case JwtFailure::kNotYetValid: return "not_yet_valid";
    case JwtFailure::kNotTheGateway: return "not_the_gateway";
  }
  return "unknown";
}

bool jwt_alg_allowed_for_key(std::string_view header_alg, std::string_view key_alg) noexcept {
  if (header_alg != "RS256" && header_alg != "RS512") return false;
  return key_alg.empty() || key_alg == header_alg;
}

JwtResult verify_jwt(std::string_view token, const Jwks& keys, const JwtPolicy& policy,
                     std::chrono::system_clock::time_point now) noexcept {
  try {
    return verify(token, keys, policy, now);
  } catch (...) {
    // Out of memory, or a bug: refuse the token. The reason fits the small-string buffer, so
    // setting it cannot throw again.
    JwtResult r;
    r.failure = JwtFailure::kMalformed;
    r.reason = "internal error";
    return r;
  }
}

}  // namespace abdm::auth
