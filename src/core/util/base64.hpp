// Standard base64 (RFC 4648 §4: alphabet A–Z a–z 0–9 + /, '=' padding, no line breaks), the form
// every ABDM field uses for keys, nonces and encrypted content. Encoding and decoding run on
// OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock; this file adds the exact sizing and the strictness
// OpenSSL's block decoder lacks (it trims whitespace and reads '=' anywhere as 'A').
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace abdm {

// Characters base64 needs for n bytes: 4 * ceil(n / 3).
constexpr size_t base64_encoded_size(size_t n) { return (n + 2) / 3 * 4; }

// Writes exactly base64_encoded_size(in.size()) characters to out; no terminating NUL.
// The hot path: callers that own a pre-sized buffer (a PostgreSQL text, a std::string) encode into
// it directly.
void base64_encode_into(std::span<const uint8_t> in, char* out);

std::string base64_encode(std::span<const uint8_t> in);
std::string base64_encode(std::string_view bytes);

// Strict decoding. Anything but canonical padded standard base64 is refused with
// abdm::Error(22P02, field, ...): a length that is not a multiple of 4, a character outside the
// alphabet (whitespace, line breaks, URL-safe '-' '_'), '=' anywhere but the last two places,
// non-zero bits under the padding.
//
// Byte count `text` decodes to; checks the length and padding layout (not the characters).
size_t base64_decoded_size(std::string_view text, std::string_view field);
// Decodes into out, which must hold base64_decoded_size(text) bytes; returns that count.
size_t base64_decode_into(std::string_view text, uint8_t* out, std::string_view field);
std::vector<uint8_t> base64_decode(std::string_view text, std::string_view field);

}  // namespace abdm
