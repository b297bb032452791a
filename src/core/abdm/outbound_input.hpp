// The outbound builders (outbound.hpp) behind one entry: a message kind and a small JSON object
// named after the builder's arguments, read with json_read, so a bad input names its field
// ("input.transactionId is required"). abdm_hip_internal.build_message(kind, input) is this function: the
// SQL state machine never hand-builds a wire body.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string_view>

#include <nlohmann/json.hpp>

namespace abdm::proto {

// The exact V3 body of `kind` (generate_token, link_carecontext, context_notify, sms_notify2,
// on_discover, on_init, on_confirm, consent_on_notify, hi_on_request, hi_notify,
// patient_status_on_notify). {"error": {"code", "message"}} in the input selects a callback's
// error form. abdm::Error on an unknown kind or a bad input.
nlohmann::json build_outbound(std::string_view kind, const nlohmann::json& input);

}  // namespace abdm::proto
