#include "core/abdm/otp.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>

#include "core/abdm/random.hpp"
#include "core/abdm/uuid.hpp"
#include "core/util/error.hpp"

using namespace abdm::proto;

TEST(Uuid, RecognisesCanonicalForm) {
  EXPECT_TRUE(is_uuid("499a5a4a-7dda-4f20-9b67-e24589627061"));
  EXPECT_TRUE(is_uuid("499A5A4A-7DDA-4F20-9B67-E24589627061"));
  EXPECT_FALSE(is_uuid("499a5a4a7dda4f209b67e24589627061"));
  EXPECT_FALSE(is_uuid("499a5a4a-7dda-4f20-9b67-e2458962706"));
  EXPECT_FALSE(is_uuid("499a5a4a-7dda-4f20-9b67-e2458962706g"));
  EXPECT_FALSE(is_uuid("{499a5a4a-7dda-4f20-9b67-e24589627061}"));
  EXPECT_FALSE(is_uuid(""));
}

TEST(Uuid, NewV4IsVersion4VariantAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = new_uuid_v4();
    ASSERT_TRUE(is_uuid(u)) << u;
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b');
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(is_uuid(new_link_reference()));
}

TEST(Otp, SixDigits) {
  for (int i = 0; i < 200; ++i) {
    const std::string otp = generate_otp();
    ASSERT_EQ(otp.size(), 6u);
    for (char c : otp) ASSERT_TRUE(c >= '0' && c <= '9');
  }
  EXPECT_EQ(generate_otp(8).size(), 8u);
  EXPECT_THROW(generate_otp(0), abdm::Error);
  EXPECT_THROW(generate_otp(13), abdm::Error);
}

// Chi-square per digit position over 20 000 OTPs (9 degrees of freedom; the 0.9999 quantile is
// about 33.7, so 40 fails a correct generator with probability < 1e-5). It catches gross defects
// (a stuck or missing digit, a skew of several per cent); the unbiasedness itself comes from
// random_below's rejection sampling, tested below.
TEST(Otp, DigitsRoughlyUniform) {
  std::array<std::array<int, 10>, 6> counts{};
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string otp = generate_otp();
    for (int p = 0; p < 6; ++p) counts[p][otp[p] - '0']++;
  }
  for (int p = 0; p < 6; ++p) {
    double chi2 = 0;
    for (int d = 0; d < 10; ++d) {
      const double e = n / 10.0;
      chi2 += (counts[p][d] - e) * (counts[p][d] - e) / e;
    }
    EXPECT_LT(chi2, 40.0) << "position " << p;
  }
}

TEST(Otp, RandomBelowCoversRange) {
  std::array<int, 7> c{};
  for (int i = 0; i < 7000; ++i) c[random_below(7)]++;
  for (int v : c) EXPECT_GT(v, 800);
  EXPECT_EQ(random_below(1), 0u);
  EXPECT_THROW(random_below(0), abdm::Error);
}

TEST(Otp, HashFormatAndVerify) {
  const std::string h = hash_otp("123456");
  ASSERT_TRUE(h.starts_with("v1$"));
  const auto second = h.find('$', 3);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(second - 3, 24u);             // base64 of 16 salt bytes
  EXPECT_EQ(h.size() - second - 1, 44u);  // base64 of 32 hash bytes
  EXPECT_EQ(h.find("123456"), std::string::npos);
  EXPECT_TRUE(verify_otp("123456", h));
  EXPECT_FALSE(verify_otp("123457", h));
  EXPECT_FALSE(verify_otp("12345", h));
  EXPECT_FALSE(verify_otp("", h));
  EXPECT_FALSE(verify_otp("1234567", h));
}

TEST(Otp, SaltMakesHashesDiffer) {
  const std::string a = hash_otp("000000"), b = hash_otp("000000");
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_otp("000000", a));
  EXPECT_TRUE(verify_otp("000000", b));
}

TEST(Otp, MalformedStoredHashNeverVerifies) {
  const std::string h = hash_otp("654321");
  EXPECT_FALSE(verify_otp("654321", ""));
  EXPECT_FALSE(verify_otp("654321", "654321"));
  EXPECT_FALSE(verify_otp("654321", "v2" + h.substr(2)));
  EXPECT_FALSE(verify_otp("654321", h.substr(0, h.size() - 4)));
  EXPECT_FALSE(verify_otp("654321", "v1$$"));
  EXPECT_FALSE(verify_otp("654321", "v1$!!!!$????"));
  std::string flipped = h;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_otp("654321", flipped));
}

TEST(Otp, MaskMobile) {
  EXPECT_EQ(mask_mobile("+91-9800083232"), "98******32");
  EXPECT_EQ(mask_mobile("9800083232"), "98******32");
  EXPECT_THROW(mask_mobile("987654XXXX"), abdm::Error);
  EXPECT_THROW(mask_mobile("12345"), abdm::Error);
}
