// Secrets at rest: the gateway client secret, link tokens and an OTP waiting for its SMS are kept
// in the database sealed, never in clear (docs/design-notes.md, "Secrets at rest"). The key is a
// file outside the database (core/crypto/secret_key_file), so neither pg_dump, nor a WAL archive,
// nor a stolen table copy carries a usable secret.
//
// A sealed value is text:   abdm-sealed:1:<purpose>:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>
//   purpose  what the value is ("client_secret", "link_token", "otp"): authenticated as AAD, so a
//            sealed link token cannot be moved into the client secret's place
//   key id   the first 8 bytes of SHA-256(key), hex: a value sealed under another key file is
//            refused by name ("sealed under key …, this server's key is …"), not as noise
//   AES-256-GCM, a random 96-bit nonce per value, a 128-bit tag.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>

#include "core/crypto/openssl_util.hpp"

namespace abdm::crypto {

struct SecretKey {
  Secret<32> bytes;
  std::string id;  // 16 hex characters
};

// The key from its 32 bytes (computes the id).
SecretKey secret_key_from_bytes(std::span<const uint8_t, 32> bytes);

inline constexpr std::string_view kSealedPrefix = "abdm-sealed:1:";

// Whether text has the sealed form's prefix (says nothing of its validity).
bool looks_sealed(std::string_view text);

// Seals plaintext for purpose ([a-z_]{1,32}; anything else is a caller bug, 22023 on "purpose").
std::string seal_secret(const SecretKey& key, std::string_view purpose, std::string_view plaintext);

// Opens a sealed value. Errors name `field`: not the sealed form (22P02), another purpose or
// another key (22023, saying which), a tag mismatch (22000 "authentication failed").
std::string open_secret(const SecretKey& key, std::string_view purpose, std::string_view sealed,
                        std::string_view field);

}  // namespace abdm::crypto
