// Strict base64url (RFC 4648 §5, unpadded, as JWS compact serialisation requires: RFC 7515 §2 and
// §7.1). Decoding runs on cjose's decoder, but only after this file's own alphabet check: cjose's
// decoder stops silently at the first '=' and, for some inputs with '=' early ("a=bc"), reaches an
// assert() that aborts the process — so no text reaches cjose unchecked.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <optional>
#include <string>
#include <string_view>

namespace abdm::auth {

// True when `text` is unpadded base64url: only A–Z a–z 0–9 '-' '_', and a length that is not 1
// modulo 4 (no byte count encodes to that). The empty string is valid (zero bytes).
bool is_base64url(std::string_view text) noexcept;

// The bytes `text` encodes, or nullopt when it is not is_base64url(). Never throws for bad input.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace abdm::auth
