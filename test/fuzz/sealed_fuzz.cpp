// Sealed secrets (core/crypto/sealed_secret): the stored form of the client secret, link tokens
// and OTPs, which the sender opens. The input is read two ways: as a stored value to open (what a
// changed or foreign row would hold), and as a plaintext to seal, open again and then alter.
// Asserts: opening returns or refuses with abdm::Error naming the field, and never returns for a
// value that was not sealed under this key and purpose; a sealed value opens to exactly its
// plaintext; any one character changed anywhere in a sealed value is refused.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto/sealed_secret.hpp"
#include "fuzz_support.hpp"

using namespace abdm::crypto;
using abdm::fuzz::returns_or_refuses;

namespace {

const SecretKey& key() {
  static const SecretKey k = [] {
    std::array<uint8_t, 32> b{};
    b.fill(0x2a);
    return secret_key_from_bytes(b);
  }();
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // As a stored value. Only a value this key sealed for this purpose may open; the seeds include
  // such values, so an opened one must seal and open again the same.
  std::string opened;
  if (returns_or_refuses("open", [&] { opened = open_secret(key(), "link_token", text, "X-LINK-TOKEN"); })) {
    FUZZ_ASSERT(text.starts_with("abdm-sealed:1:link_token:" + key().id + ":"), "only this key's link tokens open");
    FUZZ_ASSERT(open_secret(key(), "link_token", seal_secret(key(), "link_token", opened), "x") == opened,
                "what opened seals and opens again");
  }

  // As a plaintext: sealed, it opens to itself; changed in one place, it does not open.
  if (size > (1u << 20)) return 0;
  const std::string sealed = seal_secret(key(), "otp", text);
  FUZZ_ASSERT(open_secret(key(), "otp", sealed, "otp") == text, "a sealed value opens to its plaintext");
  if (size > 0) {
    std::string changed = sealed;
    const size_t at = (static_cast<size_t>(data[0]) * 131 + size) % changed.size();
    changed[at] = changed[at] == 'A' ? 'B' : 'A';
    FUZZ_ASSERT(!returns_or_refuses("changed", [&] { (void)open_secret(key(), "otp", changed, "otp"); }),
                "a changed sealed value is refused (position " + std::to_string(at) + ")");
  }
  return 0;
}
