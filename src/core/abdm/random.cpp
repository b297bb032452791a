#include "core/abdm/random.hpp"

#include <openssl/rand.h>

#include <limits>

#include "core/util/error.hpp"

namespace abdm::proto {

void random_bytes(unsigned char* out, std::size_t n) {
  // RAND_bytes takes an int; the protocol never needs more than a few dozen bytes at a time.
  while (n > 0) {
    const int chunk = n > 1u << 20 ? 1 << 20 : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1)
      throw Error(sqlstate::kInternal, "", "OpenSSL RAND_bytes failed");
    out += chunk;
    n -= static_cast<std::size_t>(chunk);
  }
}

std::uint32_t random_below(std::uint32_t bound) {
  if (bound == 0) throw Error(sqlstate::kInvalidParameter, "bound", "must be positive");
  // Accept only values below the largest multiple of `bound` that fits in 32 bits, so every
  // residue is equally likely.
  const std::uint64_t range = std::uint64_t{std::numeric_limits<std::uint32_t>::max()} + 1;
  const std::uint64_t limit = range - range % bound;
  for (;;) {
    unsigned char b[4];
    random_bytes(b, sizeof b);
    const std::uint64_t v = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) |
                            (std::uint64_t{b[2]} << 8) | std::uint64_t{b[3]};
    if (v < limit) return static_cast<std::uint32_t>(v % bound);
  }
}

}  // namespace abdm::proto
