// The message receive() is handling, as the core parsed and validated it, kept for the handler's
// decision functions (abdm_hip_internal.match_patients, abdm_hip_internal.check_hi_request): they
// take the typed struct from here by (hip id, request id) instead of parsing the handler's JSON a
// second time. inbound_check() remembers an accepted message; the entry is valid only in the
// transaction that made it (a handler always runs in receive()'s transaction), so nothing from an
// earlier call can be mistaken for the current one.
#pragma once

#include <string>

#include "core/abdm/inbound.hpp"

namespace abdm_pg {

void remember_received(const std::string& hip_id, const std::string& request_id, abdm::proto::InboundMessage message);

// The typed message receive() accepted in this transaction under this id, of this kind; throws
// abdm::Error (SQLSTATE 55000, field "request_id") when there is none — the function was called
// outside receive()'s handler.
const abdm::proto::InboundMessage& received_message(const std::string& hip_id, const std::string& request_id,
                                                    abdm::proto::MessageKind kind);

template <class T>
const T& received_body(const std::string& hip_id, const std::string& request_id, abdm::proto::MessageKind kind) {
  return std::get<T>(received_message(hip_id, request_id, kind).body);
}

}  // namespace abdm_pg
