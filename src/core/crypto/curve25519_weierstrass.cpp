#include "core/crypto/curve25519_weierstrass.hpp"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <cstring>
#include <new>

#include "core/util/error.hpp"

// Why two OpenSSL engines for one curve.
// OpenSSL's generic prime-curve code (EC_GROUP_new_curve_GFp) multiplies a 255-bit point in about
// 220 µs on a current server core, which alone misses the 150 µs budget for key agreement. The
// curve is Curve25519 in other coordinates (x = u + A/3, same group), and OpenSSL's X25519 ladder
// does the multiplication in about 30 µs. X25519 clamps its scalar to c = 2²⁵⁴ + 8m
// (0 <= m < 2²⁵¹, RFC 7748 §5), so we pick m with c ≡ ±d (mod n): on a point P of order n,
// c·P = ±d·P, and ± does not change the x-coordinate. Solving 8m ≡ ±d − 2²⁵⁴ (mod n) gives two
// candidates in [0, n) whose sum is ≡ −2²⁵² (mod n), i.e. δ or n + δ with δ = n − 2²⁵² < 2¹²⁶,
// so one of them is below 2²⁵¹ except for about 2⁻¹²⁶ of scalars, for which the generic code
// runs instead.
//
// The same ladder checks subgroup membership. Write P = Pₙ + T with T of order dividing 8 (the
// group has order 8n, n prime). For a clamped c ≡ ±1 (mod n), c·P = ±Pₙ because 8 | c kills T.
// So u(c·P) = u(P) exactly when P = ±Pₙ, i.e. when T = O (P = −Pₙ would force 2Pₙ = −T, both
// O). A pure small-order P gives c·P = O, which OpenSSL reports as a failed derivation.
// Key generation uses the fixed-base half of the same code; see multiply_generator.
// All three are checked against EC_POINT_mul on random keys and torsion-shifted points in
// test/unit/crypto/curve_test.cpp.

namespace abdm::crypto {
namespace {

// BouncyCastle CustomNamedCurves "curve25519" (the parameters are also spelled out in the X.509
// keys fidelius-cli prints).
constexpr const char* kP = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed";
constexpr const char* kA = "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa984914a144";
constexpr const char* kB = "7b425ed097b425ed097b425ed097b425ed097b425ed097b4260b5e9c7710c864";
constexpr const char* kGx = "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad245a";
constexpr const char* kGy = "20ae19a1b8a086b4e01edd2c7748d14c923d4d7e6d7c61b229e9c5a27eced3d9";
constexpr const char* kN = "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";
constexpr unsigned long kCofactor = 8;
constexpr unsigned long kMontgomeryA = 486662;

BnPtr hex_bn(const char* hex) {
  BIGNUM* b = nullptr;
  if (BN_hex2bn(&b, hex) == 0) throw_openssl("BN_hex2bn");
  return BnPtr(b);
}

void check(int ok, const char* what) {
  if (ok != 1) throw_openssl(what);
}

// A BIGNUM from the caller's BN_CTX frame (secure when the context is).
BIGNUM* ctx_bn(BN_CTX* ctx) {
  BIGNUM* b = BN_CTX_get(ctx);
  if (b == nullptr) throw std::bad_alloc();
  return b;
}

// Opens a BN_CTX frame and closes it on every exit path.
class BnFrame {
 public:
  explicit BnFrame(BN_CTX* ctx) : ctx_(ctx) { BN_CTX_start(ctx_); }
  ~BnFrame() { BN_CTX_end(ctx_); }
  BnFrame(const BnFrame&) = delete;
  BnFrame& operator=(const BnFrame&) = delete;

