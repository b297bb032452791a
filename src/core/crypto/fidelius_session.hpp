// From an ECDH shared secret and the two nonces to the AES-256-GCM key and IV, as Fidelius does
// it (mgrmtech/fidelius-cli EncryptionController/DecryptionController; NHA ABDM docs
// "Encryption and Decryption — implementation guidelines", steps 2–4):
//   shared secret  x-coordinate of (own private scalar · peer public point), 32 bytes big-endian
//   xor            sender nonce XOR requester nonce (32 bytes)
//   salt, IV       first 20 bytes, last 12 bytes of the xor
//   AES key        HKDF-SHA256(ikm = shared secret, salt, info = empty), 32 bytes (RFC 5869)
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <array>
#include <cstdint>

#include "core/crypto/fidelius_keys.hpp"

namespace abdm::crypto {

inline constexpr size_t kSaltSize = 20;
inline constexpr size_t kIvSize = 12;
inline constexpr size_t kAesKeySize = 32;

struct SessionKeys {
  Secret<kAesKeySize> aes_key;
  std::array<uint8_t, kIvSize> iv{};
  std::array<uint8_t, kSaltSize> salt{};  // kept for tests and diagnostics; not needed after HKDF
};

// x(d·P) for a validated P: the shared secret both sides compute.
Scalar shared_secret(const Scalar& own_private_key, const Point& peer_public_key);

// Salt and IV from the nonces (XOR is symmetric, so the order does not matter), then HKDF.
SessionKeys derive_session_keys(const Scalar& shared_secret, const Nonce& sender_nonce, const Nonce& requester_nonce);

// Both steps: what encrypt and decrypt run before touching the data.
SessionKeys agree_session_keys(const Scalar& own_private_key, const Point& peer_public_key,
                               const Nonce& sender_nonce, const Nonce& requester_nonce);

}  // namespace abdm::crypto
