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

Headers build_data_push_headers(const V3HeaderInput& in, std::chrono::system_clock::time_point now) {
  if (!in.access_token.empty()) return build_v3_headers(in, now);
  Headers h = build_v3_unauthenticated_headers(in.request_id, in.cm_id, now);
  require_value("X-HIP-ID", in.hip_id);
  h.push_back({"X-HIP-ID", std::string(in.hip_id)});
  return h;
}

Headers build_hook_headers(std::string_view request_id, std::chrono::system_clock::time_point now) {
  require_value("REQUEST-ID", request_id);
  return Headers{
      {"Content-Type", "application/json"},
      {"REQUEST-ID", std::string(request_id)},
      {"TIMESTAMP", format_v3_timestamp(now)},
  };
}

}  // namespace abdm::net
