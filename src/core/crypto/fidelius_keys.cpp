#include "core/crypto/fidelius_keys.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::crypto {

// Byte for byte the prefix BouncyCastle writes for a curve25519 key (fidelius-cli `gkm`
// x509PublicKey); the SEQUENCE lengths are fixed because X and Y are fixed-width.
const std::array<uint8_t, kX509PrefixSize> kX509PublicKeyPrefix = {
    0x30, 0x82, 0x01, 0x31, 0x30, 0x81, 0xea, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x30, 0x81, 0xde, 0x02, 0x01, 0x01, 0x30, 0x2b, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x01,
    0x01, 0x02, 0x20, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xed, 0x30, 0x44, 0x04, 0x20, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0x98, 0x49, 0x14, 0xa1, 0x44, 0x04, 0x20, 0x7b, 0x42, 0x5e, 0xd0, 0x97, 0xb4, 0x25,
    0xed, 0x09, 0x7b, 0x42, 0x5e, 0xd0, 0x97, 0xb4, 0x25, 0xed, 0x09, 0x7b, 0x42, 0x5e, 0xd0, 0x97,
    0xb4, 0x26, 0x0b, 0x5e, 0x9c, 0x77, 0x10, 0xc8, 0x64, 0x04, 0x41, 0x04, 0x2a, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
    0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xad, 0x24, 0x5a, 0x20, 0xae, 0x19, 0xa1,
    0xb8, 0xa0, 0x86, 0xb4, 0xe0, 0x1e, 0xdd, 0x2c, 0x77, 0x48, 0xd1, 0x4c, 0x92, 0x3d, 0x4d, 0x7e,
    0x6d, 0x7c, 0x61, 0xb2, 0x29, 0xe9, 0xc5, 0xa2, 0x7e, 0xce, 0xd3, 0xd9, 0x02, 0x20, 0x10, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0xde,
    0xf9, 0xde, 0xa2, 0xf7, 0x9c, 0xd6, 0x58, 0x12, 0x63, 0x1a, 0x5c, 0xf5, 0xd3, 0xed, 0x02, 0x01,
    0x08, 0x03, 0x42, 0x00, 0x04,
};

namespace {

// A private key is at most 33 bytes in Java's form (a sign byte before 32 value bytes).
constexpr size_t kMaxJavaPrivateKeySize = 33;

[[noreturn]] void invalid(std::string_view field, const std::string& message) {
  throw Error(sqlstate::kInvalidParameter, std::string(field), message);
}

std::string size_message(const char* what, size_t got, const char* expected) {
  char buf[192];
  std::snprintf(buf, sizeof buf, "%s is %zu bytes; expected %s", what, got, expected);
  return buf;
}

// On the wrong-length path: a text that is not base64 at all is reported as such, not by length.
void refuse_bad_base64(std::string_view text, std::string_view field) {
  std::vector<uint8_t> scratch(base64_decoded_size(text, field));
  base64_decode_into(text, scratch.data(), field);
  OPENSSL_cleanse(scratch.data(), scratch.size());
}

}  // namespace

Point public_key_from_bytes(std::span<const uint8_t> bytes, std::string_view field) {
  const uint8_t* xy = nullptr;
  if (bytes.size() == kRawPublicKeySize) {
    if (bytes[0] != 0x04) invalid(field, "invalid public key: a 65-byte key must start with 0x04 (uncompressed point)");
    xy = bytes.data() + 1;
  } else if (bytes.size() == kX509PublicKeySize) {
    if (!std::equal(kX509PublicKeyPrefix.begin(), kX509PublicKeyPrefix.end(), bytes.begin()))
      invalid(field, "invalid public key: not an X.509 SubjectPublicKeyInfo for the Fidelius curve25519 parameters");
    xy = bytes.data() + kX509PrefixSize;
  } else {
    invalid(field, size_message("public key", bytes.size(),
                                "65 (raw 04||X||Y) or 309 (X.509 SubjectPublicKeyInfo)"));
  }
  Point P;
  std::memcpy(P.x.data(), xy, 32);
  std::memcpy(P.y.data(), xy + 32, 32);
  validate_public_point(P, field);
  return P;
}

Point parse_public_key(std::string_view base64, std::string_view field) {
  // Decode into a buffer of the larger size only after the length is known to be one of ours.
  const size_t size = base64_decoded_size(base64, field);
  if (size != kRawPublicKeySize && size != kX509PublicKeySize) {
    refuse_bad_base64(base64, field);
    invalid(field, size_message("public key", size, "65 (raw 04||X||Y) or 309 (X.509 SubjectPublicKeyInfo)"));
  }
  std::array<uint8_t, kX509PublicKeySize> bytes;
  base64_decode_into(base64, bytes.data(), field);
  return public_key_from_bytes(std::span<const uint8_t>(bytes.data(), size), field);
}

