#include "core/abdm/receive.hpp"

namespace abdm::proto {

int accepted_status(MessageKind) { return 202; }

namespace {

// Route → headers → body, so an unknown path is a 404 and a bad header a 403/400 whatever the
// body holds. `get_body` yields the JSON body or throws a ProtocolError.
template <class GetBody>
Triage run(std::string_view path, const nlohmann::json& headers, TimePoint now, const HeaderPolicy& policy,
           GetBody&& get_body) {
  try {
    const MessageKind kind = route_path(path);
    InboundHeaders h = validate_inbound_headers(headers, now, policy);
    InboundMessage m = parse_inbound(kind, get_body());
    nlohmann::json normalized = to_json(m);
    return {accepted_status(kind), nullptr, AcceptedMessage{std::move(h), std::move(m), std::move(normalized)}, ""};
  } catch (const Error& e) {
    const ErrorReply r = error_reply(e);
    return {r.http_status, r.body(), std::nullopt, e.field()};
  }
}

}  // namespace

Triage triage_inbound(std::string_view path, const nlohmann::json& headers, const nlohmann::json& body, TimePoint now,
                      const HeaderPolicy& policy) {
  return run(path, headers, now, policy, [&]() -> const nlohmann::json& { return body; });
}

Triage triage_inbound_text(std::string_view path, const nlohmann::json& headers, std::string_view body_text,
                           TimePoint now, const HeaderPolicy& policy) {
  return run(path, headers, now, policy, [&]() -> nlohmann::json {
    if (body_text.size() > kMaxBodyBytes)
      throw ProtocolError(413, code::kValidation, sqlstate::kInvalidParameter, "body",
                          "larger than " + std::to_string(kMaxBodyBytes) + " bytes");
    if (body_text.find_first_not_of(" \t\r\n") == std::string_view::npos) return nullptr;  // → ABDM-1064
    nlohmann::json body = nlohmann::json::parse(body_text.begin(), body_text.end(), nullptr, false);
    if (body.is_discarded())
      throw ProtocolError(400, code::kValidation, sqlstate::kInvalidText, "body", "not valid JSON");
    return body;
  });
}

}  // namespace abdm::proto