 private:
  BN_CTX* ctx_;
};

void to_bytes32(const BIGNUM* v, uint8_t* out) {
  if (BN_bn2binpad(v, out, 32) != 32) throw_openssl("BN_bn2binpad");
}

// c = 2²⁵⁴ + 8m ≡ ±d (mod n), 0 <= m < 2²⁵¹, as X25519's 32-byte little-endian scalar.
// Returns false in the ~2⁻¹²⁶ case where neither sign gives a small enough m.
bool montgomery_scalar(const Curve& curve, const BIGNUM* d, uint8_t* k_le, BN_CTX* ctx) {
  BnFrame frame(ctx);
  BIGNUM* t = ctx_bn(ctx);
  BIGNUM* m_plus = ctx_bn(ctx);
  BIGNUM* m_minus = ctx_bn(ctx);
  check(BN_mod_sub(t, d, curve.two_254(), curve.n(), ctx), "BN_mod_sub");
  check(BN_mod_mul(m_plus, t, curve.inv8(), curve.n(), ctx), "BN_mod_mul");
  check(BN_sub(t, curve.n(), d), "BN_sub");
  check(BN_mod_sub(t, t, curve.two_254(), curve.n(), ctx), "BN_mod_sub");
  check(BN_mod_mul(m_minus, t, curve.inv8(), curve.n(), ctx), "BN_mod_mul");
  const BIGNUM* m = BN_num_bits(m_plus) <= 251 ? m_plus : (BN_num_bits(m_minus) <= 251 ? m_minus : nullptr);
  if (m == nullptr) return false;
  check(BN_lshift(t, m, 3), "BN_lshift");
  check(BN_add(t, t, curve.two_254()), "BN_add");
  if (BN_bn2lebinpad(t, k_le, 32) != 32) throw_openssl("BN_bn2lebinpad");
  return true;
}

// An X25519 key for one derivation. EVP_PKEY_new_raw_private_key would also compute the matching
// public key, a fixed-base multiplication (~30 µs) that derivation never reads (OpenSSL's X25519
// derive uses the private scalar and the peer's u only); importing the scalar together with a
// placeholder public value skips it. The key never leaves this file and is freed after the derive.
EvpPkeyPtr x25519_key(const uint8_t* k_le) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr));
  if (!ctx) throw_openssl("EVP_PKEY_CTX_new_from_name(X25519)");
  uint8_t placeholder[32] = {9};
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, const_cast<uint8_t*>(k_le), 32),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, placeholder, 32),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata_init(ctx.get()) <= 0 || EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEYPAIR, params) <= 0)
    throw_openssl("EVP_PKEY_fromdata(X25519)");
  return EvpPkeyPtr(key);
}

// u(k·U) into out_le. False when the result is the point at infinity (OpenSSL refuses the
// all-zero output, RFC 7748 §6.1).
bool x25519(EVP_PKEY* key, const uint8_t* u_le, uint8_t* out_le) {
  EvpPkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, u_le, 32));
  if (!peer) throw_openssl("EVP_PKEY_new_raw_public_key(X25519)");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx) throw_openssl("EVP_PKEY_CTX_new_from_pkey");
  if (EVP_PKEY_derive_init(ctx.get()) <= 0) throw_openssl("EVP_PKEY_derive_init");
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), /*validate_peer=*/0) <= 0)
    throw_openssl("EVP_PKEY_derive_set_peer_ex");
  size_t len = 32;
  if (EVP_PKEY_derive(ctx.get(), out_le, &len) <= 0 || len != 32) {
    clear_openssl_errors();
    return false;
  }
  return true;
}

// u(k·B), B = Curve25519's base point (u = 9, the image of G): OpenSSL computes the public half of
// an X25519 key with its fixed-base tables.
void x25519_base(const uint8_t* k_le, uint8_t* out_le) {
  EvpPkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, k_le, 32));
  if (!key) throw_openssl("EVP_PKEY_new_raw_private_key(X25519)");
  size_t len = 32;
  if (EVP_PKEY_get_raw_public_key(key.get(), out_le, &len) != 1 || len != 32)
    throw_openssl("EVP_PKEY_get_raw_public_key(X25519)");
}

// Weierstrass x (big-endian) → Montgomery u = x − A/3 (little-endian), and back.
void x_to_u(const Curve& curve, const BIGNUM* x, uint8_t* u_le, BN_CTX* ctx) {
  BnFrame frame(ctx);
  BIGNUM* u = ctx_bn(ctx);
  check(BN_mod_sub(u, x, curve.a_over_3(), curve.p(), ctx), "BN_mod_sub");
  if (BN_bn2lebinpad(u, u_le, 32) != 32) throw_openssl("BN_bn2lebinpad");
}

