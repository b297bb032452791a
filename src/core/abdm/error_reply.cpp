#include "core/abdm/error_reply.hpp"

namespace abdm::proto {

nlohmann::json ErrorReply::body() const {
  return {{"error", {{"code", code}, {"message", message}}}};
}

ErrorReply error_reply(const Error& e) {
  if (const auto* pe = dynamic_cast<const ProtocolError*>(&e))
    return {pe->http_status(), pe->abdm_code(), pe->what()};
  return {400, code::kValidation, e.what()};
}

ErrorReply internal_error_reply() { return {500, code::kValidation, "Internal error"}; }

}  // namespace abdm::proto
