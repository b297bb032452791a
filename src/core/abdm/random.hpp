// Cryptographically secure randomness for OTPs, salts and ids (OpenSSL RAND_bytes).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <cstdint>

namespace abdm::proto {

// Fills `out` with `n` CSPRNG bytes; throws abdm::Error (XX000) if the generator fails.
void random_bytes(unsigned char* out, std::size_t n);

// Uniform integer in [0, bound) without modulo bias (rejection sampling); bound > 0.
std::uint32_t random_below(std::uint32_t bound);

}  // namespace abdm::proto
