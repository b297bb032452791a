// Small RAII helpers around OpenSSL objects for the crypto module: owning pointers, a fixed-size
// secret buffer that wipes itself, and the conversion of OpenSSL failures into abdm::Error.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace abdm::crypto {

struct BnClearFree { void operator()(BIGNUM* b) const { BN_clear_free(b); } };
struct BnCtxFree { void operator()(BN_CTX* c) const { BN_CTX_free(c); } };
struct EcPointClearFree { void operator()(EC_POINT* p) const { EC_POINT_clear_free(p); } };
struct EvpPkeyFree { void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); } };
struct EvpPkeyCtxFree { void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); } };
struct EvpCipherCtxFree { void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); } };

using BnPtr = std::unique_ptr<BIGNUM, BnClearFree>;
using BnCtxPtr = std::unique_ptr<BN_CTX, BnCtxFree>;
using EcPointPtr = std::unique_ptr<EC_POINT, EcPointClearFree>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxFree>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxFree>;

// Fixed-size key material that is wiped (OPENSSL_cleanse, which the compiler cannot elide) when it
// goes out of scope: private scalars, ECDH shared secrets, AES keys.
template <size_t N>
class Secret {
 public:
  Secret() { bytes_.fill(0); }
  Secret(const Secret& other) : bytes_(other.bytes_) {}
  Secret& operator=(const Secret& other) {
    bytes_ = other.bytes_;
    return *this;
  }
  ~Secret() { OPENSSL_cleanse(bytes_.data(), N); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  std::span<const uint8_t, N> span() const { return std::span<const uint8_t, N>(bytes_); }
  bool operator==(const Secret& other) const { return CRYPTO_memcmp(data(), other.data(), N) == 0; }

 private:
  std::array<uint8_t, N> bytes_;
};

// Allocation helpers that throw instead of returning null.
BnPtr new_bn();
BnCtxPtr new_bn_ctx();  // a secure BN_CTX: its temporaries are cleared when freed

// Throws abdm::Error(XX000) naming the failed OpenSSL call and the library's reason; clears
// OpenSSL's error queue so no stale entry reaches the next caller in the same process.
[[noreturn]] void throw_openssl(const char* what);

// Forgets errors OpenSSL queued for a failure this code expected and handles itself (a point
// off the curve, a GCM tag mismatch).
void clear_openssl_errors();

}  // namespace abdm::crypto
