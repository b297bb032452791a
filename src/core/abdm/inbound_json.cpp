// The normalised JSON form of each parsed inbound message: what receive() records in the inbox and
// hands the SQL handlers (sql/schema/*.sql read it by these names). Parsing this form again gives
// the same message (inbound_test checks the round trip).
#include "core/abdm/inbound.hpp"

#include "core/abdm/matching.hpp"
#include "core/abdm/message_kinds.hpp"
#include "core/abdm/text.hpp"
#include "core/abdm/time.hpp"

namespace abdm::proto {

using nlohmann::json;

namespace {
// An absent message stays absent ("" would not parse again; the SQL handlers coalesce a missing one).
json error_json(const CallbackError& e) {
  json j = {{"code", e.code}};
  if (!e.message.empty()) j["message"] = e.message;
  return j;
}
void put_opt(json& j, const char* key, const std::optional<std::string>& v) {
  if (v) j[key] = *v;
}
void put_error(json& j, const std::optional<CallbackError>& e) {
  if (e) j["error"] = error_json(*e);
}
}  // namespace

json to_json(const DiscoverRequest& m) {
  auto ids = [](const std::vector<Identifier>& v) {
    json a = json::array();
    for (const auto& i : v) a.push_back({{"type", i.type}, {"value", i.value}});
    return a;
  };
  json j = {{"transactionId", m.transaction_id},
            {"patient",
             {{"id", m.abha_address},
              {"verifiedIdentifiers", ids(m.verified_identifiers)},
              {"unverifiedIdentifiers", ids(m.unverified_identifiers)},
              {"name", m.name},
              {"gender", m.gender},
              {"yearOfBirth", m.year_of_birth}}}};
  // Derived keys the SQL layer looks candidates up by (indexed columns).
  json derived = json::object();
  if (auto mob = m.identifier("MOBILE", true))
    if (auto n = normalize_mobile(*mob)) derived["mobile"] = *n;
  if (auto num = m.identifier("ABHA_NUMBER", true))
    if (auto n = normalize_abha_number(*num)) derived["abhaNumber"] = *n;
  if (auto mr = m.identifier("MR", false)) derived["mr"] = *mr;
  derived["abhaAddress"] = m.abha_address;
  derived["normalizedName"] = normalize_name(m.name);
  j["match"] = derived;
  return j;
}

json to_json(const LinkInitRequest& m) {
  json pats = json::array();
  for (const auto& p : m.patients) {
    json ccs = json::array();
    for (const auto& c : p.care_contexts) {
      json cj = {{"referenceNumber", c.reference_number}};
      put_opt(cj, "display", c.display);
      ccs.push_back(cj);
    }
    json pj = {{"referenceNumber", p.reference_number}, {"careContexts", ccs}, {"count", p.care_contexts.size()}};
    put_opt(pj, "hiType", p.hi_type);
    pats.push_back(pj);
  }
  return {{"transactionId", m.transaction_id}, {"abhaAddress", m.abha_address}, {"patient", pats}};
}

json to_json(const LinkConfirmRequest& m) {
  return {{"confirmation", {{"linkRefNumber", m.link_ref_number}, {"token", m.token}}}};
}

json to_json(const ConsentNotify& m) {
  json n = {{"status", m.status}, {"consentId", m.consent_id}};
  if (m.detail) {
    const ConsentDetail& d = *m.detail;
    json ccs = json::array();
    for (const auto& c : d.care_contexts)
      ccs.push_back({{"patientReference", c.patient_reference}, {"careContextReference", c.care_context_reference}});
    // purpose.text is optional and never empty when sent: an absent one stays absent, so the
    // normalised message parses again (as_string refuses ""; found by test/fuzz/inbound_fuzz).
    json purpose = {{"code", d.purpose_code}};
    if (!d.purpose_text.empty()) purpose["text"] = d.purpose_text;
    put_opt(purpose, "refUri", d.purpose_ref_uri);
    json hip = {{"id", d.hip_id}};
    put_opt(hip, "name", d.hip_name);
    json perm = {{"accessMode", d.access_mode},
                 {"dateRange", {{"from", format_timestamp(d.date_from)}, {"to", format_timestamp(d.date_to)}}},
                 {"dataEraseAt", format_timestamp(d.data_erase_at)}};
    if (d.frequency)
      perm["frequency"] = {{"unit", d.frequency->unit}, {"value", d.frequency->value}, {"repeats", d.frequency->repeats}};
    json dj = {{"schemaVersion", d.schema_version},
               {"consentId", d.consent_id},
               {"patient", {{"id", d.patient_id}}},
               {"careContexts", ccs},
               {"purpose", purpose},
               {"hip", hip},
               {"hiTypes", d.hi_types},
               {"permission", perm}};
    if (d.created_at) dj["createdAt"] = format_timestamp(*d.created_at);
    if (d.hiu_id || d.hiu_name) {
      json hiu = json::object();
      put_opt(hiu, "id", d.hiu_id);
      put_opt(hiu, "name", d.hiu_name);
      dj["hiu"] = hiu;
    }
    if (d.consent_manager_id) dj["consentManager"] = {{"id", *d.consent_manager_id}};
    if (!d.requester.is_null()) dj["requester"] = d.requester;
    n["consentDetail"] = dj;
  }
  put_opt(n, "signature", m.signature);
  if (m.grant_acknowledgement) n["grantAcknowledgement"] = *m.grant_acknowledgement;
  return {{"notification", n}};
}

json to_json(const HiRequest& m) {
  const KeyMaterial& k = m.key_material;
  return {{"transactionId", m.transaction_id},
          {"hiRequest",
           {{"consent", {{"id", m.consent_id}}},
            {"dateRange", {{"from", format_timestamp(m.date_from)}, {"to", format_timestamp(m.date_to)}}},
            {"dataPushUrl", m.data_push_url},
            {"keyMaterial",
             {{"cryptoAlg", k.crypto_alg},
              {"curve", k.curve},
              {"dhPublicKey",
               {{"expiry", format_timestamp(k.key_expiry)}, {"parameters", k.parameters}, {"keyValue", k.key_value}}},
              {"nonce", k.nonce}}}}}};
}

json to_json(const OnGenerateToken& m) {
  json j = {{"response", {{"requestId", m.response_request_id}}}};
  put_opt(j, "abhaAddress", m.abha_address);
  put_opt(j, "linkToken", m.link_token);
  put_error(j, m.error);
  json claims = json::object();
  if (m.token_expiry) claims["exp"] = format_timestamp(*m.token_expiry);
  put_opt(claims, "hipId", m.token_hip_id);
  put_opt(claims, "abhaNumber", m.token_abha_number);
  if (!claims.empty()) j["tokenClaims"] = claims;
  return j;
}

json to_json(const OnCareContext& m) {
  json j = {{"response", {{"requestId", m.response_request_id}}}};
  put_opt(j, "abhaAddress", m.abha_address);
  put_opt(j, "status", m.status);
  put_error(j, m.error);
  return j;
}

json to_json(const ContextOnNotify& m) {
  json j = {{"response", {{"requestId", m.response_request_id}}}};
  put_opt(j, "requestId", m.request_id);
  if (m.acknowledgement_status) j["acknowledgement"] = {{"status", *m.acknowledgement_status}};
  put_error(j, m.error);
  return j;
}

json to_json(const SmsOnNotify& m) {
  json j = {{"resp", {{"requestId", m.response_request_id}}}};
  put_opt(j, "requestId", m.request_id);
  put_opt(j, "status", m.status);
  put_error(j, m.error);
  return j;
}

json to_json(const PatientStatusNotify& m) {
  json j = {{"notification", {{"status", m.status}, {"patient", {{"id", m.abha_address}}}}}};
  put_opt(j, "requestId", m.request_id);
  return j;
}

json to_json(const InboundMessage& message) {
  json j = message_kind(message.kind).to_json(message.body);
  j["kind"] = kind_name(message.kind);
  return j;
}

}  // namespace abdm::proto
