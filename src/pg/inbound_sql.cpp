// abdm_hip_internal.inbound_check(path, headers, body): everything receive() needs to know about an
// inbound gateway call before it touches any table — which message it is, whether its headers and
// body are valid, and the parsed, normalised message. It never raises for bad input: a refusal
// comes back as {"ok": false, "status", "error": {"code", "message"}}, the answer a gateway would
// give (NHA M2 v2.8 error tables). The state changes are receive()'s, in SQL; the triage is the
// core's (core/abdm/receive: inbound_check), the same the bridge listener will use. An accepted
// message is also kept, typed, for the handler's decision functions (pg/received_message).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <chrono>
#include <string>

#include "core/abdm/receive.hpp"
#include "core/abdm/time.hpp"
#include "pg/datum.hpp"
#include "pg/gucs.hpp"
#include "pg/received_message.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_inbound_check);
PGDLLEXPORT Datum abdm_inbound_check(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string path = PG_ARGISNULL(0) ? std::string() : abdm_pg::arg_text(fcinfo, 0);
    // Parsed without raising: valid jsonb can still hold a number beyond a double, and a
    // refusal here must be an answer, not an ERROR out of receive().
    nlohmann::json headers = PG_ARGISNULL(1) ? nlohmann::json::object()
                                              : nlohmann::json::parse(abdm_pg::arg_jsonb_text(fcinfo, 1), nullptr, false);
    // As text, so the body's size is checked before it is parsed (the listener's limit applies
    // to a caller of receive() that is not the listener, too).
    std::string body = PG_ARGISNULL(2) ? std::string() : abdm_pg::arg_jsonb_text(fcinfo, 2);
    abdm::proto::HeaderPolicy policy;
    policy.max_age = std::chrono::seconds(abdm_max_request_age_s);
    policy.max_ahead = std::chrono::seconds(abdm_max_clock_skew_s);
    const bool headers_read = !headers.is_discarded();
    if (!headers_read) headers = nlohmann::json::object();
    abdm::proto::Triage t =
        headers_read ? abdm::proto::triage_inbound_text(path, headers, body, abdm::proto::now_utc(), policy,
                                                        static_cast<std::size_t>(abdm_listen_max_body))
                     : abdm::proto::triage_unreadable_headers(path);
    nlohmann::json result = abdm::proto::inbound_check_result(t, headers);
    // The handler's decision functions take the typed message from here (pg/received_message).
    if (t.accepted)
      abdm_pg::remember_received(t.accepted->headers.hip_id, t.accepted->headers.request_id,
                                 std::move(t.accepted->message));
    return abdm_pg::jsonb_datum(result);
  });
}
}
