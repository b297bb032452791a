// The data step of Fidelius: AES-256-GCM with a 96-bit IV, no AAD and a 128-bit tag, the result
// carried as base64(ciphertext ‖ tag) (mgrmtech/fidelius-cli, BouncyCastle GCMBlockCipher; NHA ABDM
// docs "Encryption and Decryption — implementation guidelines", step 5).
//
// Sealing runs the two passes no implementation can avoid, AES-GCM and base64, over 48 KiB
// pieces: each piece is encrypted into a scratch buffer that stays in cache and is base64-encoded
// from there straight into the caller's output. No full-size intermediate buffer, no copy.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/crypto/fidelius_session.hpp"

namespace abdm::crypto {

inline constexpr size_t kTagSize = 16;

// Characters of base64(ciphertext ‖ tag) for a plaintext of n bytes.
size_t sealed_base64_size(size_t plaintext_size);

// Writes exactly sealed_base64_size(plaintext.size()) characters to out (no NUL).
void seal_to_base64(const SessionKeys& keys, std::span<const uint8_t> plaintext, char* out);

// Decodes and decrypts base64(ciphertext ‖ tag). Errors name `field`: bad base64 (22P02), fewer
// than 16 bytes (22023, "ciphertext too short"), tag mismatch (22000, "authentication failed").
// Nothing of an unauthenticated plaintext is returned.
std::string open_base64(const SessionKeys& keys, std::string_view text, std::string_view field);

}  // namespace abdm::crypto
