#include "core/crypto/checksum.hpp"

#include <openssl/evp.h>

#include <cstdint>

#include "core/crypto/openssl_util.hpp"
#include "core/util/base64.hpp"

namespace abdm::crypto {

std::string md5_base64(std::string_view bytes) {
  uint8_t digest[16];
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_md5(), nullptr) != 1 || len != sizeof digest)
    throw_openssl("EVP_Digest(MD5)");
  return base64_encode(std::span<const uint8_t>(digest, len));
}

}  // namespace abdm::crypto