void u_to_x(const Curve& curve, const uint8_t* u_le, uint8_t* x_be, BN_CTX* ctx) {
  BnFrame frame(ctx);
  BIGNUM* v = ctx_bn(ctx);
  if (BN_lebin2bn(u_le, 32, v) == nullptr) throw_openssl("BN_lebin2bn");
  check(BN_mod_add(v, v, curve.a_over_3(), curve.p(), ctx), "BN_mod_add");
  to_bytes32(v, x_be);
}

BIGNUM* scalar_bn(const Scalar& d, BN_CTX* ctx) {
  BIGNUM* b = ctx_bn(ctx);
  if (BN_bin2bn(d.data(), 32, b) == nullptr) throw_openssl("BN_bin2bn");
  BN_set_flags(b, BN_FLG_CONSTTIME);
  return b;
}

// P as an EC_POINT of the generic group; false when it is not on the curve.
bool set_point(const Curve& curve, const Point& P, EC_POINT* out, BN_CTX* ctx) {
  BnFrame frame(ctx);
  BIGNUM* x = ctx_bn(ctx);
  BIGNUM* y = ctx_bn(ctx);
  if (BN_bin2bn(P.x.data(), 32, x) == nullptr || BN_bin2bn(P.y.data(), 32, y) == nullptr)
    throw_openssl("BN_bin2bn");
  if (EC_POINT_set_affine_coordinates(curve.group(), out, x, y, ctx) != 1 ||
      EC_POINT_is_on_curve(curve.group(), out, ctx) != 1) {
    clear_openssl_errors();
    return false;
  }
  return true;
}

EcPointPtr new_point(const Curve& curve) {
  EC_POINT* p = EC_POINT_new(curve.group());
  if (p == nullptr) throw std::bad_alloc();
  return EcPointPtr(p);
}

[[noreturn]] void invalid_key(std::string_view field, const char* why) {
  throw Error(sqlstate::kInvalidParameter, std::string(field), std::string("invalid public key: ") + why);
}

}  // namespace

Curve::Curve() {
  BnCtxPtr ctx = new_bn_ctx();
  BnPtr p = hex_bn(kP), a = hex_bn(kA), b = hex_bn(kB), gx = hex_bn(kGx), gy = hex_bn(kGy), n = hex_bn(kN);
  BnPtr h = new_bn();
  check(BN_set_word(h.get(), kCofactor), "BN_set_word");

  EC_GROUP* group = EC_GROUP_new_curve_GFp(p.get(), a.get(), b.get(), ctx.get());
  if (group == nullptr) throw_openssl("EC_GROUP_new_curve_GFp");
  struct GroupFree { void operator()(EC_GROUP* g) const { EC_GROUP_free(g); } };
  std::unique_ptr<EC_GROUP, GroupFree> group_owner(group);
  {
    EC_POINT* g = EC_POINT_new(group);
    if (g == nullptr) throw std::bad_alloc();
    EcPointPtr g_owner(g);
    check(EC_POINT_set_affine_coordinates(group, g, gx.get(), gy.get(), ctx.get()), "EC_POINT_set_affine_coordinates(G)");
    check(EC_GROUP_set_generator(group, g, n.get(), h.get()), "EC_GROUP_set_generator");
  }

  // A/3 mod p links the two models; G's u must come out as 9, Curve25519's base point.
  BnPtr a_over_3 = new_bn(), three = new_bn(), big_a = new_bn(), u_g = new_bn();
  check(BN_set_word(three.get(), 3), "BN_set_word");
  check(BN_set_word(big_a.get(), kMontgomeryA), "BN_set_word");
  if (BN_mod_inverse(three.get(), three.get(), p.get(), ctx.get()) == nullptr) throw_openssl("BN_mod_inverse");
  check(BN_mod_mul(a_over_3.get(), big_a.get(), three.get(), p.get(), ctx.get()), "BN_mod_mul");
  check(BN_mod_sub(u_g.get(), gx.get(), a_over_3.get(), p.get(), ctx.get()), "BN_mod_sub");
  if (!BN_is_word(u_g.get(), 9)) throw Error(sqlstate::kInternal, "", "curve25519 constants are inconsistent");

  BnPtr two_254 = new_bn(), inv8 = new_bn();
  check(BN_set_bit(two_254.get(), 254), "BN_set_bit");
  check(BN_set_word(inv8.get(), 8), "BN_set_word");
  if (BN_mod_inverse(inv8.get(), inv8.get(), n.get(), ctx.get()) == nullptr) throw_openssl("BN_mod_inverse");

  group_ = group_owner.release();
  p_ = p.release();
  n_ = n.release();
  a_over_3_ = a_over_3.release();
  two_254_ = two_254.release();
  inv8_ = inv8.release();

  // The subgroup probe: the clamped scalar ≡ ±1 (mod n).
  uint8_t k[32];
  if (!montgomery_scalar(*this, BN_value_one(), k, ctx.get()))
    throw Error(sqlstate::kInternal, "", "no clamped scalar for 1 mod n");
  probe_ = x25519_key(k).release();
}

