// Fidelius throughput against its ceiling, in one run on one machine.
//   Ceiling      raw AES-256-GCM of the plaintext into a buffer, then OpenSSL base64
//                (EVP_EncodeBlock) of ciphertext ‖ tag into another: the two passes every
//                implementation must make, with nothing else.
//   SealInto     our data path on the same buffers (keys agreed beforehand), what ratio is about.
//   Encrypt      the whole call as SQL makes it: parse and validate keys and nonces, ECDH, HKDF,
//                seal into the result buffer (EncryptToString: the same into a new std::string).
//   Open/Decrypt the reverse.
//   KeyPairGeneration, KeyAgreement (ECDH + HKDF on parsed keys), SessionFromBase64 (parse +
//   validate + ECDH + HKDF), and the generic-EC reference for comparison.
// Run: build/crypto_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "core/crypto/fidelius.hpp"
#include "core/util/base64.hpp"

namespace {

using namespace abdm::crypto;

struct Parties {
  KeyMaterial hip = generate_key_material();
  KeyMaterial hiu = generate_key_material();
  SessionKeys keys = sender_session_keys(hip.private_key, hip.nonce, hiu.public_key, hiu.nonce);
};
const Parties& parties() {
  static const Parties p;
  return p;
}

// JSON-like ASCII, as FHIR bundles are; the content does not change AES or base64 speed.
const std::string& plaintext(size_t n) {
  static std::vector<std::string> cache(32);
  size_t slot = 0;
  while ((size_t{1} << slot) < n) ++slot;
  if (cache[slot].size() != n) {
    std::mt19937 rng(static_cast<uint32_t>(n));
    cache[slot].resize(n);
    for (auto& c : cache[slot]) c = static_cast<char>(' ' + rng() % 94);
  }
  return cache[slot];
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{1} << 10, int64_t{64} << 10, int64_t{1} << 20, int64_t{16} << 20}) b->Arg(n);
}

void BM_Ceiling_AesGcmThenBase64(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string& plain = plaintext(n);
  const SessionKeys& k = parties().keys;
  std::vector<uint8_t> sealed(n + 16);
  std::vector<unsigned char> text(abdm::base64_encoded_size(n + 16) + 1);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  for (auto _ : state) {
    int len = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, k.aes_key.data(), k.iv.data());
    EVP_EncryptUpdate(ctx, sealed.data(), &len, reinterpret_cast<const uint8_t*>(plain.data()), static_cast<int>(n));
    EVP_EncryptFinal_ex(ctx, sealed.data() + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, sealed.data() + n);
    EVP_EncodeBlock(text.data(), sealed.data(), static_cast<int>(n + 16));
    benchmark::DoNotOptimize(text.data());
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Ceiling_AesGcmThenBase64)->Apply(sizes);

void BM_SealInto(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string& plain = plaintext(n);
  std::string out(encrypted_size(n), '\0');
  for (auto _ : state) {
    encrypt_into(parties().keys, plain, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_SealInto)->Apply(sizes);

// The whole call as the SQL function makes it: parse and validate the base64 keys and nonces,
// ECDH, HKDF, then seal into the result buffer.
void BM_Encrypt(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string& plain = plaintext(n);
  const Parties& p = parties();
  std::string out(encrypted_size(n), '\0');
  for (auto _ : state) {
    const SessionKeys keys = sender_session_keys(p.hip.private_key, p.hip.nonce, p.hiu.public_key, p.hiu.nonce);
    encrypt_into(keys, plain, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Encrypt)->Apply(sizes);

// The same returning a new std::string (C++20 has no way to size it without zero-filling it).
void BM_EncryptToString(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string& plain = plaintext(n);
  const Parties& p = parties();
  for (auto _ : state) {
    std::string out = encrypt(plain, p.hip.private_key, p.hip.nonce, p.hiu.public_key, p.hiu.nonce);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_EncryptToString)->Apply(sizes);

void BM_Open(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::string ct(encrypted_size(n), '\0');
  encrypt_into(parties().keys, plaintext(n), ct.data());
  for (auto _ : state) {
    std::string out = open_base64(parties().keys, ct, "ciphertext");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Open)->Apply(sizes);

void BM_Decrypt(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Parties& p = parties();
  const std::string ct = encrypt(plaintext(n), p.hip.private_key, p.hip.nonce, p.hiu.public_key, p.hiu.nonce);
  for (auto _ : state) {
    std::string out = decrypt(ct, p.hiu.private_key, p.hiu.nonce, p.hip.x509_public_key, p.hip.nonce);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Decrypt)->Apply(sizes);

void BM_KeyPairGeneration(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(generate_key_pair());
}
BENCHMARK(BM_KeyPairGeneration)->Unit(benchmark::kMicrosecond);

void BM_KeyMaterialGeneration(benchmark::State& state) {  // key pair + nonce + the three base64 strings
  for (auto _ : state) benchmark::DoNotOptimize(generate_key_material());
}
BENCHMARK(BM_KeyMaterialGeneration)->Unit(benchmark::kMicrosecond);

void BM_KeyAgreement(benchmark::State& state) {  // ECDH + HKDF on parsed, validated keys
  const Parties& p = parties();
  const Scalar d = parse_private_key(p.hip.private_key, "k");
  const Point P = parse_public_key(p.hiu.public_key, "k");
  const Nonce a = parse_nonce(p.hip.nonce, "n"), b = parse_nonce(p.hiu.nonce, "n");
  for (auto _ : state) benchmark::DoNotOptimize(agree_session_keys(d, P, a, b));
}
BENCHMARK(BM_KeyAgreement)->Unit(benchmark::kMicrosecond);

void BM_KeyAgreementGenericEc(benchmark::State& state) {  // the same on OpenSSL's generic EC_POINT_mul
  const Parties& p = parties();
  const Scalar d = parse_private_key(p.hip.private_key, "k");
  const Point P = parse_public_key(p.hiu.public_key, "k");
  const Nonce a = parse_nonce(p.hip.nonce, "n"), b = parse_nonce(p.hiu.nonce, "n");
  for (auto _ : state) benchmark::DoNotOptimize(derive_session_keys(shared_x_generic(d, P), a, b));
}
BENCHMARK(BM_KeyAgreementGenericEc)->Unit(benchmark::kMicrosecond);

void BM_PublicKeyValidation(benchmark::State& state) {  // base64 + on-curve + subgroup check
  const std::string key = parties().hiu.x509_public_key;
  for (auto _ : state) benchmark::DoNotOptimize(parse_public_key(key, "k"));
}
BENCHMARK(BM_PublicKeyValidation)->Unit(benchmark::kMicrosecond);

void BM_SessionFromBase64(benchmark::State& state) {  // all an encryption does before the data
  const Parties& p = parties();
  for (auto _ : state)
    benchmark::DoNotOptimize(sender_session_keys(p.hip.private_key, p.hip.nonce, p.hiu.public_key, p.hiu.nonce));
}
BENCHMARK(BM_SessionFromBase64)->Unit(benchmark::kMicrosecond);

}  // namespace
