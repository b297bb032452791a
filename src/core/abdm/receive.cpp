#include "core/abdm/receive.hpp"

#include <cctype>
#include <string>

#include "core/abdm/message_kinds.hpp"

namespace abdm::proto {

int accepted_status(MessageKind) { return 202; }

namespace {

void refuse(Triage& t, const Error& e) {
  const ErrorReply r = error_reply(e);
  t.http_status = r.http_status;
  t.reply_body = r.body();
  t.field = e.field();
}

// Route → headers → body, so an unknown path is a 404 and a bad header a 403/400 whatever the
// body holds. `get_body` yields the JSON body or throws a ProtocolError.
template <class GetBody>
Triage run(std::string_view path, const nlohmann::json& headers, TimePoint now, const HeaderPolicy& policy,
           GetBody&& get_body) {
  Triage t;
  try {
    t.kind = route_path(path);
    InboundHeaders h = validate_inbound_headers(headers, now, policy);
    InboundMessage m = parse_inbound(*t.kind, get_body());
    nlohmann::json normalized = to_json(m);
    t.http_status = accepted_status(*t.kind);
    t.accepted = AcceptedMessage{std::move(h), std::move(m), std::move(normalized)};
  } catch (const Error& e) {
    refuse(t, e);
  }
  return t;
}

// The headers worth keeping in the inbox: everything but credentials.
nlohmann::json storable_headers(const nlohmann::json& headers) {
  nlohmann::json out = nlohmann::json::object();
  if (!headers.is_object()) return out;
  for (auto it = headers.begin(); it != headers.end(); ++it) {
    std::string lower = it.key();
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "authorization" || lower == "x-link-token" || lower == "cookie") continue;
    out[it.key()] = it.value();
  }
  return out;
}

}  // namespace

Triage triage_inbound(std::string_view path, const nlohmann::json& headers, const nlohmann::json& body, TimePoint now,
                      const HeaderPolicy& policy) {
  return run(path, headers, now, policy, [&]() -> const nlohmann::json& { return body; });
}

std::size_t compact_json_size(std::string_view text) {
  std::size_t n = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      ++n;
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      ++n;
      in_string = true;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      ++n;
    }
  }
  return n;
}

Triage triage_inbound_text(std::string_view path, const nlohmann::json& headers, std::string_view body_text,
                           TimePoint now, const HeaderPolicy& policy, std::size_t max_body_bytes) {
  return run(path, headers, now, policy, [&]() -> nlohmann::json {
    if (compact_json_size(body_text) > max_body_bytes)
      throw ProtocolError(413, code::kValidation, sqlstate::kInvalidParameter, "body",
                          "larger than " + std::to_string(max_body_bytes) + " bytes (abdm_hip.listen_max_body)");
    if (body_text.find_first_not_of(" \t\r\n") == std::string_view::npos) return nullptr;  // → ABDM-1064
    nlohmann::json body = nlohmann::json::parse(body_text.begin(), body_text.end(), nullptr, false);
    if (body.is_discarded())
      throw ProtocolError(400, code::kValidation, sqlstate::kInvalidText, "body", "not valid JSON");
    return body;
  });
}

Triage triage_unreadable_headers(std::string_view path) {
  Triage t;
  try {
    t.kind = route_path(path);
    throw ProtocolError(400, code::kValidation, sqlstate::kInvalidText, "headers",
                        "not valid JSON (a number out of range?)");
  } catch (const Error& e) {
    refuse(t, e);
  }
  return t;
}

nlohmann::json inbound_check_result(const Triage& t, const nlohmann::json& headers) {
  nlohmann::json result{{"headers", storable_headers(headers)}};
  if (t.kind) {
    result["kind"] = std::string(kind_name(*t.kind));
    result["handler"] = std::string(message_kind(*t.kind).handler);
  }
  if (t.accepted) {
    result["requestId"] = t.accepted->headers.request_id;
    result["hipId"] = t.accepted->headers.hip_id;
    result["message"] = t.accepted->normalized;
    result["ok"] = true;
    return result;
  }
  // Keep what identifies the call even when something is wrong with it, for the inbox.
  if (t.kind) {
    if (auto rid = find_header(headers, "REQUEST-ID")) result["requestId"] = *rid;
    if (auto hip = find_header(headers, "X-HIP-ID")) result["hipId"] = *hip;
  }
  result["ok"] = false;
  result["status"] = t.http_status;
  result["error"] = t.reply_body["error"];
  return result;
}

nlohmann::json inbound_check(std::string_view path, const nlohmann::json& headers, const nlohmann::json& body,
                             TimePoint now, const HeaderPolicy& policy) {
  return inbound_check_result(triage_inbound(path, headers, body, now, policy), headers);
}

}  // namespace abdm::proto
