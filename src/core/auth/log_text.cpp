#include "core/auth/log_text.hpp"

namespace abdm::auth {

std::string log_text(std::string_view s) {
  std::string out(s.substr(0, kMaxLoggedChars));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

}  // namespace abdm::auth
