// Fidelius key material in the encodings ABDM exchanges (mgrmtech/fidelius-cli `gkm`; NHA ABDM
// docs "Fidelius CLI" and "Encryption and Decryption — implementation guidelines"):
//   public key, raw   base64 of 65 bytes 04 ‖ X ‖ Y (what HIUs send in keyMaterial.dhPublicKey)
//   public key, X.509 base64 of the 309-byte DER SubjectPublicKeyInfo with explicit curve
//                     parameters = a fixed 245-byte prefix ‖ X ‖ Y (what the reference HIU parses,
//                     so what we send)
//   private key       base64 of Java BigInteger.toByteArray() of the scalar (31–33 bytes)
//   nonce             base64 of 32 random bytes
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/crypto/curve25519_weierstrass.hpp"

namespace abdm::crypto {

inline constexpr size_t kRawPublicKeySize = 65;
inline constexpr size_t kX509PublicKeySize = 309;
inline constexpr size_t kX509PrefixSize = 245;
inline constexpr size_t kNonceSize = 32;

using Nonce = std::array<uint8_t, kNonceSize>;

// The DER of SubjectPublicKeyInfo{ id-ecPublicKey, explicit curve25519 parameters } up to and
// including the 04 that starts the uncompressed point.
extern const std::array<uint8_t, kX509PrefixSize> kX509PublicKeyPrefix;

// Public keys: either encoding in, a validated point out (see validate_public_point); any other
// length, a wrong leading byte or an X.509 prefix that is not exactly ours is refused with
// abdm::Error naming `field`.
Point public_key_from_bytes(std::span<const uint8_t> bytes, std::string_view field);
Point parse_public_key(std::string_view base64, std::string_view field);
std::array<uint8_t, kRawPublicKeySize> raw_public_key(const Point& P);
std::array<uint8_t, kX509PublicKeySize> x509_public_key(const Point& P);
std::string raw_public_key_base64(const Point& P);
std::string x509_public_key_base64(const Point& P);

// Private keys: Java's BigInteger.toByteArray (big-endian two's complement, minimal length, so a
// leading 0x00 when the top bit would otherwise be set) in, a 32-byte scalar in [1, n) out.
Scalar private_key_from_java_bytes(std::span<const uint8_t> bytes, std::string_view field);
Scalar parse_private_key(std::string_view base64, std::string_view field);
// The Java form back, base64: what fidelius-cli (`new BigInteger(bytes)`) reads.
std::string private_key_base64(const Scalar& d);

Nonce parse_nonce(std::string_view base64, std::string_view field);

// d·G: the public key that belongs to a private key.
Point public_key_of(const Scalar& d);

struct KeyPair {
  Scalar private_key;
  Point public_key;
};
// A fresh key pair (d uniform in [1, n) from OpenSSL's private DRBG) and a fresh nonce.
KeyPair generate_key_pair();
Nonce generate_nonce();

}  // namespace abdm::crypto
