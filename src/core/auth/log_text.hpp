// Text from a token or a JWKS that goes into a log line or an inbox row (kid, alg, iss): cut to a
// bound and without control characters, so a hostile value cannot flood or forge log lines.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <string>
#include <string_view>

namespace abdm::auth {

inline constexpr std::size_t kMaxLoggedChars = 200;

// The first kMaxLoggedChars bytes of `s`, each control character (< 0x20, 0x7f) replaced by '?'.
std::string log_text(std::string_view s);

}  // namespace abdm::auth
