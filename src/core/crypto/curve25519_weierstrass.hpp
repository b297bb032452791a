// The curve Fidelius (ABDM's data-transfer encryption) computes on: BouncyCastle's "curve25519",
// the short-Weierstrass model y² = x³ + ax + b of Curve25519 (x = u + A/3 with A = 486662), with
// the generator, order n and cofactor 8 of BouncyCastle's CustomNamedCurves. Not X25519: keys and
// shared secrets are Weierstrass x-coordinates (NHA ABDM docs, "Encryption and Decryption —
// implementation guidelines"; mgrmtech/fidelius-cli).
//
// Everything here runs on OpenSSL: an explicit-parameter EC_GROUP (EC_GROUP_new_curve_GFp) for
// point decoding, on-curve checks, y recovery and the reference multiplications, and OpenSSL's
// X25519 code for the scalar multiplications themselves (the same curve, reached through the
// x = u + A/3 map), which is several times faster; see the .cpp for why and how.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/crypto/openssl_util.hpp"

namespace abdm::crypto {

// Field elements and scalars travel as fixed-width 32-byte big-endian values: a minimal-length
// encoding would change the HKDF input for about 1 key in 256.
using Bytes32 = std::array<uint8_t, 32>;
using Scalar = Secret<32>;

// An affine point with both coordinates as 32-byte big-endian values.
struct Point {
  Bytes32 x{};
  Bytes32 y{};
  bool operator==(const Point&) const = default;
};

// The curve and the constants derived from it, built once per process (thread-safe) and kept.
class Curve {
 public:
  static const Curve& get();

  const EC_GROUP* group() const { return group_; }
  const BIGNUM* p() const { return p_; }
  const BIGNUM* n() const { return n_; }
  const BIGNUM* a_over_3() const { return a_over_3_; }   // A/3 mod p, A = 486662 (Montgomery form)
  const BIGNUM* two_254() const { return two_254_; }
  const BIGNUM* inv8() const { return inv8_; }           // 8⁻¹ mod n
  EVP_PKEY* subgroup_probe() const { return probe_; }    // X25519 key whose scalar is ±1 mod n

  Curve(const Curve&) = delete;
  Curve& operator=(const Curve&) = delete;

 private:
  Curve();
  // Owned for the life of the process (never freed: no teardown races with OpenSSL's own
  // atexit cleanup).
  EC_GROUP* group_ = nullptr;
  BIGNUM* p_ = nullptr;
  BIGNUM* n_ = nullptr;
  BIGNUM* a_over_3_ = nullptr;
  BIGNUM* two_254_ = nullptr;
  BIGNUM* inv8_ = nullptr;
  EVP_PKEY* probe_ = nullptr;
};

// True when 1 <= d < n (d as 32 bytes big-endian).
bool scalar_in_range(const Scalar& d);

// Throws abdm::Error(22023, field, ...) unless P is a usable public key: both coordinates below
// p, on the curve, and in the subgroup of prime order n (so neither the point at infinity nor a
// point with a small-order component, which would leak bits of our scalar or force a weak secret).
void validate_public_point(const Point& P, std::string_view field);

// d·G for a scalar in range, both coordinates (key generation). Runs on OpenSSL's X25519
// fixed-base code.
Point multiply_generator(const Scalar& d);

// x-coordinate of d·P as 32 bytes big-endian, for d in range and P validated — the Fidelius
// shared secret. Runs on OpenSSL's X25519 ladder.
Scalar shared_x(const Scalar& d, const Point& P);

// The same operations on OpenSSL's generic EC_POINT_mul, the reference the fast path is
// tested against (and its fallback for the ~2⁻¹²⁶ of scalars it cannot map).
Scalar shared_x_generic(const Scalar& d, const Point& P);
Point multiply_generator_generic(const Scalar& d);
bool in_prime_order_subgroup_generic(const Point& P);

}  // namespace abdm::crypto
