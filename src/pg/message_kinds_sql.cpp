// abdm_hip_internal.message_kinds_json() → jsonb: the core's table of inbound message kinds
// (core/abdm/message_kinds) as [{"name", "path", "handler", "reply"}], for
// abdm_hip_internal.check_message_kinds(), which the install and upgrade scripts run last: a kind
// whose SQL handler the script did not create stops CREATE EXTENSION / ALTER EXTENSION UPDATE.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include "core/abdm/message_kinds.hpp"
#include "pg/datum.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_message_kinds_json);
PGDLLEXPORT Datum abdm_message_kinds_json(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    namespace proto = abdm::proto;
    nlohmann::json kinds = nlohmann::json::array();
    for (const proto::MessageKindSpec& k : proto::message_kinds())
      kinds.push_back({{"name", k.name}, {"path", k.path}, {"handler", k.handler},
                       {"reply", k.reply ? nlohmann::json(proto::outbound_endpoint(*k.reply).name) : nlohmann::json()}});
    return abdm_pg::jsonb_datum(kinds);
  });
}
}
