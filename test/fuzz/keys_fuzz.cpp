// Fidelius key material (core/crypto/fidelius_keys) and the strict base64 under it (core/util/
// base64): what a HIU sends in keyMaterial (dhPublicKey.keyValue, raw or X.509, and the nonce),
// and the private keys an operator loads. The input is read both as bytes and as base64 text.
// Asserts: each parser returns or refuses with abdm::Error naming the field; what is accepted
// re-encodes to exactly the input (strict, canonical decoding: one text per value), a public key
// is a point on the curve (its own encodings parse back to it), a private key round-trips
// through Java's BigInteger form.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/fidelius_keys.hpp"
#include "core/util/base64.hpp"
#include "fuzz_support.hpp"

using namespace abdm::crypto;
using abdm::fuzz::returns_or_refuses;

namespace {

void check_point_encodings(const Point& p) {
  Point raw, x509;
  FUZZ_ASSERT(returns_or_refuses("raw", [&] { raw = public_key_from_bytes(raw_public_key(p), "raw"); }),
              "a key's raw form parses");
  FUZZ_ASSERT(returns_or_refuses("x509", [&] { x509 = public_key_from_bytes(x509_public_key(p), "x509"); }),
              "a key's X.509 form parses");
  FUZZ_ASSERT(raw_public_key(raw) == raw_public_key(p) && raw_public_key(x509) == raw_public_key(p),
              "both encodings give the same point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Bytes: a public key (65 raw or 309 X.509) and a private key (Java BigInteger bytes).
  Point p;
  if (returns_or_refuses("public_key_from_bytes", [&] { p = public_key_from_bytes(bytes, "keyValue"); })) {
    if (size == kRawPublicKeySize) FUZZ_ASSERT(std::ranges::equal(raw_public_key(p), bytes), "raw re-encodes");
    else if (size == kX509PublicKeySize) FUZZ_ASSERT(std::ranges::equal(x509_public_key(p), bytes), "X.509 re-encodes");
    else abdm::fuzz::fail("a public key of " + std::to_string(size) + " bytes was accepted");
    check_point_encodings(p);
  }
  Scalar d;
  if (returns_or_refuses("private_key_from_java_bytes", [&] { d = private_key_from_java_bytes(bytes, "privateKey"); })) {
    Scalar again;
    FUZZ_ASSERT(returns_or_refuses("parse_private_key", [&] { again = parse_private_key(private_key_base64(d), "k"); }),
                "a private key's Java form parses");
    FUZZ_ASSERT(again == d, "private key round trip");
  }

  // Text: strict base64, then each key field that holds base64.
  std::vector<uint8_t> decoded;
  if (returns_or_refuses("base64_decode", [&] { decoded = abdm::base64_decode(text, "value"); })) {
    FUZZ_ASSERT(abdm::base64_encode(decoded) == text, "strict base64 decodes only canonical text");
    FUZZ_ASSERT(decoded.size() == abdm::base64_decoded_size(text, "value"), "decoded size");
  }
  if (returns_or_refuses("parse_public_key", [&] { p = parse_public_key(text, "keyValue"); })) {
    FUZZ_ASSERT(raw_public_key_base64(p) == text || x509_public_key_base64(p) == text, "a key's text re-encodes");
    check_point_encodings(p);
  }
  if (returns_or_refuses("parse_private_key", [&] { d = parse_private_key(text, "privateKey"); })) {
    FUZZ_ASSERT(returns_or_refuses("public_key_of", [&] { p = public_key_of(d); }), "a private key has a public key");
    check_point_encodings(p);
  }
  Nonce n;
  if (returns_or_refuses("parse_nonce", [&] { n = parse_nonce(text, "nonce"); }))
    FUZZ_ASSERT(abdm::base64_encode(n) == text, "a nonce re-encodes");
  return 0;
}
