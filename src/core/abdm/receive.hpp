// The first step of receive(): everything about an inbound gateway call that needs no database.
// Route the path (404), check the headers (403 / 400 ABDM-1030 / ABDM-1016), parse and validate
// the body (400 ABDM-1064 / ABDM-9999), in that order, and produce either the normalised message
// the SQL layer stores and acts on, or the HTTP status and ABDM error object to answer with.
// The HIP acknowledges at once and answers later by callback (abdm-docs Working_with_ABDM_APIs.md;
// the gateway treats any 2xx as accepted, ProjectEKA/gateway clients/ServiceClient.java).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "core/abdm/error_reply.hpp"
#include "core/abdm/headers.hpp"
#include "core/abdm/inbound.hpp"

namespace abdm::proto {

// Largest request body accepted by default (bytes of compact JSON text; abdm_hip.listen_max_body
// sets it); a consent artefact is a few kB.
inline constexpr std::size_t kMaxBodyBytes = 1 << 20;

// The size of `json_text` written compactly: its bytes less the whitespace outside strings. The
// same body measures the same whether it arrives pretty-printed, compact, or rendered back from
// jsonb (which adds a space after every ':' and ','), so receive() never refuses a body that the
// listener took under the same limit.
std::size_t compact_json_size(std::string_view json_text);

struct AcceptedMessage {
  InboundHeaders headers;
  InboundMessage message;
  nlohmann::json normalized;  // to_json(message)
};

struct Triage {
  std::optional<MessageKind> kind;  // known once the path is routed
  int http_status = 202;
  nlohmann::json reply_body;  // null for an accepted message, {"error": {...}} otherwise
  std::optional<AcceptedMessage> accepted;
  std::string field;  // the offending field of a refusal ("" when accepted)
};

// Never throws for bad input: every abdm::Error becomes the refusal a gateway would give.
// (Only std::bad_alloc and the like propagate.)
Triage triage_inbound(std::string_view path, const nlohmann::json& headers, const nlohmann::json& body, TimePoint now,
                      const HeaderPolicy& policy = {});

// The body as text (receive()'s jsonb rendered by the glue). Larger than max_body_bytes
// (compact_json_size) → 413, checked before the text is parsed; text that is not JSON → 400
// ABDM-9999 "body: not valid JSON"; empty → 400 ABDM-1064.
Triage triage_inbound_text(std::string_view path, const nlohmann::json& headers, std::string_view body_text,
                           TimePoint now, const HeaderPolicy& policy = {},
                           std::size_t max_body_bytes = kMaxBodyBytes);

// Headers that the glue could not turn into JSON: a jsonb number beyond a double's range is valid
// jsonb but not a number the core can hold. 404 for an unknown path, else 400 naming "headers".
Triage triage_unreadable_headers(std::string_view path);

// What receive() (sql/schema/70_receive.sql, through abdm_hip_internal.inbound_check) needs
// before it touches a table: {"headers": the headers minus credentials, "kind", "handler" (the
// kind's SQL handler, core/abdm/message_kinds), "requestId", "hipId",
// "ok": true, "message": the normalised message} or, refused, {"ok": false, "status", "error":
// {"code", "message"}}, with kind, requestId and hipId kept as far as they could be read, for the
// inbox. Never throws for bad input.
nlohmann::json inbound_check(std::string_view path, const nlohmann::json& headers, const nlohmann::json& body,
                             TimePoint now, const HeaderPolicy& policy = {});

// HTTP status of an accepted message: 202 for every path. (NHA M2 v2.8 prints 200 for discover
// and link init; both are 2xx, which is all the gateway checks.)
int accepted_status(MessageKind kind);

// inbound_check's answer for a triage already made (the SQL glue keeps the typed message too).
nlohmann::json inbound_check_result(const Triage& t, const nlohmann::json& headers);

}  // namespace abdm::proto
