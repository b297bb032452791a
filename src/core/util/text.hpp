// Small text helpers the protocol code shares, in one place.
#pragma once

#include <string_view>

#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

namespace abdm::text {

// ASCII case-insensitive equality, independent of the C locale: HTTP header names, media types
// and identifier kinds ("MOBILE", "mobile") compare this way; no other letters are folded.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// ASCII whitespace as isspace() has it in the C locale (space, \t, \n, \v, \f, \r), whatever
// the process's locale: header values, error codes and FHIR codes are trimmed of these only.
constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// `s` without the ASCII whitespace around it.
constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace abdm::text
