#include "core/abdm/outbound_input.hpp"

#include <optional>
#include <string>
#include <vector>

#include "core/abdm/json_read.hpp"
#include "core/abdm/outbound.hpp"
#include "core/abdm/time.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {
namespace {

using nlohmann::json;

const std::string kBase = "input";

std::string req_str(const json& in, std::string_view key) {
  return json_read::req_string(in, key, kBase, json_read::kTextLen);
}
std::optional<std::string> opt_str(const json& in, std::string_view key) {
  return json_read::opt_string(in, key, kBase, json_read::kTextLen);
}
std::vector<std::string> str_list(const json& in, std::string_view key) {
  const std::string at = json_read::join(kBase, key);
  const json& list = json_read::req_array(in, key, kBase, /*allow_empty=*/true);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list.size(); ++i) out.push_back(json_read::as_string(list[i], json_read::index(at, i)));
  return out;
}
TimePoint time_of(const json& in, std::string_view key) {
  return parse_timestamp(req_str(in, key), json_read::join(kBase, key));
}

// {"error": {"code", "message"}} in the input selects a builder's error form.
bool has_error(const json& in) { return json_read::find(in, "error") != nullptr; }
std::string error_code(const json& in) {
  return json_read::req_string(json_read::req_object(in, "error", kBase), "code", "input.error");
}
std::string error_message(const json& in) {
  return json_read::req_string(json_read::req_object(in, "error", kBase), "message", "input.error", json_read::kTextLen);
}

}  // namespace

json build_outbound(std::string_view kind, const json& in) {
  if (!in.is_object()) throw Error(sqlstate::kInvalidParameter, "input", "must be a JSON object");
  if (kind == "generate_token") {
    GenerateTokenInput g;
    g.abha_number = opt_str(in, "abhaNumber");
    g.abha_address = opt_str(in, "abhaAddress");
    g.name = req_str(in, "name");
    g.gender = req_str(in, "gender");
    g.year_of_birth = static_cast<int>(json_read::req_int(in, "yearOfBirth", kBase, 1850, 2200));
    return generate_token(g);
  }
  if (kind == "link_carecontext") {
    std::optional<std::string> number = opt_str(in, "abhaNumber");
    std::optional<std::string_view> number_view;
    if (number) number_view = *number;
    return link_carecontext(number_view, req_str(in, "abhaAddress"),
                                   out_patient_from_json(in.value("patient", json())));
  }
  if (kind == "context_notify")
    return context_notify(req_str(in, "abhaAddress"), req_str(in, "patientReference"),
                                 req_str(in, "careContextReference"), str_list(in, "hiTypes"),
                                 time_of(in, "date"), req_str(in, "hipId"));
  if (kind == "sms_notify2") {
    std::optional<std::string> name = opt_str(in, "hipName");
    std::optional<std::string_view> name_view;
    if (name) name_view = *name;
    PhoneFormat format = phone_format_from(opt_str(in, "phoneFormat").value_or("10"), json_read::join(kBase, "phoneFormat"));
    std::optional<std::string> rid = opt_str(in, "requestId");
    std::optional<std::string_view> rid_view;
    std::optional<TimePoint> ts;
    if (rid) {
      rid_view = *rid;
      ts = now_utc();
    }
    return sms_notify2(req_str(in, "mobile"), req_str(in, "hipId"), name_view, format, rid_view, ts);
  }
  if (kind == "on_discover") {
    if (has_error(in))
      return on_discover_error(req_str(in, "transactionId"), req_str(in, "requestId"), error_code(in),
                                      error_message(in));
    return on_discover(req_str(in, "transactionId"), req_str(in, "requestId"),
                              out_patient_from_json(in.value("patient", json())), str_list(in, "matchedBy"));
  }
  if (kind == "on_init") {
    if (has_error(in))
      return on_init_error(req_str(in, "transactionId"), req_str(in, "requestId"), error_code(in),
                                  error_message(in));
    return on_init(req_str(in, "transactionId"), req_str(in, "requestId"), req_str(in, "linkRefNumber"),
                          authentication_type_from(opt_str(in, "authenticationType").value_or("MEDIATE"),
                                                   json_read::join(kBase, "authenticationType")),
                          req_str(in, "communicationHint"), time_of(in, "communicationExpiry"));
  }
  if (kind == "on_confirm") {
    if (has_error(in)) return on_confirm_error(req_str(in, "requestId"), error_code(in), error_message(in));
    return on_confirm(req_str(in, "requestId"), out_patient_from_json(in.value("patient", json())));
  }
  if (kind == "consent_on_notify") {
    if (has_error(in))
      return consent_on_notify_error(req_str(in, "requestId"), req_str(in, "consentId"), error_code(in),
                                            error_message(in));
    return consent_on_notify(req_str(in, "requestId"), req_str(in, "consentId"));
  }
  if (kind == "hi_on_request") {
    if (has_error(in))
      return hi_on_request_error(req_str(in, "requestId"), req_str(in, "transactionId"), error_code(in),
                                        error_message(in));
    return hi_on_request(req_str(in, "requestId"), req_str(in, "transactionId"));
  }
  if (kind == "hi_notify") {
    std::vector<CareContextTransferStatus> statuses;
    const json& list = json_read::req_array(in, "statuses", kBase, /*allow_empty=*/true);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string at = json_read::index(json_read::join(kBase, "statuses"), i);
      CareContextTransferStatus st;
      st.care_context_reference = json_read::req_string(list[i], "careContextReference", at);
      st.delivered = json_read::opt_bool(list[i], "delivered", at).value_or(false);
      st.description = json_read::opt_string(list[i], "description", at, json_read::kTextLen).value_or("");
      statuses.push_back(std::move(st));
    }
    return hi_notify(req_str(in, "consentId"), req_str(in, "transactionId"), time_of(in, "doneAt"),
                            req_str(in, "hipId"), json_read::opt_bool(in, "transferred", kBase).value_or(false), statuses);
  }
  if (kind == "patient_status_on_notify") return patient_status_on_notify(req_str(in, "requestId"));
  throw Error(sqlstate::kInvalidParameter, "kind", "no builder for outbound message \"" + std::string(kind) + "\"");
}

}  // namespace abdm::proto
