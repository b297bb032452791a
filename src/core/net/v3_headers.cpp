#include "core/net/v3_headers.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

void require_value(std::string_view field, std::string_view value) {
  if (value.empty()) throw Error(sqlstate::kNotNull, std::string(field), "is required");
  if (value.find_first_of("\r\n") != std::string_view::npos)
    throw Error(sqlstate::kInvalidParameter, std::string(field), "contains a line break");
}

}  // namespace

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string new_request_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error(sqlstate::kInternal, "", "RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4 (RFC 9562 §5.4)
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // variant 10
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string format_v3_timestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms_total = time_point_cast<milliseconds>(t).time_since_epoch().count();
  auto secs = static_cast<std::time_t>(ms_total / 1000);
  auto ms = static_cast<int>(ms_total % 1000);
  if (ms < 0) {  // before 1970: floor, not truncate
    ms += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return out;
}

Headers build_v3_unauthenticated_headers(std::string_view request_id, std::string_view cm_id,
                                         std::chrono::system_clock::time_point now) {
  require_value("REQUEST-ID", request_id);
  if (!is_uuid(request_id))
    throw Error(sqlstate::kInvalidText, "REQUEST-ID", "must be a UUID (36 characters)");
  require_value("X-CM-ID", cm_id);
  return Headers{
      {"REQUEST-ID", std::string(request_id)},
      {"TIMESTAMP", format_v3_timestamp(now)},
      {"X-CM-ID", std::string(cm_id)},
      {"Content-Type", "application/json"},
  };
}

Headers build_v3_headers(const V3HeaderInput& in, std::chrono::system_clock::time_point now) {
  require_value("access_token", in.access_token);
  Headers h;
  h.reserve(7);
  h.push_back({"Authorization", "Bearer " + std::string(in.access_token)});
  for (auto& x : build_v3_unauthenticated_headers(in.request_id, in.cm_id, now))
    h.push_back(std::move(x));
  if (!in.hip_id.empty()) {
    require_value("X-HIP-ID", in.hip_id);
    h.push_back({"X-HIP-ID", std::string(in.hip_id)});
  }
  if (!in.link_token.empty()) {
    require_value("X-LINK-TOKEN", in.link_token);
    h.push_back({"X-LINK-TOKEN", std::string(in.link_token)});
  }
  return h;
}

}  // namespace abdm::net
