// The X25519-ladder fast paths (shared secret, subgroup check) against OpenSSL's generic
// EC_POINT_mul on the explicit-parameter group, on random keys and on torsion-shifted points.
#include <gtest/gtest.h>

#include "core/crypto/fidelius_keys.hpp"
#include "crypto_test_support.hpp"
#include "torsion_points.hpp"

namespace abdm::crypto {
namespace {

TEST(Curve, GroupIsTheExplicitCurve25519Weierstrass) {
  const Curve& curve = Curve::get();
  BnCtxPtr ctx = new_bn_ctx();
  EXPECT_EQ(EC_GROUP_check(curve.group(), ctx.get()), 1);
  EXPECT_EQ(BN_num_bits(curve.n()), 253);
  EXPECT_EQ(BN_num_bits(curve.p()), 255);
  EXPECT_EQ(EC_GROUP_get_curve_name(curve.group()), NID_undef);  // explicit parameters, no OID
}

TEST(Curve, FastSharedSecretEqualsGenericOnRandomKeys) {
  for (int i = 0; i < 200; ++i) {
    const KeyPair a = generate_key_pair();
    const KeyPair b = generate_key_pair();
    const Scalar fast = shared_x(a.private_key, b.public_key);
    EXPECT_TRUE(fast == shared_x_generic(a.private_key, b.public_key));
    EXPECT_TRUE(fast == shared_x(b.private_key, a.public_key));  // ECDH symmetry
  }
}

TEST(Curve, FastSharedSecretAtScalarExtremes) {
  const KeyPair peer = generate_key_pair();
  BnPtr n_minus = new_bn();
  for (unsigned long k : {1ul, 2ul, 7ul, 8ul, 9ul}) {
    for (bool from_top : {false, true}) {
      Scalar d;
      BN_copy(n_minus.get(), Curve::get().n());
      if (from_top) BN_sub_word(n_minus.get(), k); else BN_set_word(n_minus.get(), k);
      BN_bn2binpad(n_minus.get(), d.data(), 32);
      ASSERT_TRUE(scalar_in_range(d));
      EXPECT_TRUE(shared_x(d, peer.public_key) == shared_x_generic(d, peer.public_key)) << k << from_top;
    }
  }
}

TEST(Curve, FastGeneratorMultipleEqualsGeneric) {
  for (int i = 0; i < 200; ++i) {
    const Scalar d = generate_key_pair().private_key;
    EXPECT_EQ(multiply_generator(d), multiply_generator_generic(d));
  }
  BnPtr k = new_bn();
  for (unsigned long small : {1ul, 2ul, 3ul, 8ul}) {
    for (bool from_top : {false, true}) {  // n − 1 takes the generic fallback (d + 1 = n)
      Scalar d;
      BN_copy(k.get(), Curve::get().n());
      if (from_top) BN_sub_word(k.get(), small); else BN_set_word(k.get(), small);
      BN_bn2binpad(k.get(), d.data(), 32);
      EXPECT_EQ(multiply_generator(d), multiply_generator_generic(d)) << small << from_top;
    }
  }
}

TEST(Curve, SubgroupCheckAgreesWithGenericOrderCheck) {
  EcPointPtr T = testing::order8_point();
  for (int i = 0; i < 50; ++i) {
    const Point P = generate_key_pair().public_key;
    EXPECT_TRUE(in_prime_order_subgroup_generic(P));
    EXPECT_NO_THROW(validate_public_point(P, "k"));
    for (unsigned long k = 1; k < 8; ++k) {
      const Point Tk = testing::multiple(T.get(), k);
      EcPointPtr tk = testing::from_point(Tk);
      const Point shifted = testing::shifted(P, tk.get());
      EXPECT_FALSE(in_prime_order_subgroup_generic(shifted));
      EXPECT_THROW(validate_public_point(shifted, "k"), abdm::Error) << "P + " << k << "T accepted";
    }
  }
}

TEST(Curve, SmallOrderPointsAreRefused) {
  EcPointPtr T = testing::order8_point();
  for (unsigned long k = 1; k < 8; ++k) {  // orders 8, 4, 8, 2, 8, 4, 8
    const Point small = testing::multiple(T.get(), k);
    EXPECT_FALSE(in_prime_order_subgroup_generic(small));
    testing::expect_error([&] { validate_public_point(small, "requester_public_key"); }, "22023",
                          "requester_public_key", "not in the prime-order subgroup");
  }
}

}  // namespace
}  // namespace abdm::crypto
