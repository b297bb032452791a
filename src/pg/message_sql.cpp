// SQL access to the core's outbound builders, so the SQL state machine never hand-builds a wire
// body: abdm_hip.build_message(kind, input) → the exact V3 body, abdm_hip.outbound_path(kind) →
// the gateway path. `input` is a small JSON object named after the builder's arguments.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <optional>
#include <string>
#include <vector>

#include "core/abdm/outbound.hpp"
#include "core/abdm/time.hpp"
#include "pg/datum.hpp"

namespace abdm_pg {
namespace {

using nlohmann::json;
namespace proto = abdm::proto;

std::string field(const std::string& key) { return "input." + key; }

std::string req_str(const json& in, const std::string& key) {
  if (!in.contains(key) || in[key].is_null())
    throw abdm::Error(abdm::sqlstate::kNotNull, field(key), "required");
  if (!in[key].is_string()) throw abdm::Error(abdm::sqlstate::kInvalidParameter, field(key), "must be a string");
  return in[key].get<std::string>();
}

std::optional<std::string> opt_str(const json& in, const std::string& key) {
  if (!in.contains(key) || in[key].is_null()) return std::nullopt;
  return req_str(in, key);
}

std::vector<std::string> str_list(const json& in, const std::string& key) {
  if (!in.contains(key) || !in[key].is_array())
    throw abdm::Error(abdm::sqlstate::kNotNull, field(key), "must be an array of strings");
  std::vector<std::string> out;
  for (const json& v : in[key]) {
    if (!v.is_string()) throw abdm::Error(abdm::sqlstate::kInvalidParameter, field(key), "must hold strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

proto::TimePoint time_of(const json& in, const std::string& key) {
  return proto::parse_timestamp(req_str(in, key), field(key));
}

// {"error": {"code", "message"}} in the input selects a builder's error form.
bool has_error(const json& in) { return in.contains("error") && in["error"].is_object(); }
std::string error_code(const json& in) { return req_str(in["error"], "code"); }
std::string error_message(const json& in) { return req_str(in["error"], "message"); }

json build(const std::string& kind, const json& in) {
  if (!in.is_object()) throw abdm::Error(abdm::sqlstate::kInvalidParameter, "input", "must be a JSON object");
  if (kind == "generate_token") {
    proto::GenerateTokenInput g;
    g.abha_number = opt_str(in, "abhaNumber");
    g.abha_address = opt_str(in, "abhaAddress");
    g.name = req_str(in, "name");
    g.gender = req_str(in, "gender");
    if (!in.contains("yearOfBirth") || !in["yearOfBirth"].is_number_integer())
      throw abdm::Error(abdm::sqlstate::kNotNull, field("yearOfBirth"), "required integer");
    g.year_of_birth = in["yearOfBirth"].get<int>();
    return proto::generate_token(g);
  }
  if (kind == "link_carecontext") {
    std::optional<std::string> number = opt_str(in, "abhaNumber");
    std::optional<std::string_view> number_view;
    if (number) number_view = *number;
    return proto::link_carecontext(number_view, req_str(in, "abhaAddress"),
                                   proto::out_patient_from_json(in.value("patient", json())));
  }
  if (kind == "context_notify")
    return proto::context_notify(req_str(in, "abhaAddress"), req_str(in, "patientReference"),
                                 req_str(in, "careContextReference"), str_list(in, "hiTypes"),
                                 time_of(in, "date"), req_str(in, "hipId"));
  if (kind == "sms_notify2") {
    std::optional<std::string> name = opt_str(in, "hipName");
    std::optional<std::string_view> name_view;
    if (name) name_view = *name;
    proto::PhoneFormat format = proto::phone_format_from(in.value("phoneFormat", "10"), field("phoneFormat"));
    std::optional<std::string> rid = opt_str(in, "requestId");
    std::optional<std::string_view> rid_view;
    std::optional<proto::TimePoint> ts;
    if (rid) {
      rid_view = *rid;
      ts = proto::now_utc();
    }
    return proto::sms_notify2(req_str(in, "mobile"), req_str(in, "hipId"), name_view, format, rid_view, ts);
  }
  if (kind == "on_discover") {
    if (has_error(in))
      return proto::on_discover_error(req_str(in, "transactionId"), req_str(in, "requestId"), error_code(in),
                                      error_message(in));
    return proto::on_discover(req_str(in, "transactionId"), req_str(in, "requestId"),
                              proto::out_patient_from_json(in.value("patient", json())), str_list(in, "matchedBy"));
  }
  if (kind == "on_init") {
    if (has_error(in))
      return proto::on_init_error(req_str(in, "transactionId"), req_str(in, "requestId"), error_code(in),
                                  error_message(in));
    return proto::on_init(req_str(in, "transactionId"), req_str(in, "requestId"), req_str(in, "linkRefNumber"),
                          proto::authentication_type_from(in.value("authenticationType", "MEDIATE"),
                                                          field("authenticationType")),
                          req_str(in, "communicationHint"), time_of(in, "communicationExpiry"));
  }
  if (kind == "on_confirm") {
    if (has_error(in)) return proto::on_confirm_error(req_str(in, "requestId"), error_code(in), error_message(in));
    return proto::on_confirm(req_str(in, "requestId"), proto::out_patient_from_json(in.value("patient", json())));
  }
  if (kind == "consent_on_notify") {
    if (has_error(in))
      return proto::consent_on_notify_error(req_str(in, "requestId"), req_str(in, "consentId"), error_code(in),
                                            error_message(in));
    return proto::consent_on_notify(req_str(in, "requestId"), req_str(in, "consentId"));
  }
  if (kind == "hi_on_request") {
    if (has_error(in))
      return proto::hi_on_request_error(req_str(in, "requestId"), req_str(in, "transactionId"), error_code(in),
                                        error_message(in));
    return proto::hi_on_request(req_str(in, "requestId"), req_str(in, "transactionId"));
  }
  if (kind == "hi_notify") {
    std::vector<proto::CareContextTransferStatus> statuses;
    if (!in.contains("statuses") || !in["statuses"].is_array())
      throw abdm::Error(abdm::sqlstate::kNotNull, field("statuses"), "must be an array");
    for (const json& s : in["statuses"]) {
      proto::CareContextTransferStatus st;
      st.care_context_reference = req_str(s, "careContextReference");
      st.delivered = s.value("delivered", false);
      st.description = s.value("description", "");
      statuses.push_back(std::move(st));
    }
    return proto::hi_notify(req_str(in, "consentId"), req_str(in, "transactionId"), time_of(in, "doneAt"),
                            req_str(in, "hipId"), in.value("transferred", false), statuses);
  }
  if (kind == "patient_status_on_notify") return proto::patient_status_on_notify(req_str(in, "requestId"));
  throw abdm::Error(abdm::sqlstate::kInvalidParameter, "kind", "no builder for outbound message \"" + kind + "\"");
}

}  // namespace
}  // namespace abdm_pg

extern "C" {
PG_FUNCTION_INFO_V1(abdm_build_message);
PGDLLEXPORT Datum abdm_build_message(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string kind = abdm_pg::arg_text(fcinfo, 0);
    nlohmann::json input = abdm_pg::arg_jsonb(fcinfo, 1);
    return abdm_pg::jsonb_datum(abdm_pg::build(kind, input));
  });
}

PG_FUNCTION_INFO_V1(abdm_outbound_path);
PGDLLEXPORT Datum abdm_outbound_path(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string kind = abdm_pg::arg_text(fcinfo, 0);
    const abdm::proto::OutboundEndpoint* e = abdm::proto::find_outbound_endpoint(kind);
    if (!e || e->path.empty())
      throw abdm::Error(abdm::sqlstate::kInvalidParameter, "kind", "no gateway endpoint named \"" + kind + "\"");
    return abdm_pg::text_datum(e->path);
  });
}
}
