#include "core/abdm/inbound.hpp"
#include "core/abdm/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/util/gateway_error.hpp"
#include "core/abdm/error_reply.hpp"
#include "core/abdm/hi_type.hpp"
#include "core/abdm/json_read.hpp"
#include "core/abdm/matching.hpp"
#include "core/abdm/otp.hpp"
#include "core/abdm/message_kinds.hpp"
#include "core/abdm/uuid.hpp"
#include "core/util/base64.hpp"
#include "core/util/error.hpp"

namespace abdm::proto {

using nlohmann::json;
using namespace json_read;

// ---------------------------------------------------------------------------------------------
// Routing

namespace {

// 9999-12-31T23:59:59Z, the last instant an ISO-8601 timestamp of four-digit years can write.
constexpr std::int64_t kMaxUnixSeconds = 253402300799;

[[noreturn]] void not_found(std::string_view path) {
  throw ProtocolError(404, code::kValidation, sqlstate_ext::kUndefinedObject, "path",
                      "no such endpoint: " + utf8_clip(path, 200));
}

}  // namespace

std::string_view kind_name(MessageKind kind) { return message_kind(kind).name; }

std::string_view canonical_path(MessageKind kind) { return message_kind(kind).path; }

MessageKind route_path(std::string_view path) {
  std::string_view p = path;
  if (p.size() > 1024) not_found(path);
  if (auto q = p.find_first_of("?#"); q != std::string_view::npos) p = p.substr(0, q);
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (p.empty() || p.front() != '/') not_found(path);
  // The v0.5 ABHA status path has no V3 counterpart to share a suffix with.
  if (p.ends_with("/v0.5/patients/status/notify")) return MessageKind::kPatientStatusNotify;
  // Everything from the first "/v3/" on is the route; what precedes it is "", "/api" or the
  // bridge's registered base path.
  const auto v3 = p.find("/v3/");
  if (v3 == std::string_view::npos) not_found(path);
  const std::string_view suffix = p.substr(v3 + 4);
  for (const MessageKindSpec& k : message_kinds()) {
    if (suffix == k.path.substr(std::string_view("/api/v3/").size())) return k.kind;
    for (std::string_view alias : k.aliases)
      if (!alias.empty() && suffix == alias) return k.kind;
  }
  not_found(path);
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

namespace {

[[noreturn]] void invalid(const std::string& path, const std::string& why) {
  throw Error(sqlstate::kInvalidParameter, path, why);
}

std::string squash_upper(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_' && c != '-' && c != ' ') out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// V3 identifier type names vary between sources: MOBILE, ABHA_NUMBER, MR, abhaAddress
// (10bedicu/care_abdm serializers), v0.5 NDHM_HEALTH_NUMBER, HEALTH_ID (ndhm-hip.yml).
std::string normalize_identifier_type(std::string_view t) {
  const std::string s = squash_upper(t);
  if (s == "MOBILE" || s == "MOBILENUMBER" || s == "PHONE") return "MOBILE";
  if (s == "ABHANUMBER" || s == "NDHMHEALTHNUMBER" || s == "HEALTHNUMBER" || s == "HEALTHIDNUMBER")
    return "ABHA_NUMBER";
  if (s == "ABHAADDRESS" || s == "HEALTHID" || s == "PHRADDRESS") return "ABHA_ADDRESS";
  if (s == "MR" || s == "MRN" || s == "MEDICALRECORD") return "MR";
  std::string up;
  for (char c : t) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return up;
}

std::vector<Identifier> read_identifiers(const json& obj, std::string_view key, const std::string& base,
                                         bool required) {
  std::vector<Identifier> out;
  const json* arr = required ? &req_array(obj, key, base, /*allow_empty=*/true, 50) : opt_array(obj, key, base, 50);
  if (!arr) return out;
  const std::string path = join(base, key);
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string ip = index(path, i);
    const json& el = (*arr)[i];
    if (!el.is_object()) invalid(ip, "must be an object {type, value}");
    out.push_back({normalize_identifier_type(req_string(el, "type", ip, 64)), req_string(el, "value", ip, kIdLen)});
  }
  return out;
}

std::optional<CallbackError> read_callback_error(const json& body, const std::string& base) {
  const json* e = find(body, "error");
  if (!e) return std::nullopt;
  const std::string path = join(base, "error");
  // A bare string: its leading ABDM code ("ABDM-1092: ..."), else the gateway's generic
  // ABDM-9999. Never "": the normalised form must parse again (a code is required and non-empty),
  // and the SQL handlers act on error.code (found by test/fuzz/inbound_fuzz).
  if (e->is_string()) {
    std::string text = as_string(*e, path, kTextLen);
    std::string code = normalize_error_code(text);
    if (code.rfind("ABDM-", 0) != 0) code = "ABDM-9999";
    return CallbackError{std::move(code), std::move(text)};
  }
  if (!e->is_object()) invalid(path, "must be an object {code, message}");
  CallbackError out;
  const json* c = find(*e, "code");
  if (!c) throw Error(sqlstate::kNotNull, join(path, "code"), "is required");
  if (!c->is_string() && !c->is_number_integer() && !c->is_number_unsigned())
    invalid(join(path, "code"), "must be a string or an integer");
  out.code = normalize_error_code_json(*c);
  if (out.code.empty() || out.code.size() > 64) invalid(join(path, "code"), "must not be empty or longer than 64");
  out.message = opt_string(*e, "message", path, kTextLen).value_or("");
  return out;
}

// True when `j` nests at most `depth` levels and holds at most `budget` values in all: keeps
// recursive work (dump, copy) on a stored free-form object bounded.
bool bounded(const json& j, int depth, std::size_t& budget) {
  if (budget == 0 || depth < 0) return false;
  --budget;
  if (j.is_structured())
    for (const auto& el : j)
      if (!bounded(el, depth - 1, budget)) return false;
  if (j.is_string() && j.get_ref<const std::string&>().size() > kTextLen) return false;
  return true;
}


std::string response_request_id(const json& body, std::string_view container) {
  const json& r = req_object(body, container, "");
  return req_uuid(r, "requestId", std::string(container));
}

void require_object_body(const json& body) {
  if (!body.is_object()) invalid("body", "must be a JSON object");
}

// Standard base64 → bytes; nullopt when malformed.
std::optional<std::vector<std::uint8_t>> b64_decode(std::string_view text) {
  try {
    return base64_decode(text, "");
  } catch (const Error&) {
    return std::nullopt;
  }
}

// base64url without padding (RFC 7515 §2) → bytes.
std::optional<std::vector<std::uint8_t>> b64url_decode(std::string_view s) {
  std::string t(s);
  for (char& c : t) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (t.size() % 4 != 0) t.push_back('=');
  return b64_decode(t);
}

}  // namespace

std::optional<std::string> DiscoverRequest::identifier(std::string_view type, bool verified_only) const {
  for (const auto& id : verified_identifiers)
    if (id.type == type) return id.value;
  if (!verified_only)
    for (const auto& id : unverified_identifiers)
      if (id.type == type) return id.value;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Parsers

DiscoverRequest parse_discover(const json& body) {
  require_object_body(body);
  DiscoverRequest m;
  m.transaction_id = req_uuid(body, "transactionId", "");
  const json& p = req_object(body, "patient", "");
  m.verified_identifiers = read_identifiers(p, "verifiedIdentifiers", "patient", true);
  // patient.id is the ABHA address (ndhm-hip.yml PatientDiscoveryRequest); a sender that puts it
  // among the verified identifiers instead (type abhaAddress, 10bedicu/care_abdm serializers)
  // is accepted.
  if (auto id = opt_string(p, "id", "patient", kIdLen)) {
    m.abha_address = *id;
  } else if (auto a = m.identifier("ABHA_ADDRESS", true)) {
    m.abha_address = *a;
  } else {
    throw Error(sqlstate::kNotNull, "patient.id", "is required");
  }
  m.unverified_identifiers = read_identifiers(p, "unverifiedIdentifiers", "patient", false);
  m.name = req_string(p, "name", "patient", kTextLen);
  m.gender = req_enum(p, "gender", "patient", {"M", "F", "O", "U"});
  m.year_of_birth = static_cast<int>(req_int(p, "yearOfBirth", "patient", 1850, 2200));
  return m;
}

LinkInitRequest parse_link_init(const json& body) {
  require_object_body(body);
  LinkInitRequest m;
  m.transaction_id = req_uuid(body, "transactionId", "");
  m.abha_address = req_string(body, "abhaAddress", "", kIdLen);
  const json& arr = req_array(body, "patient", "", false, 100);
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string pp = index("patient", i);
    const json& el = arr[i];
    if (!el.is_object()) invalid(pp, "must be an object");
    LinkInitPatient lp;
    lp.reference_number = req_string(el, "referenceNumber", pp, kIdLen);
    const json& ccs = req_array(el, "careContexts", pp, false, kMaxItems);
    for (std::size_t k = 0; k < ccs.size(); ++k) {
      const std::string cp = index(join(pp, "careContexts"), k);
      if (!ccs[k].is_object()) invalid(cp, "must be an object");
      lp.care_contexts.push_back({req_string(ccs[k], "referenceNumber", cp, kIdLen),
                                  opt_string(ccs[k], "display", cp, kTextLen)});
    }
    if (auto t = opt_string(el, "hiType", pp, 64)) lp.hi_type = require_hi_type(*t, join(pp, "hiType"));
    if (auto c = opt_int(el, "count", pp, 0, 1000000); c && static_cast<std::size_t>(*c) != lp.care_contexts.size())
      invalid(join(pp, "count"), "is " + std::to_string(*c) + " but careContexts has " +
                                     std::to_string(lp.care_contexts.size()) + " elements");
    m.patients.push_back(std::move(lp));
  }
  return m;
}

LinkConfirmRequest parse_link_confirm(const json& body) {
  require_object_body(body);
  const json& c = req_object(body, "confirmation", "");
  LinkConfirmRequest m;
  m.link_ref_number = req_string(c, "linkRefNumber", "confirmation", kIdLen);
  // Not restricted to 6 digits here: a wrongly typed OTP is a wrong OTP (ABDM-1035 in the
  // on-confirm answer), not a malformed message.
  const json* t = find(c, "token");
  if (t && (t->is_number_unsigned() || (t->is_number_integer() && t->get<std::int64_t>() >= 0))) {
    // ABDM's own examples send the OTP as a number ("token": 123456), which drops leading
    // zeros: its digits are taken, left-padded to the length of the OTPs this HIP sends, so
    // OTP 012345 sent as 12345 still matches. Longer numbers stay as they are (a wrong OTP).
    std::string digits = std::to_string(t->get<std::uint64_t>());
    if (digits.size() < static_cast<std::size_t>(kOtpDigits)) digits.insert(0, kOtpDigits - digits.size(), '0');
    m.token = digits;
    return m;
  }
  if (t && t->is_number())
    invalid("confirmation.token", "must be the OTP's digits, as a string or a whole number not below 0");
  m.token = req_string(c, "token", "confirmation", 64);
  return m;
}

namespace {

ConsentDetail parse_consent_detail(const json& d, const std::string& base) {
  ConsentDetail cd;
  if (const json* sv = find(d, "schemaVersion")) {
    if (!sv->is_string()) invalid(join(base, "schemaVersion"), "must be a string");
    cd.schema_version = utf8_clip(sv->get<std::string>(), 64);
  }
  cd.consent_id = req_uuid(d, "consentId", base);
  cd.created_at = opt_time(d, "createdAt", base);
  cd.patient_id = req_string(req_object(d, "patient", base), "id", join(base, "patient"), kIdLen);
  const std::string ccp = join(base, "careContexts");
  const json& ccs = req_array(d, "careContexts", base, false, kMaxItems);
  for (std::size_t i = 0; i < ccs.size(); ++i) {
    const std::string p = index(ccp, i);
    if (!ccs[i].is_object()) invalid(p, "must be an object");
    cd.care_contexts.push_back(
        {req_string(ccs[i], "patientReference", p, kIdLen), req_string(ccs[i], "careContextReference", p, kIdLen)});
  }
  const std::string pp = join(base, "purpose");
  const json& purpose = req_object(d, "purpose", base);
  cd.purpose_code = req_string(purpose, "code", pp, 64);
  cd.purpose_text = opt_string(purpose, "text", pp, kTextLen).value_or("");
  cd.purpose_ref_uri = opt_string(purpose, "refUri", pp, kUrlLen);
  const json& hip = req_object(d, "hip", base);
  cd.hip_id = req_string(hip, "id", join(base, "hip"), kIdLen);
  cd.hip_name = opt_string(hip, "name", join(base, "hip"), kTextLen);
  if (const json* hiu = opt_object(d, "hiu", base)) {
    cd.hiu_id = opt_string(*hiu, "id", join(base, "hiu"), kIdLen);
    cd.hiu_name = opt_string(*hiu, "name", join(base, "hiu"), kTextLen);
  }
  if (const json* cm = opt_object(d, "consentManager", base))
    cd.consent_manager_id = opt_string(*cm, "id", join(base, "consentManager"), kIdLen);
  if (const json* r = find(d, "requester")) {
    if (!r->is_object()) invalid(join(base, "requester"), "must be an object");
    std::size_t budget = 64;
    if (!bounded(*r, 4, budget)) invalid(join(base, "requester"), "is too large or too deeply nested");
    cd.requester = *r;
  }
  const json& types = req_array(d, "hiTypes", base, false, 32);
  for (std::size_t i = 0; i < types.size(); ++i) {
    const std::string p = index(join(base, "hiTypes"), i);
    std::string t = require_hi_type(as_string(types[i], p, 64), p);
    if (std::find(cd.hi_types.begin(), cd.hi_types.end(), t) == cd.hi_types.end()) cd.hi_types.push_back(t);
  }
  const std::string permp = join(base, "permission");
  const json& perm = req_object(d, "permission", base);
  cd.access_mode = req_enum(perm, "accessMode", permp, {"VIEW", "STORE", "QUERY", "STREAM"});
  const json& range = req_object(perm, "dateRange", permp);
  cd.date_from = req_time(range, "from", join(permp, "dateRange"));
  cd.date_to = req_time(range, "to", join(permp, "dateRange"));
  if (cd.date_from > cd.date_to) invalid(join(permp, "dateRange"), "from is after to");
  cd.data_erase_at = req_time(perm, "dataEraseAt", permp);
  if (const json* f = opt_object(perm, "frequency", permp)) {
    const std::string fp = join(permp, "frequency");
    ConsentDetail::Frequency fr;
    fr.unit = req_enum(*f, "unit", fp, {"HOUR", "DAY", "WEEK", "MONTH", "YEAR"});
    fr.value = req_int(*f, "value", fp, 0, 1000000);
    fr.repeats = opt_int(*f, "repeats", fp, 0, 1000000).value_or(0);
    cd.frequency = fr;
  }
  return cd;
}

}  // namespace

ConsentNotify parse_consent_notify(const json& body) {
  require_object_body(body);
  const json* n = find(body, "notification");
  if (n && n->is_array())
    invalid("notification", "must be an object (one consent notification per message)");
  const json& note = req_object(body, "notification", "");
  ConsentNotify m;
  m.status = req_enum(note, "status", "notification", {"GRANTED", "REVOKED", "EXPIRED", "DENIED"});
  const auto top_id = opt_uuid(note, "consentId", "notification");
  if (const json* d = opt_object(note, "consentDetail", "notification"))
    m.detail = parse_consent_detail(*d, "notification.consentDetail");
  if (m.status == "GRANTED" && !m.detail)
    throw Error(sqlstate::kNotNull, "notification.consentDetail", "is required when status is GRANTED");
  if (top_id && m.detail && !(*top_id == m.detail->consent_id))
    invalid("notification.consentDetail.consentId", "differs from notification.consentId");
  if (top_id) m.consent_id = *top_id;
  else if (m.detail) m.consent_id = m.detail->consent_id;
  else throw Error(sqlstate::kNotNull, "notification.consentId", "is required");
  m.signature = opt_string(note, "signature", "notification", kBlobLen);
  m.grant_acknowledgement = opt_bool(note, "grantAcknowledgement", "notification");
  return m;
}

HiRequest parse_hi_request(const json& body) {
  require_object_body(body);
  HiRequest m;
  const json& hr = req_object(body, "hiRequest", "");
  // transactionId is top-level in the wrapper's, CARE's and the 2026 CARE rewrite's models;
  // NHA's example omits it and one implementation also reads it inside hiRequest.
  auto tx = opt_uuid(body, "transactionId", "");
  if (!tx) tx = opt_uuid(hr, "transactionId", "hiRequest");
  if (!tx) throw Error(sqlstate::kNotNull, "transactionId", "is required");
  m.transaction_id = *tx;
  m.consent_id = req_uuid(req_object(hr, "consent", "hiRequest"), "id", "hiRequest.consent");
  const json& range = req_object(hr, "dateRange", "hiRequest");
  m.date_from = req_time(range, "from", "hiRequest.dateRange");
  m.date_to = req_time(range, "to", "hiRequest.dateRange");
  // A reversed range, a key or nonce that does not decode: problems of the request's content,
  // not of the message. They are decided by check_hi_request (core/abdm/hi_request_check) and
  // answered in on-request with sessionStatus ERRORED, so the HIU learns why; a bare 400 is only
  // for a message with nothing to answer to.
  m.data_push_url = req_string(hr, "dataPushUrl", "hiRequest", kUrlLen);
  {
    const std::string& u = m.data_push_url;
    const bool https = u.starts_with("https://"), http = u.starts_with("http://");
    const std::size_t host_at = https ? 8 : 7;
    if ((!https && !http) || u.size() <= host_at || u[host_at] == '/' ||
        u.find_first_of(" \t\"<>\\") != std::string::npos)
      invalid("hiRequest.dataPushUrl", "must be an absolute http(s) URL");
  }
  const std::string kp = "hiRequest.keyMaterial";
  const json& km = req_object(hr, "keyMaterial", "hiRequest");
  KeyMaterial& k = m.key_material;
  k.crypto_alg = req_enum(km, "cryptoAlg", kp, {"ECDH"});
  k.curve = req_enum(km, "curve", kp, {"Curve25519"});
  const std::string dp = kp + ".dhPublicKey";
  const json& dh = req_object(km, "dhPublicKey", kp);
  k.key_expiry = req_time(dh, "expiry", dp);
  k.parameters = opt_string(dh, "parameters", dp, kTextLen).value_or("");
  k.key_value = req_string(dh, "keyValue", dp, 4096);
  k.nonce = req_string(km, "nonce", kp, 128);
  return m;
}

OnGenerateToken parse_on_generate_token(const json& body) {
  require_object_body(body);
  OnGenerateToken m;
  m.abha_address = opt_string(body, "abhaAddress", "", kIdLen);
  m.link_token = opt_string(body, "linkToken", "", kBlobLen);
  m.error = read_callback_error(body, "");
  m.response_request_id = response_request_id(body, "response");
  if (!m.link_token && !m.error)
    throw Error(sqlstate::kNotNull, "linkToken", "is required when no error is given");
  if (m.link_token) {
    // Claims are read for bookkeeping (expiry, hipId); the token is the gateway's to verify.
    const std::string& t = *m.link_token;
    const auto d1 = t.find('.');
    const auto d2 = d1 == std::string::npos ? d1 : t.find('.', d1 + 1);
    if (d2 != std::string::npos) {
      auto payload = b64url_decode(std::string_view(t).substr(d1 + 1, d2 - d1 - 1));
      if (payload) {
        json claims = json::parse(payload->begin(), payload->end(), nullptr, false);
        if (claims.is_object()) {
          // An exp outside 1970..9999 is ignored like a non-integer one: in milliseconds it
          // would overflow (undefined behaviour; found by test/fuzz/inbound_fuzz with
          // exp 9e18), and no date the SQL layer can store lies there.
          if (auto it = claims.find("exp"); it != claims.end() && it->is_number_integer() &&
                                            it->get<std::int64_t>() >= 0 && it->get<std::int64_t>() <= kMaxUnixSeconds)
            m.token_expiry = TimePoint{std::chrono::seconds{it->get<std::int64_t>()}};
          if (auto it = claims.find("hipId"); it != claims.end() && it->is_string())
            m.token_hip_id = utf8_clip(it->get<std::string>(), kIdLen);
          if (auto it = claims.find("abhaNumber"); it != claims.end()) {
            if (it->is_number_integer() || it->is_number_unsigned()) m.token_abha_number = std::to_string(it->get<std::uint64_t>());
            else if (it->is_string()) m.token_abha_number = utf8_clip(it->get<std::string>(), 32);
          }
        }
      }
    }
  }
  return m;
}

OnCareContext parse_on_carecontext(const json& body) {
  require_object_body(body);
  OnCareContext m;
  m.abha_address = opt_string(body, "abhaAddress", "", kIdLen);
  m.status = opt_string(body, "status", "", kTextLen);
  m.error = read_callback_error(body, "");
  m.response_request_id = response_request_id(body, "response");
  return m;
}

ContextOnNotify parse_context_on_notify(const json& body) {
  require_object_body(body);
  ContextOnNotify m;
  m.request_id = opt_string(body, "requestId", "", 64);
  if (const json* a = opt_object(body, "acknowledgement", ""))
    m.acknowledgement_status = opt_string(*a, "status", "acknowledgement", 64);
  m.error = read_callback_error(body, "");
  m.response_request_id = response_request_id(body, "response");
  return m;
}

SmsOnNotify parse_sms_on_notify(const json& body) {
  require_object_body(body);
  SmsOnNotify m;
  m.request_id = opt_string(body, "requestId", "", 64);
  m.status = opt_string(body, "status", "", 64);
  m.error = read_callback_error(body, "");
  // NHA M2 v2.8 §4.3.9 uses `resp` on this callback (every other V3 callback has `response`).
  m.response_request_id = find(body, "resp") || !find(body, "response") ? response_request_id(body, "resp")
                                                                         : response_request_id(body, "response");
  return m;
}

PatientStatusNotify parse_patient_status_notify(const json& body) {
  require_object_body(body);
  PatientStatusNotify m;
  m.request_id = opt_string(body, "requestId", "", 64);
  const json& n = req_object(body, "notification", "");
  m.status = req_enum(n, "status", "notification", {"DEACTIVATED", "REACTIVATED", "DELETED"});
  m.abha_address = req_string(req_object(n, "patient", "notification"), "id", "notification.patient", kIdLen);
  return m;
}

InboundMessage parse_inbound(MessageKind kind, const json& body) {
  if (body.is_null() || (body.is_object() && body.empty()) || (body.is_string() && body.get_ref<const std::string&>().empty()))
    throw ProtocolError(400, code::kBodyMissing, sqlstate::kNotNull, "body", "Request body missing");
  if (!body.is_object())
    throw ProtocolError(400, code::kValidation, sqlstate::kInvalidParameter, "body", "must be a JSON object");
  return {kind, message_kind(kind).parse(body)};
}

InboundMessage parse_inbound(std::string_view path, const json& body) {
  return parse_inbound(route_path(path), body);
}

}  // namespace abdm::proto
