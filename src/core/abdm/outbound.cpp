#include "core/abdm/outbound.hpp"
#include "core/abdm/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

#include "core/abdm/hi_type.hpp"
#include "core/abdm/json_read.hpp"
#include "core/abdm/matching.hpp"
#include "core/abdm/uuid.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Endpoints (NHA M2 v2.8 §8 "API Listing"; NHA-ABDM/ABDM-wrapper application-v3.properties)

namespace {

constexpr std::array<OutboundEndpoint, 15> kEndpoints = {{
    {OutboundKind::kSession, "session", "POST", "/gateway/v3/sessions"},
    {OutboundKind::kCerts, "certs", "GET", "/gateway/v3/certs"},
    {OutboundKind::kOnDiscover, "on_discover", "POST", "/user-initiated-linking/v3/patient/care-context/on-discover"},
    {OutboundKind::kOnInit, "on_init", "POST", "/user-initiated-linking/v3/link/care-context/on-init"},
    {OutboundKind::kOnConfirm, "on_confirm", "POST", "/user-initiated-linking/v3/link/care-context/on-confirm"},
    {OutboundKind::kConsentOnNotify, "consent_on_notify", "POST", "/consent/v3/request/hip/on-notify"},
    {OutboundKind::kHiOnRequest, "hi_on_request", "POST", "/data-flow/v3/health-information/hip/on-request"},
    {OutboundKind::kHiNotify, "hi_notify", "POST", "/data-flow/v3/health-information/notify"},
    {OutboundKind::kGenerateToken, "generate_token", "POST", "/v3/token/generate-token"},
    {OutboundKind::kLinkCareContext, "link_carecontext", "POST", "/hip/v3/link/carecontext"},
    {OutboundKind::kContextNotify, "context_notify", "POST", "/hip/v3/link/context/notify"},
    {OutboundKind::kSmsNotify2, "sms_notify2", "POST", "/hip/v3/link/patient/links/sms/notify2"},
    // The only V3 HIP response on ABHA deactivation that NHA M2 v2.8 §8 lists.
    {OutboundKind::kPatientStatusOnNotify, "patient_status_on_notify", "POST", "/hip/v3/link/patient/links/hip/on-deactivate"},
    {OutboundKind::kDataPush, "data_push", "POST", ""},
    // NHA M2 v2.8 §3.2.4: the bridge's base URL; the gateway appends /api/v3/... to it.
    {OutboundKind::kBridgeUrl, "bridge_url", "PATCH", "/gateway/v3/bridge/url"},
}};

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw Error(sqlstate::kInvalidParameter, field, why);
}

void require(std::string_view value, const char* field) {
  if (value.empty()) throw Error(sqlstate::kNotNull, field, "is required");
}

json response_of(std::string_view request_id) {
  require(request_id, "request_id");
  return {{"requestId", request_id}};
}

json error_of(std::string_view code, std::string_view message) {
  require(code, "code");
  return {{"code", code}, {"message", message}};
}

}  // namespace

const OutboundEndpoint& outbound_endpoint(OutboundKind kind) {
  for (const auto& e : kEndpoints)
    if (e.kind == kind) return e;
  throw Error(sqlstate::kInternal, "kind", "unknown outbound kind");
}