const Curve& Curve::get() {
  // Built on first use, thread-safe (C++11 static initialisation), kept for the process.
  static const Curve* curve = new Curve();
  return *curve;
}

bool scalar_in_range(const Scalar& d) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnFrame frame(ctx.get());
  BIGNUM* b = scalar_bn(d, ctx.get());
  return !BN_is_zero(b) && BN_cmp(b, curve.n()) < 0;
}

void validate_public_point(const Point& P, std::string_view field) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnFrame frame(ctx.get());
  BIGNUM* x = ctx_bn(ctx.get());
  BIGNUM* y = ctx_bn(ctx.get());
  if (BN_bin2bn(P.x.data(), 32, x) == nullptr || BN_bin2bn(P.y.data(), 32, y) == nullptr) throw_openssl("BN_bin2bn");
  if (BN_cmp(x, curve.p()) >= 0 || BN_cmp(y, curve.p()) >= 0)
    invalid_key(field, "a coordinate is not below the field prime");
  EcPointPtr point = new_point(curve);
  if (!set_point(curve, P, point.get(), ctx.get())) invalid_key(field, "the point is not on the curve");

  uint8_t u[32], probed[32];
  x_to_u(curve, x, u, ctx.get());
  if (!x25519(curve.subgroup_probe(), u, probed) || CRYPTO_memcmp(u, probed, 32) != 0)
    invalid_key(field, "the point is not in the prime-order subgroup");
}

// d·G with both coordinates. The ladder gives x(±d·G) = u(c·B) + A/3 and y follows up to sign from
// the curve equation (EC_POINT_set_compressed_coordinates); the sign is the one for which
// x(Q + G) equals x((d+1)·G), a second fixed-base ladder. About 3x faster than EC_POINT_mul;
// checked against it on random keys in the tests.
Point multiply_generator(const Scalar& d) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnFrame frame(ctx.get());
  BIGNUM* k = scalar_bn(d, ctx.get());
  BIGNUM* k_next = ctx_bn(ctx.get());
  check(BN_add(k_next, k, BN_value_one()), "BN_add");
  Secret<32> c, c_next;
  if (BN_cmp(k_next, curve.n()) >= 0 || !montgomery_scalar(curve, k, c.data(), ctx.get()) ||
      !montgomery_scalar(curve, k_next, c_next.data(), ctx.get()))
    return multiply_generator_generic(d);

  uint8_t u[32], u_next[32];
  x25519_base(c.data(), u);
  x25519_base(c_next.data(), u_next);
  Point out;
  Bytes32 x_next;
  u_to_x(curve, u, out.x.data(), ctx.get());
  u_to_x(curve, u_next, x_next.data(), ctx.get());

  BIGNUM* x = ctx_bn(ctx.get());
  BIGNUM* y = ctx_bn(ctx.get());
  BIGNUM* sum_x = ctx_bn(ctx.get());
  if (BN_bin2bn(out.x.data(), 32, x) == nullptr) throw_openssl("BN_bin2bn");
  EcPointPtr q = new_point(curve), sum = new_point(curve);
  check(EC_POINT_set_compressed_coordinates(curve.group(), q.get(), x, 0, ctx.get()), "EC_POINT_set_compressed_coordinates");
  uint8_t candidate[32];
  for (int attempt = 0; attempt < 2; ++attempt) {
    check(EC_POINT_add(curve.group(), sum.get(), q.get(), EC_GROUP_get0_generator(curve.group()), ctx.get()), "EC_POINT_add");
    // Q + G = O means Q = −G, the wrong sign (d = n − 1 took the generic path above).
    bool match = false;
    if (!EC_POINT_is_at_infinity(curve.group(), sum.get())) {
      check(EC_POINT_get_affine_coordinates(curve.group(), sum.get(), sum_x, nullptr, ctx.get()),
            "EC_POINT_get_affine_coordinates");
      to_bytes32(sum_x, candidate);
      match = CRYPTO_memcmp(candidate, x_next.data(), 32) == 0;
    }
    if (match) {
      check(EC_POINT_get_affine_coordinates(curve.group(), q.get(), x, y, ctx.get()), "EC_POINT_get_affine_coordinates");
      to_bytes32(y, out.y.data());
      return out;
    }
    check(EC_POINT_invert(curve.group(), q.get(), ctx.get()), "EC_POINT_invert");
  }
  throw Error(sqlstate::kInternal, "", "key generation: no sign of y matches (x25519 and EC results disagree)");
}

