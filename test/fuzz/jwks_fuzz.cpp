// The gateway's JWKS document (core/auth/jwks): the text fetched from its certs endpoint.
// Asserts: a document is parsed or refused with abdm::Error(22023, field); every kept key is an
// RSA key of at least 2048 bits with a non-empty kid unique in the set, found by that kid; every
// skipped key has a reason; the log summary is one line.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/auth/jwks.hpp"
#include "fuzz_support.hpp"

using namespace abdm::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Jwks jwks;
  try {
    jwks = Jwks(text);
  } catch (const abdm::Error& e) {
    abdm::fuzz::check_error(e, "Jwks");
    FUZZ_ASSERT(e.sqlstate() == abdm::sqlstate::kInvalidParameter, std::string("Jwks refuses with 22023: ") + e.what());
    return 0;
  } catch (const std::exception& e) {
    abdm::fuzz::fail(std::string("Jwks threw something other than abdm::Error: ") + e.what());
  }
  std::set<std::string> kids;
  for (const JwksKey& k : jwks.keys()) {
    FUZZ_ASSERT(!k.kid().empty() && k.cjose_key() != nullptr, "a kept key has a kid and a key");
    FUZZ_ASSERT(k.bits() >= 2048, "a kept key has at least 2048 bits");
    FUZZ_ASSERT(k.alg().empty() || k.alg() == "RS256" || k.alg() == "RS512", "a kept key's alg: " + k.alg());
    FUZZ_ASSERT(kids.insert(k.kid()).second, "kids are unique");
    FUZZ_ASSERT(jwks.find(k.kid()) == &k, "find(kid) gives that key");
  }
  for (const SkippedJwk& s : jwks.skipped()) FUZZ_ASSERT(!s.reason.empty(), "a skipped key has a reason");
  const std::string summary = jwks.skipped_summary();
  FUZZ_ASSERT(summary.find('\n') == std::string::npos, "the skipped summary is one line");
  FUZZ_ASSERT(summary.empty() == jwks.skipped().empty(), "a summary exactly when keys were skipped");
  return 0;
}
