#include "core/auth/base64url.hpp"

#include <cjose/base64.h>
#include <cjose/util.h>

#include <cstdint>

namespace abdm::auth {

bool is_base64url(std::string_view text) noexcept {
  if (text.size() % 4 == 1) return false;
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (!is_base64url(text)) return std::nullopt;
  uint8_t* out = nullptr;
  size_t out_len = 0;
  cjose_err err{};
  if (!cjose_base64url_decode(text.data(), text.size(), &out, &out_len, &err) || out == nullptr)
    return std::nullopt;
  // cjose allocates with its own allocator (cjose_get_alloc); release it with the matching one
  // before anything below can throw.
  std::string bytes;
  try {
    bytes.assign(reinterpret_cast<const char*>(out), out_len);
  } catch (...) {
    cjose_get_dealloc()(out);
    throw;
  }
  cjose_get_dealloc()(out);
  return bytes;
}

}  // namespace abdm::auth
