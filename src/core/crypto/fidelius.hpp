// Fidelius, the encryption ABDM mandates for health data sent from a HIP to a HIU, byte for byte
// compatible with the reference mgrmtech/fidelius-cli (NHA ABDM docs, "Encryption and
// Decryption — implementation guidelines" and "Fidelius CLI"). The entry points take the base64
// strings ABDM messages carry, in the argument order of the SQL functions, and name the offending
// argument in every error (plaintext, sender_private_key, sender_nonce, requester_public_key,
// requester_nonce, ciphertext, requester_private_key, sender_public_key).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <string>
#include <string_view>

#include "core/crypto/aes_gcm_base64.hpp"
#include "core/crypto/fidelius_keys.hpp"
#include "core/crypto/fidelius_session.hpp"

namespace abdm::crypto {

// A fresh ephemeral key pair and nonce in fidelius `gkm` form: privateKey (Java BigInteger
// bytes), publicKey (raw 65-byte point), x509PublicKey (what we send to HIUs), nonce.
struct KeyMaterial {
  std::string private_key;
  std::string public_key;
  std::string x509_public_key;
  std::string nonce;
};
KeyMaterial generate_key_material();

// Encryption in two steps for callers that own the output buffer (the SQL function writes into
// the result text directly): agree on the keys, then seal.
SessionKeys sender_session_keys(std::string_view sender_private_key, std::string_view sender_nonce,
                                std::string_view requester_public_key, std::string_view requester_nonce);
size_t encrypted_size(size_t plaintext_bytes);  // characters of the base64 result
void encrypt_into(const SessionKeys& keys, std::string_view plaintext, char* out);

// base64(AES-GCM ciphertext ‖ tag) of the plaintext's bytes (UTF-8 text in ABDM).
std::string encrypt(std::string_view plaintext, std::string_view sender_private_key, std::string_view sender_nonce,
                    std::string_view requester_public_key, std::string_view requester_nonce);

// The plaintext bytes; throws on any mismatch (never returns a partial or empty stand-in).
std::string decrypt(std::string_view ciphertext, std::string_view requester_private_key,
                    std::string_view requester_nonce, std::string_view sender_public_key,
                    std::string_view sender_nonce);

}  // namespace abdm::crypto