Point multiply_generator_generic(const Scalar& d) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnFrame frame(ctx.get());
  BIGNUM* k = scalar_bn(d, ctx.get());
  BIGNUM* x = ctx_bn(ctx.get());
  BIGNUM* y = ctx_bn(ctx.get());
  EcPointPtr r = new_point(curve);
  check(EC_POINT_mul(curve.group(), r.get(), k, nullptr, nullptr, ctx.get()), "EC_POINT_mul");
  check(EC_POINT_get_affine_coordinates(curve.group(), r.get(), x, y, ctx.get()), "EC_POINT_get_affine_coordinates");
  Point out;
  to_bytes32(x, out.x.data());
  to_bytes32(y, out.y.data());
  return out;
}

Scalar shared_x(const Scalar& d, const Point& P) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnFrame frame(ctx.get());
  Secret<32> k;
  if (!montgomery_scalar(curve, scalar_bn(d, ctx.get()), k.data(), ctx.get())) return shared_x_generic(d, P);
  EvpPkeyPtr key = x25519_key(k.data());

  BIGNUM* x = ctx_bn(ctx.get());
  if (BN_bin2bn(P.x.data(), 32, x) == nullptr) throw_openssl("BN_bin2bn");
  uint8_t u[32];
  x_to_u(curve, x, u, ctx.get());
  Secret<32> u_out;
  if (!x25519(key.get(), u, u_out.data()))
    throw Error(sqlstate::kInvalidParameter, "", "key agreement gave the point at infinity (unvalidated public key)");
  Scalar out;
  u_to_x(curve, u_out.data(), out.data(), ctx.get());
  return out;
}

Scalar shared_x_generic(const Scalar& d, const Point& P) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnFrame frame(ctx.get());
  EcPointPtr point = new_point(curve), r = new_point(curve);
  if (!set_point(curve, P, point.get(), ctx.get()))
    throw Error(sqlstate::kInvalidParameter, "", "invalid public key: the point is not on the curve");
  BIGNUM* k = scalar_bn(d, ctx.get());
  check(EC_POINT_mul(curve.group(), r.get(), nullptr, point.get(), k, ctx.get()), "EC_POINT_mul");
  if (EC_POINT_is_at_infinity(curve.group(), r.get()))
    throw Error(sqlstate::kInvalidParameter, "", "key agreement gave the point at infinity (unvalidated public key)");
  BIGNUM* x = ctx_bn(ctx.get());
  check(EC_POINT_get_affine_coordinates(curve.group(), r.get(), x, nullptr, ctx.get()), "EC_POINT_get_affine_coordinates");
  Scalar out;
  to_bytes32(x, out.data());
  return out;
}

bool in_prime_order_subgroup_generic(const Point& P) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  EcPointPtr point = new_point(curve), r = new_point(curve);
  if (!set_point(curve, P, point.get(), ctx.get())) return false;
  check(EC_POINT_mul(curve.group(), r.get(), nullptr, point.get(), EC_GROUP_get0_order(curve.group()), ctx.get()),
        "EC_POINT_mul");
  return EC_POINT_is_at_infinity(curve.group(), r.get()) == 1;
}

}  // namespace abdm::crypto
