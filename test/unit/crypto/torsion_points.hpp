// Points outside the prime-order subgroup, made with OpenSSL's generic EC code for the tests:
// the curve's group has order 8n, so n·R for a random point R lies in the 8-torsion.
#pragma once

#include <openssl/rand.h>

#include "core/crypto/curve25519_weierstrass.hpp"

namespace abdm::crypto::testing {

inline Point to_point(const EC_POINT* pt) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnPtr x = new_bn(), y = new_bn();
  EC_POINT_get_affine_coordinates(curve.group(), pt, x.get(), y.get(), ctx.get());
  Point out;
  BN_bn2binpad(x.get(), out.x.data(), 32);
  BN_bn2binpad(y.get(), out.y.data(), 32);
  return out;
}

inline EcPointPtr from_point(const Point& P) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnPtr x(BN_bin2bn(P.x.data(), 32, nullptr)), y(BN_bin2bn(P.y.data(), 32, nullptr));
  EcPointPtr pt(EC_POINT_new(curve.group()));
  EC_POINT_set_affine_coordinates(curve.group(), pt.get(), x.get(), y.get(), ctx.get());
  return pt;
}

// A point of order exactly 8.
inline EcPointPtr order8_point() {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  EcPointPtr r(EC_POINT_new(curve.group())), t(EC_POINT_new(curve.group())), t4(EC_POINT_new(curve.group()));
  BnPtr x = new_bn(), four = new_bn();
  BN_set_word(four.get(), 4);
  for (;;) {
    BN_rand_range(x.get(), curve.p());
    if (EC_POINT_set_compressed_coordinates(curve.group(), r.get(), x.get(), 0, ctx.get()) != 1) continue;
    EC_POINT_mul(curve.group(), t.get(), nullptr, r.get(), curve.n(), ctx.get());
    EC_POINT_mul(curve.group(), t4.get(), nullptr, t.get(), four.get(), ctx.get());
    if (!EC_POINT_is_at_infinity(curve.group(), t4.get())) return t;
  }
}

// k·T.
inline Point multiple(const EC_POINT* T, unsigned long k) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  BnPtr kb = new_bn();
  BN_set_word(kb.get(), k);
  EcPointPtr r(EC_POINT_new(curve.group()));
  EC_POINT_mul(curve.group(), r.get(), nullptr, T, kb.get(), ctx.get());
  return to_point(r.get());
}

// P + T.
inline Point shifted(const Point& P, const EC_POINT* T) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  EcPointPtr p = from_point(P), r(EC_POINT_new(curve.group()));
  EC_POINT_add(curve.group(), r.get(), p.get(), T, ctx.get());
  return to_point(r.get());
}

}  // namespace abdm::crypto::testing
