#include "core/crypto/fidelius_session.hpp"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <algorithm>
#include <memory>

namespace abdm::crypto {
namespace {

// The HKDF implementation is fetched from the provider once; the fetched object is immutable and
// may be shared between threads (OpenSSL 3 "Algorithm fetching").
EVP_KDF* hkdf() {
  static EVP_KDF* kdf = [] {
    EVP_KDF* k = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
    if (k == nullptr) throw_openssl("EVP_KDF_fetch(HKDF)");
    return k;
  }();
  return kdf;
}

struct KdfCtxFree { void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); } };

}  // namespace

Scalar shared_secret(const Scalar& own_private_key, const Point& peer_public_key) {
  return shared_x(own_private_key, peer_public_key);
}

SessionKeys derive_session_keys(const Scalar& secret, const Nonce& sender_nonce, const Nonce& requester_nonce) {
  SessionKeys keys;
  Nonce mixed;
  for (size_t i = 0; i < mixed.size(); ++i) mixed[i] = sender_nonce[i] ^ requester_nonce[i];
  std::copy(mixed.begin(), mixed.begin() + kSaltSize, keys.salt.begin());
  std::copy(mixed.end() - kIvSize, mixed.end(), keys.iv.begin());

  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(hkdf()));
  if (!ctx) throw_openssl("EVP_KDF_CTX_new");
  // No info parameter: Fidelius passes an empty info to BouncyCastle's HKDFBytesGenerator.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, keys.salt.data(), keys.salt.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), keys.aes_key.data(), keys.aes_key.size(), params) != 1)
    throw_openssl("EVP_KDF_derive(HKDF)");
  return keys;
}

SessionKeys agree_session_keys(const Scalar& own_private_key, const Point& peer_public_key,
                               const Nonce& sender_nonce, const Nonce& requester_nonce) {
  const Scalar secret = shared_secret(own_private_key, peer_public_key);
  return derive_session_keys(secret, sender_nonce, requester_nonce);
}

}  // namespace abdm::crypto
