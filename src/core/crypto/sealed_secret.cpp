#include "core/crypto/sealed_secret.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::crypto {
namespace {

constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;

void check_purpose(std::string_view purpose) {
  const bool ok = !purpose.empty() && purpose.size() <= 32 &&
                  std::all_of(purpose.begin(), purpose.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  if (!ok) throw Error(sqlstate::kInvalidParameter, "purpose", "must be 1 to 32 of a-z and _");
}

// What the tag authenticates besides the ciphertext: the form's version, the purpose, the key id.
std::string aad(std::string_view purpose, std::string_view key_id) {
  return std::string(kSealedPrefix) + std::string(purpose) + ":" + std::string(key_id);
}

EvpCipherCtxPtr gcm(const SecretKey& key, const uint8_t* nonce, bool encrypt, std::string_view extra) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw std::bad_alloc();
  int len = 0;
  if (EVP_CipherInit_ex2(ctx.get(), EVP_aes_256_gcm(), key.bytes.data(), nonce, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CipherUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(extra.data()),
                       static_cast<int>(extra.size())) != 1)
    throw_openssl("sealed secret: aes-256-gcm");
  return ctx;
}

}  // namespace

SecretKey secret_key_from_bytes(std::span<const uint8_t, 32> bytes) {
  SecretKey k;
  std::copy(bytes.begin(), bytes.end(), k.bytes.data());
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(k.bytes.data(), k.bytes.size(), digest);
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  k.id.assign(hex, 16);
  return k;
}

bool looks_sealed(std::string_view text) { return text.starts_with(kSealedPrefix); }

std::string seal_secret(const SecretKey& key, std::string_view purpose, std::string_view plaintext) {
  check_purpose(purpose);
  if (plaintext.size() > (1u << 20)) throw Error(sqlstate::kInvalidParameter, "value", "longer than 1 MB");
  std::vector<uint8_t> raw(kNonce + plaintext.size() + kTag);
  if (RAND_bytes(raw.data(), static_cast<int>(kNonce)) != 1) throw_openssl("RAND_bytes");
  EvpCipherCtxPtr ctx = gcm(key, raw.data(), true, aad(purpose, key.id));
  int len = 0;
  if ((!plaintext.empty() &&
       EVP_CipherUpdate(ctx.get(), raw.data() + kNonce, &len, reinterpret_cast<const uint8_t*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1) ||
      EVP_CipherFinal_ex(ctx.get(), raw.data() + kNonce + plaintext.size(), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTag),
                          raw.data() + kNonce + plaintext.size()) != 1)
    throw_openssl("sealed secret: seal");
  return aad(purpose, key.id) + ":" + base64_encode(std::span<const uint8_t>(raw));
}

std::string open_secret(const SecretKey& key, std::string_view purpose, std::string_view sealed,
                        std::string_view field) {
  check_purpose(purpose);
  const std::string f(field);
  if (!looks_sealed(sealed))
    throw Error(sqlstate::kInvalidText, f, "not a sealed value (stored in clear?); set it again through abdm_hip");
  // <purpose>:<key id>:<base64>
  std::string_view rest = sealed.substr(kSealedPrefix.size());
  const size_t c1 = rest.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) throw Error(sqlstate::kInvalidText, f, "not a sealed value: its parts are missing");
  const std::string_view got_purpose = rest.substr(0, c1);
  const std::string_view got_key = rest.substr(c1 + 1, c2 - c1 - 1);
  if (got_purpose != purpose)
    throw Error(sqlstate::kInvalidParameter, f,
                "sealed as '" + std::string(got_purpose) + "', not as '" + std::string(purpose) + "'");
  if (got_key != key.id)
    throw Error(sqlstate::kInvalidParameter, f,
                "sealed under key " + std::string(got_key) + ", but this server's key (abdm_hip.secret_key_file) is " +
                    key.id + ": copy that key file here, or set the secret again");
  const std::vector<uint8_t> raw = base64_decode(rest.substr(c2 + 1), f);
  if (raw.size() < kNonce + kTag) throw Error(sqlstate::kInvalidParameter, f, "sealed value too short");
  const size_t n = raw.size() - kNonce - kTag;
  std::string out(n, '\0');
  EvpCipherCtxPtr ctx = gcm(key, raw.data(), false, aad(purpose, key.id));
  int len = 0;
  if (n > 0 && EVP_CipherUpdate(ctx.get(), reinterpret_cast<uint8_t*>(out.data()), &len, raw.data() + kNonce,
                                static_cast<int>(n)) != 1)
    throw_openssl("sealed secret: open");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTag),
                          const_cast<uint8_t*>(raw.data() + kNonce + n)) != 1)
    throw_openssl("sealed secret: tag");
  uint8_t none[kTag];
  if (EVP_CipherFinal_ex(ctx.get(), none, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    throw Error(sqlstate::kDataException, f, "authentication failed (the sealed value was changed)");
  }
  return out;
}

}  // namespace abdm::crypto