std::array<uint8_t, kRawPublicKeySize> raw_public_key(const Point& P) {
  std::array<uint8_t, kRawPublicKeySize> out;
  out[0] = 0x04;
  std::memcpy(out.data() + 1, P.x.data(), 32);
  std::memcpy(out.data() + 33, P.y.data(), 32);
  return out;
}

std::array<uint8_t, kX509PublicKeySize> x509_public_key(const Point& P) {
  std::array<uint8_t, kX509PublicKeySize> out;
  std::memcpy(out.data(), kX509PublicKeyPrefix.data(), kX509PrefixSize);
  std::memcpy(out.data() + kX509PrefixSize, P.x.data(), 32);
  std::memcpy(out.data() + kX509PrefixSize + 32, P.y.data(), 32);
  return out;
}

std::string raw_public_key_base64(const Point& P) { return base64_encode(raw_public_key(P)); }
std::string x509_public_key_base64(const Point& P) { return base64_encode(x509_public_key(P)); }

Scalar private_key_from_java_bytes(std::span<const uint8_t> bytes, std::string_view field) {
  if (bytes.empty() || bytes.size() > kMaxJavaPrivateKeySize)
    invalid(field, size_message("private key", bytes.size(), "1 to 33 (Java BigInteger.toByteArray)"));
  // Java reads the bytes as two's complement; a set top bit is a negative number.
  if (bytes[0] & 0x80) invalid(field, "invalid private key: negative (top bit set in Java's two's-complement form)");
  if (bytes.size() == kMaxJavaPrivateKeySize && bytes[0] != 0)
    invalid(field, "invalid private key: not below the group order n");
  const std::span<const uint8_t> value = bytes.size() == kMaxJavaPrivateKeySize ? bytes.subspan(1) : bytes;
  Scalar d;
  std::memcpy(d.data() + (32 - value.size()), value.data(), value.size());
  if (!scalar_in_range(d)) {
    bool zero = std::all_of(value.begin(), value.end(), [](uint8_t b) { return b == 0; });
    invalid(field, zero ? "invalid private key: zero" : "invalid private key: not below the group order n");
  }
  return d;
}

Scalar parse_private_key(std::string_view base64, std::string_view field) {
  const size_t size = base64_decoded_size(base64, field);
  if (size == 0 || size > kMaxJavaPrivateKeySize) {
    refuse_bad_base64(base64, field);
    invalid(field, size_message("private key", size, "1 to 33 (Java BigInteger.toByteArray)"));
  }
  Secret<kMaxJavaPrivateKeySize> bytes;
  base64_decode_into(base64, bytes.data(), field);
  return private_key_from_java_bytes(std::span<const uint8_t>(bytes.data(), size), field);
}

std::string private_key_base64(const Scalar& d) {
  // BigInteger.toByteArray of a positive number: no leading zero bytes, then one 0x00 if the
  // first remaining byte has its top bit set.
  const uint8_t* begin = d.data();
  const uint8_t* end = d.data() + 32;
  while (begin + 1 < end && *begin == 0) ++begin;
  Secret<33> java;
  size_t len = 0;
  if (*begin & 0x80) java.data()[len++] = 0;
  std::memcpy(java.data() + len, begin, static_cast<size_t>(end - begin));
  len += static_cast<size_t>(end - begin);
  return base64_encode(std::span<const uint8_t>(java.data(), len));
}

Nonce parse_nonce(std::string_view base64, std::string_view field) {
  const size_t size = base64_decoded_size(base64, field);
  if (size != kNonceSize) {
    refuse_bad_base64(base64, field);
    invalid(field, size_message("nonce", size, "32"));
  }
  Nonce nonce;
  base64_decode_into(base64, nonce.data(), field);
  return nonce;
}

Point public_key_of(const Scalar& d) { return multiply_generator(d); }

KeyPair generate_key_pair() {
  const Curve& curve = Curve::get();
  KeyPair pair;
  BnCtxPtr ctx = new_bn_ctx();
  BN_CTX_start(ctx.get());
  BIGNUM* d = BN_CTX_get(ctx.get());
  bool ok = d != nullptr;
  // Uniform in [1, n): BN_priv_rand_range draws from [0, n) by rejection sampling.
  do {
    ok = ok && BN_priv_rand_range(d, curve.n()) == 1;
  } while (ok && BN_is_zero(d));
  ok = ok && BN_bn2binpad(d, pair.private_key.data(), 32) == 32;
  BN_CTX_end(ctx.get());
  if (!ok) throw_openssl("BN_priv_rand_range");
  pair.public_key = multiply_generator(pair.private_key);
  return pair;
}

Nonce generate_nonce() {
  Nonce nonce;
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) throw_openssl("RAND_bytes");
  return nonce;
}

}  // namespace abdm::crypto
