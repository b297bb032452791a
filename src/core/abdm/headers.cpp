#include "core/abdm/headers.hpp"
#include "core/abdm/text.hpp"

#include <cctype>

#include "core/abdm/error_reply.hpp"
#include "core/abdm/uuid.hpp"
#include "core/util/text.hpp"

namespace abdm::proto {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
    char y = static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
    if (x == '_') x = '-';
    if (y == '_') y = '-';
    if (x != y) return false;
  }
  return true;
}

[[noreturn]] void access_denied(const char* header) {
  throw ProtocolError(403, code::kValidation, sqlstate_ext::kAccessDenied, header, "Access Denied: header missing or blank");
}

std::string required(const nlohmann::json& headers, const char* name) {
  auto v = find_header(headers, name);
  if (!v || v->empty()) access_denied(name);
  return *v;
}

}  // namespace

std::optional<std::string> find_header(const nlohmann::json& headers, std::string_view name) {
  if (!headers.is_object()) return std::nullopt;
  for (const auto& [key, value] : headers.items()) {
    if (!same_name(key, name)) continue;
    if (value.is_string()) return std::string(text::trim(value.get<std::string>()));
    if (value.is_array() && !value.empty() && value[0].is_string()) return std::string(text::trim(value[0].get<std::string>()));
    return std::string{};  // present but not text: treated as blank
  }
  return std::nullopt;
}

InboundHeaders validate_inbound_headers(const nlohmann::json& headers, TimePoint now,
                                        const HeaderPolicy& policy) {
  if (!headers.is_object() && !headers.is_null())
    throw ProtocolError(400, code::kValidation, sqlstate::kInvalidParameter, "headers",
                        "must be a JSON object of header names to values");
  InboundHeaders h;
  h.request_id = required(headers, "REQUEST-ID");
  h.timestamp = required(headers, "TIMESTAMP");
  if (policy.require_hip_id) h.hip_id = required(headers, "X-HIP-ID");
  else h.hip_id = find_header(headers, "X-HIP-ID").value_or("");

  if (!is_uuid(h.request_id))
    throw ProtocolError(400, code::kInvalidRequestId, sqlstate::kInvalidParameter, "REQUEST-ID",
                        "Invalid request ID: not a UUID");
  try {
    h.timestamp_at = parse_timestamp(h.timestamp, "TIMESTAMP", TimestampMode::kStrictUtc);
  } catch (const Error& e) {
    throw ProtocolError(400, code::kInvalidTimestamp, e.sqlstate(), "TIMESTAMP",
                        std::string("Invalid Timestamp: ") + e.what());
  }
  if (h.timestamp_at < now - policy.max_age || h.timestamp_at > now + policy.max_ahead)
    throw ProtocolError(400, code::kInvalidTimestamp, sqlstate::kInvalidParameter, "TIMESTAMP",
                        "Invalid Timestamp: " + utf8_clip(h.timestamp, 64) + " is outside the accepted window around " +
                            format_timestamp(now));
  if (h.hip_id.size() > 64)
    throw ProtocolError(400, code::kInvalidHipIdOrOtp, sqlstate::kInvalidParameter, "X-HIP-ID",
                        "Invalid HIP ID: longer than 64 characters");
  if (auto cm = find_header(headers, "X-CM-ID"); cm && !cm->empty()) h.cm_id = *cm;
  if (auto auth = find_header(headers, "Authorization"); auth && !auth->empty()) h.authorization = *auth;
  return h;
}

nlohmann::json InboundHeaders::to_json() const {
  nlohmann::json j = {{"requestId", request_id}, {"timestamp", format_timestamp(timestamp_at)},
                      {"hipId", hip_id}};
  if (cm_id) j["cmId"] = *cm_id;
  // Authorization is deliberately left out: it is a credential and must not be stored.
  return j;
}

}  // namespace abdm::proto
