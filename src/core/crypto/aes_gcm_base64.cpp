#include "core/crypto/aes_gcm_base64.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::crypto {
namespace {

// A multiple of 3, so every piece but the last base64-encodes without padding and the pieces'
// encodings simply follow one another; small enough to stay in L1/L2 between the two passes.
constexpr size_t kPiece = 3 * 16 * 1024;
// EVP_*Update take an int length.
constexpr size_t kMaxUpdate = size_t{1} << 30;

EvpCipherCtxPtr gcm_context(const SessionKeys& keys, bool encrypt) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw std::bad_alloc();
  // AES-256-GCM's default IV length is the 12 bytes Fidelius uses.
  if (EVP_CipherInit_ex2(ctx.get(), EVP_aes_256_gcm(), keys.aes_key.data(), keys.iv.data(), encrypt ? 1 : 0,
                         nullptr) != 1)
    throw_openssl("EVP_CipherInit_ex2(aes-256-gcm)");
  return ctx;
}

void gcm_update(EVP_CIPHER_CTX* ctx, uint8_t* out, const uint8_t* in, size_t n) {
  while (n > 0) {
    const size_t step = std::min(n, kMaxUpdate);
    int len = 0;
    if (EVP_CipherUpdate(ctx, out, &len, in, static_cast<int>(step)) != 1 || static_cast<size_t>(len) != step)
      throw_openssl("EVP_CipherUpdate(aes-256-gcm)");
    out += step;
    in += step;
    n -= step;
  }
}

}  // namespace

size_t sealed_base64_size(size_t plaintext_size) { return base64_encoded_size(plaintext_size + kTagSize); }

void seal_to_base64(const SessionKeys& keys, std::span<const uint8_t> plaintext, char* out) {
  EvpCipherCtxPtr ctx = gcm_context(keys, true);
  alignas(64) uint8_t piece[kPiece + kTagSize];
  const uint8_t* in = plaintext.data();
  size_t left = plaintext.size();
  while (left > kPiece) {
    gcm_update(ctx.get(), piece, in, kPiece);
    base64_encode_into(std::span<const uint8_t>(piece, kPiece), out);
    out += kPiece / 3 * 4;
    in += kPiece;
    left -= kPiece;
  }
  // The last piece (possibly empty) is followed by the tag and encoded with the padding.
  gcm_update(ctx.get(), piece, in, left);
  int final_len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), piece + left, &final_len) != 1 || final_len != 0)
    throw_openssl("EVP_CipherFinal_ex(aes-256-gcm)");
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), piece + left) != 1)
    throw_openssl("EVP_CTRL_GCM_GET_TAG");
  base64_encode_into(std::span<const uint8_t>(piece, left + kTagSize), out);
}

std::string open_base64(const SessionKeys& keys, std::string_view text, std::string_view field) {
  // Decoded in place into the result, then decrypted in place (GCM allows exactly overlapping
  // input and output): one buffer for the whole operation.
  std::string data(base64_decoded_size(text, field), '\0');
  uint8_t* bytes = reinterpret_cast<uint8_t*>(data.data());
  base64_decode_into(text, bytes, field);
  if (data.size() < kTagSize) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "ciphertext too short: %zu bytes; at least %zu (the GCM tag) are required",
                  data.size(), kTagSize);
    throw Error(sqlstate::kInvalidParameter, std::string(field), msg);
  }
  const size_t n = data.size() - kTagSize;
  uint8_t tag[kTagSize];
  std::memcpy(tag, bytes + n, kTagSize);

  EvpCipherCtxPtr ctx = gcm_context(keys, false);
  gcm_update(ctx.get(), bytes, bytes, n);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1)
    throw_openssl("EVP_CTRL_GCM_SET_TAG");
  int final_len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), bytes + n, &final_len) != 1) {
    clear_openssl_errors();
    OPENSSL_cleanse(bytes, data.size());  // never let unauthenticated plaintext out
    throw Error(sqlstate::kDataException, std::string(field),
                "authentication failed: the GCM tag does not match (wrong key or nonce, or altered ciphertext)");
  }
  data.resize(n);
  return data;
}

}  // namespace abdm::crypto