const OutboundEndpoint* find_outbound_endpoint(std::string_view name) {
  for (const auto& e : kEndpoints)
    if (e.name == name) return &e;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Grouping

OutPatient out_patient_from_json(const json& j) {
  using namespace json_read;
  if (!j.is_object()) bad("patient", "must be an object");
  OutPatient p;
  p.reference_number = req_string(j, "referenceNumber", "", kIdLen);
  p.display = req_string(j, "display", "", kTextLen);
  const json& ccs = req_array(j, "careContexts", "", true, 100000);
  for (std::size_t i = 0; i < ccs.size(); ++i) {
    const std::string cp = index("careContexts", i);
    if (!ccs[i].is_object()) bad(cp, "must be an object");
    OutCareContext c;
    c.reference_number = req_string(ccs[i], "referenceNumber", cp, kIdLen);
    c.display = req_string(ccs[i], "display", cp, kTextLen);
    if (const json* one = find(ccs[i], "hiType")) c.hi_types.push_back(as_string(*one, join(cp, "hiType"), 64));
    if (const json* many = opt_array(ccs[i], "hiTypes", cp, 32))
      for (std::size_t k = 0; k < many->size(); ++k)
        c.hi_types.push_back(as_string((*many)[k], index(join(cp, "hiTypes"), k), 64));
    p.care_contexts.push_back(std::move(c));
  }
  return p;
}

json patient_entries(const OutPatient& p, std::size_t max_per_entry) {
  if (max_per_entry == 0) bad("max_per_entry", "must be positive");
  require(p.reference_number, "patient.referenceNumber");
  if (p.care_contexts.empty()) throw Error(sqlstate::kNotNull, "patient.careContexts", "no care context to send");
  // HI type → care contexts (input order, each reference once per type).
  std::map<std::size_t, std::vector<const OutCareContext*>> groups;
  for (std::size_t i = 0; i < p.care_contexts.size(); ++i) {
    const OutCareContext& c = p.care_contexts[i];
    const std::string path = "patient.careContexts[" + std::to_string(i) + "]";
    require(c.reference_number, "patient.careContexts.referenceNumber");
    if (c.hi_types.empty()) throw Error(sqlstate::kNotNull, path + ".hiTypes", "a care context needs at least one HI type");
    for (const auto& t : c.hi_types) {
      const std::size_t rank = hi_type_rank(require_hi_type(t, path + ".hiTypes"));
      auto& g = groups[rank];
      const bool dup = std::any_of(g.begin(), g.end(), [&](const OutCareContext* x) {
        return x->reference_number == c.reference_number;
      });
      if (!dup) g.push_back(&c);
    }
  }
  json out = json::array();
  for (const auto& [rank, members] : groups) {
    for (std::size_t start = 0; start < members.size(); start += max_per_entry) {
      const std::size_t end = std::min(members.size(), start + max_per_entry);
      json ccs = json::array();
      for (std::size_t k = start; k < end; ++k)
        ccs.push_back({{"referenceNumber", members[k]->reference_number}, {"display", members[k]->display}});
      out.push_back({{"referenceNumber", p.reference_number},
                     {"display", p.display},
                     {"careContexts", ccs},
                     {"hiType", kHiTypes[rank]},
                     {"count", end - start}});
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Answers

json on_discover(std::string_view transaction_id, std::string_view request_id, const OutPatient& patient,
                 const std::vector<std::string>& matched_by) {
  require(transaction_id, "transaction_id");
  if (matched_by.empty()) throw Error(sqlstate::kNotNull, "matched_by", "is required");
  return {{"transactionId", transaction_id},
          {"patient", patient_entries(patient)},
          {"matchedBy", matched_by},
          {"response", response_of(request_id)}};
}

json on_discover_error(std::string_view transaction_id, std::string_view request_id, std::string_view code,
                       std::string_view message) {
  require(transaction_id, "transaction_id");
  return {{"transactionId", transaction_id}, {"error", error_of(code, message)}, {"response", response_of(request_id)}};
}

std::string_view to_string(AuthenticationType t) { return t == AuthenticationType::kDirect ? "DIRECT" : "MEDIATE"; }

AuthenticationType authentication_type_from(std::string_view text, const std::string& field) {
  std::string up;
  for (char c : text) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (up == "MEDIATE") return AuthenticationType::kMediate;
  if (up == "DIRECT") return AuthenticationType::kDirect;
  bad(field, "must be MEDIATE or DIRECT, got \"" + utf8_clip(text, 32) + "\"");
}

json on_init(std::string_view transaction_id, std::string_view request_id, std::string_view link_reference,
             AuthenticationType authentication, std::string_view communication_hint, TimePoint expiry) {
  require(transaction_id, "transaction_id");
  require(link_reference, "link_reference");
  // ABDM refuses an empty communicationHint (NHA M2 v2.8 §5.3.7, ABDM-9999).
  require(communication_hint, "communication_hint");
  return {{"transactionId", transaction_id},
          {"link",
           {{"referenceNumber", link_reference},
            {"authenticationType", to_string(authentication)},
            {"meta",
             {{"communicationMedium", "MOBILE"},
              {"communicationHint", communication_hint},
              {"communicationExpiry", format_timestamp(expiry)}}}}},
          {"response", response_of(request_id)}};
}

json on_init_error(std::string_view transaction_id, std::string_view request_id, std::string_view code,
                   std::string_view message) {
  require(transaction_id, "transaction_id");
  return {{"transactionId", transaction_id}, {"error", error_of(code, message)}, {"response", response_of(request_id)}};
}

json on_confirm(std::string_view request_id, const OutPatient& patient) {
  return {{"patient", patient_entries(patient)}, {"response", response_of(request_id)}};
}

json on_confirm_error(std::string_view request_id, std::string_view code, std::string_view message) {
  return {{"error", error_of(code, message)}, {"response", response_of(request_id)}};
}

json consent_on_notify(std::string_view request_id, std::string_view consent_id) {
  require(consent_id, "consent_id");
  return {{"acknowledgement", {{"status", "OK"}, {"consentId", consent_id}}}, {"response", response_of(request_id)}};
}

json consent_on_notify_error(std::string_view request_id, std::string_view consent_id, std::string_view code,
                             std::string_view message) {
  json j = consent_on_notify(request_id, consent_id);
  j["error"] = error_of(code, message);
  return j;
}

json hi_on_request(std::string_view request_id, std::string_view transaction_id) {
  require(transaction_id, "transaction_id");
  return {{"hiRequest", {{"transactionId", transaction_id}, {"sessionStatus", "ACKNOWLEDGED"}}},
          {"response", response_of(request_id)}};
}

json hi_on_request_error(std::string_view request_id, std::string_view transaction_id, std::string_view code,
                         std::string_view message) {
  require(transaction_id, "transaction_id");
  return {{"hiRequest", {{"transactionId", transaction_id}, {"sessionStatus", "ERRORED"}}},
          {"error", error_of(code, message)},
          {"response", response_of(request_id)}};
}

json patient_status_on_notify(std::string_view request_id) {
  return {{"acknowledgement", {{"status", "OK"}}}, {"response", response_of(request_id)}};
}

// ---------------------------------------------------------------------------------------------
// HIP-initiated

json generate_token(const GenerateTokenInput& in) {
  json j = json::object();
  if (!in.abha_number && !in.abha_address)
    throw Error(sqlstate::kNotNull, "abhaNumber", "abhaNumber or abhaAddress is required (ABDM-1125)");
  if (in.abha_number) {
    auto digits = normalize_abha_number(*in.abha_number);
    if (!digits) bad("abhaNumber", "must be 14 digits");
    j["abhaNumber"] = std::stoll(*digits);
  }
  if (in.abha_address) {
    require(*in.abha_address, "abhaAddress");
    j["abhaAddress"] = *in.abha_address;
  }
  require(in.name, "name");
  j["name"] = in.name;
  if (in.gender != "M" && in.gender != "F" && in.gender != "O") bad("gender", "must be M, F or O");
  j["gender"] = in.gender;
  if (in.year_of_birth < 1850 || in.year_of_birth > 2200) bad("yearOfBirth", "out of range");
  j["yearOfBirth"] = in.year_of_birth;
  return j;
}

json link_carecontext(std::optional<std::string_view> abha_number, std::string_view abha_address,
                      const OutPatient& patient) {
  require(abha_address, "abhaAddress");
  json j = json::object();
  if (abha_number) {
    auto digits = normalize_abha_number(*abha_number);
    if (!digits) bad("abhaNumber", "must be 14 digits");
    j["abhaNumber"] = *digits;
  }
  j["abhaAddress"] = abha_address;
  j["patient"] = patient_entries(patient);
  return j;
}

json context_notify(std::string_view abha_address, std::string_view patient_reference,
                    std::string_view care_context_reference, const std::vector<std::string>& hi_types, TimePoint date,
                    std::string_view hip_id) {
  require(abha_address, "abhaAddress");
  require(patient_reference, "patientReference");
  require(care_context_reference, "careContextReference");
  require(hip_id, "hip_id");
  if (hi_types.empty()) throw Error(sqlstate::kNotNull, "hiTypes", "is required");
  json types = json::array();
  for (std::size_t i = 0; i < hi_types.size(); ++i) {
    std::string t = require_hi_type(hi_types[i], "hiTypes[" + std::to_string(i) + "]");
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  return {{"notification",
           {{"patient", {{"id", abha_address}}},
            {"careContext", {{"patientReference", patient_reference}, {"careContextReference", care_context_reference}}},
            {"hiTypes", types},
            {"date", format_timestamp(date)},
            {"hip", {{"id", hip_id}}}}}};
}

PhoneFormat phone_format_from(std::string_view text, const std::string& field) {
  if (text == "10" || text == "digits") return PhoneFormat::kTenDigits;
  if (text == "+91-") return PhoneFormat::kPlus91Dash;
  if (text == "91") return PhoneFormat::k91Prefix;
  bad(field, "must be \"10\", \"+91-\" or \"91\"");
}

std::string format_phone(std::string_view mobile, PhoneFormat format) {
  auto m = normalize_mobile(mobile);
  if (!m) bad("phoneNo", "not a 10-digit mobile number");
  switch (format) {
    case PhoneFormat::kTenDigits: return *m;
    case PhoneFormat::kPlus91Dash: return "+91-" + *m;
    case PhoneFormat::k91Prefix: return "91" + *m;
  }
  return *m;
}

json sms_notify2(std::string_view mobile, std::string_view hip_id, std::optional<std::string_view> hip_name,
                 PhoneFormat format, std::optional<std::string_view> request_id, std::optional<TimePoint> timestamp) {
  require(hip_id, "hip_id");
  json hip = json::object();
  if (hip_name && !hip_name->empty()) hip["name"] = *hip_name;
  hip["id"] = hip_id;
  json j = {{"notification", {{"phoneNo", format_phone(mobile, format)}, {"hip", hip}}}};
  if (request_id) {
    if (!is_uuid(*request_id)) bad("request_id", "must be a UUID");
    j["requestId"] = *request_id;
    j["timestamp"] = format_timestamp(timestamp.value_or(now_utc()));
  }
  return j;
}

// ---------------------------------------------------------------------------------------------
// Transfer

json hi_notify(std::string_view consent_id, std::string_view transaction_id, TimePoint done_at, std::string_view hip_id,
               bool transferred, const std::vector<CareContextTransferStatus>& statuses) {
  require(consent_id, "consent_id");
  require(transaction_id, "transaction_id");
  require(hip_id, "hip_id");
  json rs = json::array();
  for (const auto& s : statuses) {
    require(s.care_context_reference, "careContextReference");
    rs.push_back({{"careContextReference", s.care_context_reference},
                  {"hiStatus", s.delivered ? "DELIVERED" : "ERRORED"},
                  {"description", s.description.empty() ? (s.delivered ? "Delivered" : "Failed") : s.description}});
  }
  return {{"notification",
           {{"consentId", consent_id},
            {"transactionId", transaction_id},
            {"doneAt", format_timestamp(done_at)},
            {"notifier", {{"type", "HIP"}, {"id", hip_id}}},
            {"statusNotification",
             {{"sessionStatus", transferred ? "TRANSFERRED" : "FAILED"}, {"hipId", hip_id}, {"statusResponses", rs}}}}}};
}

json data_push(std::string_view transaction_id, int page_number, int page_count, const std::vector<PushEntry>& entries,
               const PushKeyMaterial& key) {
  require(transaction_id, "transaction_id");
  if (page_count < 1) bad("page_count", "must be at least 1");
  if (page_number < 0 || page_number > page_count) bad("page_number", "must be between 0 and page_count");
  require(key.key_value, "keyMaterial.dhPublicKey.keyValue");
  require(key.nonce, "keyMaterial.nonce");
  json es = json::array();
  for (const auto& e : entries) {
    require(e.content, "entries.content");
    require(e.care_context_reference, "entries.careContextReference");
    es.push_back({{"content", e.content},
                  {"media", e.media},
                  {"checksum", e.checksum},
                  {"careContextReference", e.care_context_reference}});
  }
  return {{"pageNumber", page_number},
          {"pageCount", page_count},
          {"transactionId", transaction_id},
          {"entries", es},
          {"keyMaterial",
           {{"cryptoAlg", "ECDH"},
            {"curve", "Curve25519"},
            {"dhPublicKey",
             {{"expiry", format_timestamp(key.expiry)}, {"parameters", key.parameters}, {"keyValue", key.key_value}}},
            {"nonce", key.nonce}}}};
}

}  // namespace abdm::proto
