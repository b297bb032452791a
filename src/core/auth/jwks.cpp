#include "core/auth/jwks.hpp"

#include <cjose/jwk.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/auth/base64url.hpp"
#include "core/auth/log_text.hpp"
#include "core/util/error.hpp"

namespace abdm::auth {
namespace {

using nlohmann::json;

// Below this an RSA key is refused for signatures (NIST SP 800-131A Rev. 2, table 2).
constexpr std::size_t kMinRsaBits = 2048;

std::string field_of(std::size_t i, std::string_view member = {}) {
  std::string f = "keys[" + std::to_string(i) + "]";
  if (!member.empty()) f.append(".").append(member);
  return f;
}

// The member as a string; "" when absent; abdm::Error when present with another JSON type.
std::string optional_string(const json& jwk, std::size_t i, const char* member) {
  const auto it = jwk.find(member);
  if (it == jwk.end()) return "";
  if (!it->is_string()) throw Error(sqlstate::kInvalidParameter, field_of(i, member), "not a string");
  return it->get<std::string>();
}

// The decoded big-endian integer of an RSA member (n or e), without leading zero bytes.
std::string rsa_integer(const json& jwk, std::size_t i, const char* member) {
  const auto it = jwk.find(member);
  if (it == jwk.end()) throw Error(sqlstate::kInvalidParameter, field_of(i, member), "missing");
  if (!it->is_string()) throw Error(sqlstate::kInvalidParameter, field_of(i, member), "not a string");
  auto bytes = base64url_decode(it->get_ref<const std::string&>());
  if (!bytes) throw Error(sqlstate::kInvalidParameter, field_of(i, member), "not unpadded base64url");
  bytes->erase(0, std::min(bytes->find_first_not_of('\0'), bytes->size()));
  if (bytes->empty()) throw Error(sqlstate::kInvalidParameter, field_of(i, member), "zero");
  return *bytes;
}

std::size_t bit_length(const std::string& big_endian) {
  unsigned top = static_cast<unsigned char>(big_endian.front());
  std::size_t bits = (big_endian.size() - 1) * 8;
  while (top != 0) {
    ++bits;
    top >>= 1;
  }
  return bits;
}

// Why a JWK cannot verify a gateway token, or "" when it can (kid uniqueness is checked later).
std::string unusable_reason(const json& jwk, std::size_t i, const std::string& kid) {
  const auto kty_it = jwk.find("kty");
  if (kty_it == jwk.end()) return "no kty";
  if (!kty_it->is_string()) throw Error(sqlstate::kInvalidParameter, field_of(i, "kty"), "not a string");
  if (*kty_it != "RSA") return "kty " + log_text(kty_it->get<std::string>());

  const std::string use = optional_string(jwk, i, "use");
  if (!use.empty() && use != "sig") return "use " + log_text(use);

  // key_ops (RFC 7517 §4.3), when present, must allow verification.
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array()) throw Error(sqlstate::kInvalidParameter, field_of(i, "key_ops"), "not an array");
    if (std::find(ops->begin(), ops->end(), json("verify")) == ops->end()) return "key_ops without verify";
  }

  const std::string alg = optional_string(jwk, i, "alg");
  if (!alg.empty() && alg != "RS256" && alg != "RS512") return "alg " + log_text(alg);

  if (kid.empty()) return "no kid";
  return "";
}

struct CjoseKeyRelease {
  void operator()(cjose_jwk_t* k) const noexcept { cjose_jwk_release(k); }
};

}  // namespace

Jwks::Jwks(std::string_view jwks_json) {
  if (jwks_json.size() > kMaxJwksBytes)
    throw Error(sqlstate::kInvalidParameter, "jwks",
                "larger than " + std::to_string(kMaxJwksBytes) + " bytes");
  const json doc = json::parse(jwks_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw Error(sqlstate::kInvalidParameter, "jwks", "not JSON");
  if (!doc.is_object()) throw Error(sqlstate::kInvalidParameter, "jwks", "not a JSON object");
  const auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array())
    throw Error(sqlstate::kInvalidParameter, "keys", "missing or not an array");

  for (std::size_t i = 0; i < keys->size(); ++i) {
    const json& jwk = (*keys)[i];
    if (!jwk.is_object()) throw Error(sqlstate::kInvalidParameter, field_of(i), "not a JSON object");
    const std::string kid = optional_string(jwk, i, "kid");

    std::string reason = unusable_reason(jwk, i, kid);
    if (reason.empty() && find(kid) != nullptr) reason = "duplicate kid";
    if (!reason.empty()) {
      skipped_.push_back({i, kid, std::move(reason)});
      continue;
    }

    const std::string n = rsa_integer(jwk, i, "n");
    const std::string e = rsa_integer(jwk, i, "e");
    // e = 1 would make every "signature" equal to its padded digest; an even e is no RSA key.
    if ((e.size() == 1 && static_cast<unsigned char>(e[0]) < 3) || (e.back() & 1) == 0)
      throw Error(sqlstate::kInvalidParameter, field_of(i, "e"), "not an odd exponent of at least 3");
    const std::size_t bits = bit_length(n);
    if (bits < kMinRsaBits) {
      skipped_.push_back({i, kid, "RSA modulus of " + std::to_string(bits) + " bits (< 2048)"});
      continue;
    }

    // Only the public members reach cjose: a JWKS that (wrongly) carried d, p, q... must not
    // become a private key in our memory, and nothing else needs decoding.
    const std::string public_jwk =
        json{{"kty", "RSA"}, {"n", jwk.at("n")}, {"e", jwk.at("e")}}.dump();
    cjose_err err{};
    cjose_jwk_t* raw = cjose_jwk_import(public_jwk.data(), public_jwk.size(), &err);
    if (raw == nullptr)
      throw Error(sqlstate::kInvalidParameter, field_of(i, "n"),
                  std::string("cjose could not import the RSA key: ") +
                      (err.message != nullptr ? err.message : "unknown error"));
    JwksKey key;
    key.key_ = std::shared_ptr<cjose_jwk_t>(raw, CjoseKeyRelease{});
    key.kid_ = kid;
    key.alg_ = optional_string(jwk, i, "alg");
    key.bits_ = bits;
    keys_.push_back(std::move(key));
  }
}

const JwksKey* Jwks::find(std::string_view kid) const noexcept {
  for (const JwksKey& k : keys_)
    if (k.kid() == kid) return &k;
  return nullptr;
}

std::string Jwks::skipped_summary() const {
  std::string out;
  for (const SkippedJwk& s : skipped_) {
    if (!out.empty()) out += "; ";
    out += field_of(s.index);
    if (!s.kid.empty()) out += " (kid " + log_text(s.kid) + ")";
    out += ": " + s.reason;
  }
  return out;
}

}  // namespace abdm::auth
