// abdm_hip.inbound_check(path, headers, body): everything receive() needs to know about an
// inbound gateway call before it touches any table — which message it is, whether its headers and
// body are valid, and the parsed, normalised message. It never raises for bad input: a refusal
// comes back as {"ok": false, "status", "error": {"code", "message"}}, the answer a gateway would
// give (NHA M2 v2.8 error tables). The state changes are receive()'s, in SQL.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>

#include "core/abdm/error_reply.hpp"
#include "core/abdm/headers.hpp"
#include "core/abdm/inbound.hpp"
#include "core/abdm/time.hpp"
#include "pg/datum.hpp"
#include "pg/gucs.hpp"

namespace abdm_pg {
namespace {

using nlohmann::json;
namespace proto = abdm::proto;

json refusal(const proto::ErrorReply& reply) {
  return json{{"ok", false}, {"status", reply.http_status}, {"error", reply.body()["error"]}};
}

// The headers worth keeping in the inbox: everything but credentials.
json storable_headers(const json& headers) {
  json out = json::object();
  if (!headers.is_object()) return out;
  for (auto it = headers.begin(); it != headers.end(); ++it) {
    std::string lower = it.key();
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "authorization" || lower == "x-link-token" || lower == "cookie") continue;
    out[it.key()] = it.value();
  }
  return out;
}

json check(const std::string& path, const json& headers, const json& body) {
  json result{{"headers", storable_headers(headers)}};
  proto::MessageKind kind;
  try {
    kind = proto::route_path(path);
  } catch (const abdm::Error& e) {
    result.update(refusal(proto::error_reply(e)));
    return result;
  }
  result["kind"] = std::string(proto::kind_name(kind));
  // Keep what identifies the call even when something else is wrong, for the inbox.
  if (auto rid = proto::find_header(headers, "REQUEST-ID")) result["requestId"] = *rid;
  if (auto hip = proto::find_header(headers, "X-HIP-ID")) result["hipId"] = *hip;
  try {
    proto::HeaderPolicy policy;
    policy.max_age = std::chrono::seconds(abdm_max_request_age_s);
    policy.max_ahead = std::chrono::seconds(abdm_max_clock_skew_s);
    proto::InboundHeaders h = proto::validate_inbound_headers(headers, proto::now_utc(), policy);
    result["requestId"] = h.request_id;
    result["hipId"] = h.hip_id;
    proto::InboundMessage m = proto::parse_inbound(kind, body);
    result["message"] = proto::to_json(m);
    result["ok"] = true;
  } catch (const abdm::Error& e) {
    result.update(refusal(proto::error_reply(e)));
  }
  return result;
}

}  // namespace
}  // namespace abdm_pg

extern "C" {
PG_FUNCTION_INFO_V1(abdm_inbound_check);
PGDLLEXPORT Datum abdm_inbound_check(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string path = PG_ARGISNULL(0) ? std::string() : abdm_pg::arg_text(fcinfo, 0);
    nlohmann::json headers = PG_ARGISNULL(1) ? nlohmann::json::object() : abdm_pg::arg_jsonb(fcinfo, 1);
    nlohmann::json body = PG_ARGISNULL(2) ? nlohmann::json() : abdm_pg::arg_jsonb(fcinfo, 2);
    return abdm_pg::jsonb_datum(abdm_pg::check(path, headers, body));
  });
}
}
