// Quoting untrusted text inside messages. Error messages echo bits of the offending input; the
// echo must stay valid UTF-8 (nlohmann::json refuses to serialise anything else, and PostgreSQL
// refuses it as text) and short.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>

namespace abdm::proto {

// At most `max_bytes` bytes of `s`, cut on a character boundary; bytes that are not well-formed
// UTF-8 become '?', and control characters become ' '. "…" is appended when something was cut.
std::string utf8_clip(std::string_view s, std::size_t max_bytes);

}  // namespace abdm::proto
