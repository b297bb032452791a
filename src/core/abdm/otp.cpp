#include "core/abdm/otp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>

#include "core/abdm/matching.hpp"
#include "core/abdm/random.hpp"
#include "core/abdm/uuid.hpp"
#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {
namespace {

constexpr int kIterations = 10000;
constexpr std::size_t kSaltLen = 16;
constexpr std::size_t kHashLen = 32;

std::array<unsigned char, kHashLen> derive(std::string_view otp, const unsigned char* salt, std::size_t salt_len) {
  std::array<unsigned char, kHashLen> out{};
  if (PKCS5_PBKDF2_HMAC(otp.data(), static_cast<int>(otp.size()), salt, static_cast<int>(salt_len), kIterations,
                        EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1)
    throw Error(sqlstate::kInternal, "", "PBKDF2 failed");
  return out;
}

}  // namespace

std::string generate_otp(int digits) {
  if (digits < 1 || digits > 12) throw Error(sqlstate::kInvalidParameter, "digits", "must be between 1 and 12");
  std::string otp;
  otp.reserve(static_cast<std::size_t>(digits));
  for (int i = 0; i < digits; ++i) otp.push_back(static_cast<char>('0' + random_below(10)));
  return otp;
}

std::string hash_otp(std::string_view otp) {
  if (otp.empty() || otp.size() > 64) throw Error(sqlstate::kInvalidParameter, "otp", "must be 1 to 64 characters");
  unsigned char salt[kSaltLen];
  random_bytes(salt, sizeof salt);
  const auto h = derive(otp, salt, sizeof salt);
  return "v1$" + base64_encode(std::span<const std::uint8_t>(salt, sizeof salt)) + "$" + base64_encode(std::span<const std::uint8_t>(h.data(), h.size()));
}

bool verify_otp(std::string_view otp, std::string_view stored) {
  if (!stored.starts_with("v1$") || otp.empty() || otp.size() > 64) return false;
  const std::string_view rest = stored.substr(3);
  const auto sep = rest.find('$');
  if (sep == std::string_view::npos) return false;
  std::vector<std::uint8_t> salt, expected;
  try {
    salt = base64_decode(rest.substr(0, sep), "stored");
    expected = base64_decode(rest.substr(sep + 1), "stored");
  } catch (const Error&) {
    return false;
  }
  if (salt.size() != kSaltLen || expected.size() != kHashLen) return false;
  const auto h = derive(otp, salt.data(), salt.size());
  return CRYPTO_memcmp(h.data(), expected.data(), kHashLen) == 0;
}

std::string mask_mobile(std::string_view mobile) {
  auto m = normalize_mobile(mobile);
  if (!m) throw Error(sqlstate::kInvalidParameter, "mobile", "not a 10-digit mobile number");
  return m->substr(0, 2) + "******" + m->substr(8, 2);
}

std::string new_link_reference() { return new_uuid_v4(); }

}  // namespace abdm::proto
