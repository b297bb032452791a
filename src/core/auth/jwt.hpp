// Verification of the ABDM gateway's bearer token on the calls it makes to our HIP (an RS256/RS512
// JWS, RFC 7515/7519, signed by a key of the gateway's JWKS).
//
// Library: cjose (Debian libcjose-dev) rather than libcpp-jwt, because cjose imports JWK sets
// itself where cpp-jwt takes only PEM (we would hand-write the JWK → key conversion), it is
// maintained by Debian's security team (a bookworm-security update) and it is the JOSE layer of
// Apache's mod_auth_openidc. The claim checks are a few lines of our own over nlohmann::json.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/auth/jwks.hpp"

namespace abdm::auth {

// A token longer than this is refused unread: gateway session tokens are 1–2 KiB.
inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;

// The token of an "Authorization: Bearer <token>" header value (RFC 6750 §2.1): the scheme in any
// case, one or more spaces, then a non-empty b64token (letters, digits, - . _ ~ + / and trailing
// '='; so no space inside). Whitespace around the whole value is not part of it (RFC 9110 §5.5).
// nullopt for anything else (another scheme, no token, a space or control character inside).
std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

struct JwtPolicy {
  // The gateway's issuer, compared exactly with the "iss" claim
  // ("https://<gateway>/auth/realms/central-registry"). Empty: every token fails.
  std::string issuer;
  // How long after "exp" a token is still accepted: the gateway re-delivers a callback up to ~16
  // minutes later with the token it first sent (20-minute lifetime), so 20 minutes by default.
  std::chrono::seconds leeway{1200};
  // The realm role the token must carry in realm_access.roles: "gateway" for the gateway's own
  // session token. The realm signs every ABDM client's session token with the same key and
  // issuer, so without this any other client (another hospital's bridge) could call ours.
  // Empty: not checked (tests only).
  std::string role = "gateway";
};

enum class JwtFailure {
  kNone,
  kMalformed,           // not a compact JWS with JSON header and payload, too long, ...
  kNoKid,               // header has no string "kid"
  kUnknownKid,          // no key with that kid: the caller may refresh the JWKS and try again
  kAlgNotAllowed,       // header alg is not RS256/RS512, or not the key's own alg
  kBadSignature,        // the signature does not verify with the kid's key
  kNoIssuerConfigured,  // JwtPolicy::issuer is empty
  kWrongIssuer,         // "iss" missing or not the configured issuer
  kNoExpiry,            // "exp" missing or not a number
  kExpired,             // now > exp + leeway
  kNotYetValid,         // "nbf" in the future beyond the skew
  kNotTheGateway,       // realm_access.roles lacks JwtPolicy::role: another client's token
};

// "none", "malformed", "no_kid", "unknown_kid", "alg_not_allowed", "bad_signature",
// "no_issuer_configured", "wrong_issuer", "no_expiry", "expired", "not_yet_valid".
std::string_view failure_name(JwtFailure f) noexcept;

struct JwtResult {
  JwtFailure failure = JwtFailure::kMalformed;
  // One line for the log and the inbox. Never holds the token or a part of it other than the
  // kid, alg and iss values (each cut to 200 characters, control characters replaced).
  std::string reason;
  std::string kid;        // the header's kid, when it had one
  std::string alg;        // the header's alg, when it had one
  nlohmann::json claims;  // the verified payload; set only when ok()
  bool ok() const noexcept { return failure == JwtFailure::kNone; }
};

// Whether a token whose header says `header_alg` may be verified with a key whose JWK says
// `key_alg` ("" when the JWK has none): the header alg must be RS256 or RS512 and, when the key
// names an alg, that one. The key decides — never the token alone — so "none", HMAC (the
// key-confusion attack, RS public key used as an HMAC secret), EC and PSS tokens never reach the
// signature check.
bool jwt_alg_allowed_for_key(std::string_view header_alg, std::string_view key_alg) noexcept;

// Verifies a compact JWS against `keys` and `policy` at time `now`. Checks, in order: size and
// shape (kMalformed), kid (kNoKid, kUnknownKid), alg against the key (kAlgNotAllowed), signature
// (kBadSignature), then the claims: iss, exp, nbf. Never throws.
JwtResult verify_jwt(std::string_view token, const Jwks& keys, const JwtPolicy& policy,
                     std::chrono::system_clock::time_point now) noexcept;

}  // namespace abdm::auth
