// One description per inbound message kind: everything the extension knows about a call the
// gateway makes to this HIP, in one row of one table (message_kinds.cpp) — its stable name, its
// canonical path and the older spellings the router also accepts, the parser that makes the typed
// struct of its body, the function that writes the struct back as the normalised JSON the SQL
// handler acts on, the SQL handler that changes state, and the outbound message that handler
// answers with.
//
// Adding a kind is one enum value, one struct in the InboundBody variant (same position), one
// parser, one to_json and one row here. What cannot be forgotten:
// - a kind without its row, a row out of order, or a row whose struct is not the variant's
//   alternative at the kind's position fails to compile (static_asserts in message_kinds.cpp);
// - a row whose SQL handler the install script does not create fails CREATE EXTENSION and
//   ALTER EXTENSION UPDATE (abdm_hip.check_message_kinds(), run at the end of the script).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <array>
#include <optional>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/abdm/inbound.hpp"
#include "core/abdm/outbound.hpp"

namespace abdm::proto {

struct MessageKindSpec {
  MessageKind kind;
  std::string_view name;  // stable short name for tables and logs ("discover")
  std::string_view path;  // canonical V3 path ("/api/v3/hip/patient/care-context/discover")
  // Further route suffixes (after ".../v3/") the router accepts for this kind; "" ends the list.
  std::array<std::string_view, 3> aliases;
  // The SQL function receive() hands the message to: (hip_id text, request_id uuid, msg jsonb).
  std::string_view handler;
  // The message the handler queues in answer; none for the callbacks that answer this HIP.
  std::optional<OutboundKind> reply;
  InboundBody (*parse)(const nlohmann::json& body);  // validates; throws abdm::Error naming the field
  nlohmann::json (*to_json)(const InboundBody& body);  // the normalised form (without "kind")
};

// Every kind, in MessageKind order.
std::span<const MessageKindSpec> message_kinds();

// The row of a kind.
const MessageKindSpec& message_kind(MessageKind kind);

}  // namespace abdm::proto
