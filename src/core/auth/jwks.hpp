// The gateway's signing keys, parsed from its JWKS document (RFC 7517 §5: {"keys":[JWK, ...]}),
// served at <gateway>/gateway/v3/certs (and named by jwks_uri in its openid-configuration).
//
// Only keys that can verify a gateway session token are kept: kty "RSA", "use" absent or "sig",
// "alg" absent or RS256/RS512 (the two algorithms the ABDM gateway's JWKS advertises), a
// non-empty "kid" (the token names its key by kid; a key without one could never be chosen), a
// modulus of at least 2048 bits (NIST SP 800-131A), and a kid not seen before in the document (a
// lookup by kid must be unambiguous). Every other key is skipped, not an error — a JWKS may
// legitimately carry encryption or EC keys — and the reason is kept for the log.
//
// Each kept key is imported by cjose from its public members only (kty, n, e), after this file has
// checked n and e are strict base64url (see base64url.hpp for why nothing reaches cjose unchecked).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// cjose's opaque key type, declared as <cjose/jwk.h> declares it, so that users of this header need
// no cjose include.
typedef struct _cjose_jwk_int cjose_jwk_t;

namespace abdm::auth {

// A JWKS larger than this is refused: the gateway's holds two RSA keys (about 1 KiB each).
inline constexpr std::size_t kMaxJwksBytes = 256 * 1024;

// One verification key. Copies share the cjose handle, released with the last copy.
class JwksKey {
 public:
  const std::string& kid() const noexcept { return kid_; }
  const std::string& alg() const noexcept { return alg_; }  // "" when the JWK has no "alg"
  std::size_t bits() const noexcept { return bits_; }       // RSA modulus size
  const cjose_jwk_t* cjose_key() const noexcept { return key_.get(); }

 private:
  friend class Jwks;
  std::string kid_;
  std::string alg_;
  std::size_t bits_ = 0;
  std::shared_ptr<cjose_jwk_t> key_;
};

// A key of the document that was not kept, and why ("kty EC", "use enc", "no kid", ...).
struct SkippedJwk {
  std::size_t index = 0;  // position in "keys"
  std::string kid;        // "" when it had none
  std::string reason;
};

class Jwks {
 public:
  // The empty set: find() answers nullptr for every kid.
  Jwks() = default;

  // Parses a JWKS document. Throws abdm::Error (22023, field) when it is not one: larger than
  // kMaxJwksBytes or not JSON (field "jwks"), no "keys" array (field "keys"), an entry that is not
  // an object or a member of the wrong JSON type ("keys[1]", "keys[1].kid"), or an RSA key that
  // would be kept but whose n or e is not a usable base64url integer ("keys[1].n"). A document
  // whose keys are all skipped is valid and yields an empty set.
  explicit Jwks(std::string_view jwks_json);

  // The key with this kid, or nullptr.
  const JwksKey* find(std::string_view kid) const noexcept;

  std::size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }
  const std::vector<JwksKey>& keys() const noexcept { return keys_; }

  const std::vector<SkippedJwk>& skipped() const noexcept { return skipped_; }
  std::size_t skipped_count() const noexcept { return skipped_.size(); }
  // One line for the log: "keys[0] (kid enc-1): use enc; keys[2]: kty EC", "" when none.
  std::string skipped_summary() const;

 private:
  std::vector<JwksKey> keys_;
  std::vector<SkippedJwk> skipped_;
};

}  // namespace abdm::auth
