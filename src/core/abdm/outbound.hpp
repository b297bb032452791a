// Every body this HIP sends in ABDM V3, and the gateway endpoints they go to. Shapes and paths:
// NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8 §4.3.1, §4.3.3, §4.3.6, §4.3.8, §5.3.3,
// §5.3.7, §5.3.11, §6.3.2, §6.3.4–§6.3.6 and the §8 API listing; cross-checked with NHA's V3
// Postman collection and NHA-ABDM/ABDM-wrapper (v3/common/constants/GatewayURL.java,
// DiscoveryV3Service, LinkV3Service, HIPLinkV3Service). Every answer to an inbound request echoes
// the REQUEST-ID it received in `response.requestId` (the gateway refuses others: ABDM-1015).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/abdm/time.hpp"

namespace abdm::proto {

// ---------------------------------------------------------------------------------------------
// Endpoints

enum class OutboundKind {
  kSession,               // POST /gateway/v3/sessions
  kCerts,                 // GET  /gateway/v3/certs
  kOnDiscover,            // answer to discover
  kOnInit,                // answer to link init
  kOnConfirm,             // answer to link confirm
  kConsentOnNotify,       // acknowledgement of a consent notification
  kHiOnRequest,           // acknowledgement of a health-information request
  kHiNotify,              // transfer notification
  kGenerateToken,         // HIP-initiated linking, step 1
  kLinkCareContext,       // HIP-initiated linking, step 3 (needs X-LINK-TOKEN)
  kContextNotify,         // new HI type on a linked care context
  kSmsNotify2,            // SMS deep link
  kPatientStatusOnNotify, // acknowledgement of an ABHA deactivation/deletion notice
  kDataPush,              // POST <dataPushUrl> at the HIU, not through the gateway
  kBridgeUrl,             // PATCH /gateway/v3/bridge/url: where the gateway calls this bridge
};

struct OutboundEndpoint {
  OutboundKind kind;
  std::string_view name;  // stable short name for the outbox: "on_discover", "generate_token", ...
  std::string_view method;  // "POST" or "GET"
  // Path after the gateway base URL that ends in `/api/hiecm` (sandbox
  // https://dev.abdm.gov.in/api/hiecm, production https://apis.abdm.gov.in/api/hiecm);
  // "" for kDataPush, which goes to the HIU's dataPushUrl.
  std::string_view path;
};

const OutboundEndpoint& outbound_endpoint(OutboundKind kind);
// By `name`; nullptr when unknown.
const OutboundEndpoint* find_outbound_endpoint(std::string_view name);

// Headers: what the outbox row stores is set by abdm_hip_internal.enqueue() (X-HIP-ID) and the link step
// (X-LINK-TOKEN); the rest is added at send time by net/v3_headers.hpp.

// ---------------------------------------------------------------------------------------------
// Care contexts grouped per HI type (discover, confirm, link/carecontext)

struct OutCareContext {
  std::string reference_number;
  std::string display;                 // no clinical detail (abdm-docs understand-care-context.md)
  std::vector<std::string> hi_types;   // any case; sent CamelCase
};

struct OutPatient {
  std::string reference_number;  // HMIS patient reference
  std::string display;           // patient name
  std::vector<OutCareContext> care_contexts;
};

// {"referenceNumber", "display", "careContexts": [{"referenceNumber", "display", "hiTypes": [..]}]}
OutPatient out_patient_from_json(const nlohmann::json& j);

// The V3 `patient` array: one entry per HI type (in kHiTypes order), a care context listed once
// under each of its types, at most `max_per_entry` care contexts per entry (larger groups become
// several entries of the same type — ABDM refuses more than 20, ABDM-9999), `count` = the
// entry's number of care contexts (ABDM-1059/1037 otherwise). Throws abdm::Error when there is
// no care context or one has no HI type.
nlohmann::json patient_entries(const OutPatient& patient, std::size_t max_per_entry = 20);

// ---------------------------------------------------------------------------------------------
// Answers to inbound requests

// {"transactionId", "patient": [...], "matchedBy": [...], "response": {"requestId"}}
nlohmann::json on_discover(std::string_view transaction_id, std::string_view request_id, const OutPatient& patient,
                           const std::vector<std::string>& matched_by);
// {"transactionId", "error": {"code", "message"}, "response"} — ABDM-1010 "Patient not found"
// when nothing (or nothing unambiguous) matches.
nlohmann::json on_discover_error(std::string_view transaction_id, std::string_view request_id,
                                 std::string_view code, std::string_view message);

// V3 on-init: NHA M2 v2.8 §5.3.7 and the NHA wrapper send "MEDIATE"; NHA's V3 Postman, CARE and
// the mock send "DIRECT"; the sources show both accepted. Default MEDIATE (the official document);
// configurable.
enum class AuthenticationType { kMediate, kDirect };
std::string_view to_string(AuthenticationType t);
// Parses "MEDIATE"/"DIRECT" (any case); throws abdm::Error(field) otherwise.
AuthenticationType authentication_type_from(std::string_view text, const std::string& field);

// {"transactionId", "link": {"referenceNumber", "authenticationType", "meta":
//  {"communicationMedium": "MOBILE", "communicationHint", "communicationExpiry"}}, "response"}
nlohmann::json on_init(std::string_view transaction_id, std::string_view request_id, std::string_view link_reference,
                       AuthenticationType authentication, std::string_view communication_hint, TimePoint expiry);
nlohmann::json on_init_error(std::string_view transaction_id, std::string_view request_id, std::string_view code,
                             std::string_view message);

// {"patient": [...], "response"} with the linked (unmasked) care contexts.
nlohmann::json on_confirm(std::string_view request_id, const OutPatient& patient);
// {"error": {"code", "message"}, "response"} — ABDM-1035 "Incorrect OTP" (NHA wrapper
// GatewayConstants) for a wrong OTP; other refusals use the code the SQL layer chooses.
nlohmann::json on_confirm_error(std::string_view request_id, std::string_view code, std::string_view message);

// {"acknowledgement": {"status": "OK", "consentId"}, "response"}
nlohmann::json consent_on_notify(std::string_view request_id, std::string_view consent_id);
// {"acknowledgement": {"status": "OK", "consentId"}, "error": {...}, "response"} — the
// notification was received (so acknowledged: an unacknowledged notification blocks the HIU,
// NHA FAQ) but could not be acted on.
nlohmann::json consent_on_notify_error(std::string_view request_id, std::string_view consent_id,
                                       std::string_view code, std::string_view message);

// {"hiRequest": {"transactionId", "sessionStatus": "ACKNOWLEDGED"}, "response"}
nlohmann::json hi_on_request(std::string_view request_id, std::string_view transaction_id);
// {"hiRequest": {"transactionId", "sessionStatus": "ERRORED"}, "error": {...}, "response"}
nlohmann::json hi_on_request_error(std::string_view request_id, std::string_view transaction_id,
                                   std::string_view code, std::string_view message);

// Acknowledgement of an ABHA status notice: {"acknowledgement": {"status": "OK"}, "response"}
// (v0.5 PatientStatusNotification's ack with V3's `response`; the V3 shape is unpublished).
nlohmann::json patient_status_on_notify(std::string_view request_id);

// ---------------------------------------------------------------------------------------------
// HIP-initiated calls

struct GenerateTokenInput {
  std::optional<std::string> abha_number;   // 14 digits, dashes allowed
  std::optional<std::string> abha_address;
  std::string name;
  std::string gender;  // M, F, O
  int year_of_birth = 0;
};
// {"abhaNumber": <number>, "abhaAddress", "name", "gender", "yearOfBirth"}; one of number and
// address required (ABDM-1125), the number sent as a JSON number without dashes (NHA M2 v2.8
// §4.3.1).
nlohmann::json generate_token(const GenerateTokenInput& in);

// {"abhaNumber": "<digits>"?, "abhaAddress", "patient": [...]}: abhaNumber (a string here) only
// when it was sent to generate-token (NHA FAQ).
nlohmann::json link_carecontext(std::optional<std::string_view> abha_number, std::string_view abha_address,
                                const OutPatient& patient);

// {"notification": {"patient": {"id"}, "careContext": {"patientReference", "careContextReference"},
//  "hiTypes": [...], "date", "hip": {"id"}}}
nlohmann::json context_notify(std::string_view abha_address, std::string_view patient_reference,
                              std::string_view care_context_reference, const std::vector<std::string>& hi_types,
                              TimePoint date, std::string_view hip_id);

// Phone formats seen: 10 bare digits (NHA M2 v2.8 §4.3.8, the default), "+91-XXXXXXXXXX" (v0.5),
// "91XXXXXXXXXX" (ohcnetwork/care-abdm).
enum class PhoneFormat { kTenDigits, kPlus91Dash, k91Prefix };
PhoneFormat phone_format_from(std::string_view text, const std::string& field);  // "10", "+91-", "91"
std::string format_phone(std::string_view mobile, PhoneFormat format);

// {"notification": {"phoneNo", "hip": {"name"?, "id"}}}; with `request_id` also the top-level
// requestId/timestamp that NHA's example body carries (same value as the REQUEST-ID header).
nlohmann::json sms_notify2(std::string_view mobile, std::string_view hip_id, std::optional<std::string_view> hip_name,
                           PhoneFormat format = PhoneFormat::kTenDigits,
                           std::optional<std::string_view> request_id = std::nullopt,
                           std::optional<TimePoint> timestamp = std::nullopt);

// ---------------------------------------------------------------------------------------------
// Data transfer

struct CareContextTransferStatus {
  std::string care_context_reference;
  bool delivered = false;   // DELIVERED / ERRORED
  std::string description;  // "" → "Delivered" / "Failed"
};
// {"notification": {"consentId", "transactionId", "doneAt", "notifier": {"type": "HIP", "id"},
//  "statusNotification": {"sessionStatus": "TRANSFERRED"|"FAILED", "hipId", "statusResponses": [...]}}}
nlohmann::json hi_notify(std::string_view consent_id, std::string_view transaction_id, TimePoint done_at,
                         std::string_view hip_id, bool transferred,
                         const std::vector<CareContextTransferStatus>& statuses);

struct PushEntry {
  std::string content;   // base64(ciphertext ‖ tag)
  std::string media = "application/fhir+json";
  std::string checksum;  // base64(MD5(plaintext)) (abdm-docs request-health-records.md)
  std::string care_context_reference;
};
struct PushKeyMaterial {
  TimePoint expiry;
  std::string key_value;  // HIP ephemeral public key (X.509 base64 recommended)
  std::string nonce;      // HIP 32-byte nonce, base64
  std::string parameters = "Curve25519/32byte random key";
};
// {"pageNumber", "pageCount", "transactionId", "entries": [...], "keyMaterial": {...}}. Reference
// HIU refuses pageCount > 1 (ProjectEKA health-information-user DataFlowController.java), so the
// caller normally sends one page, pageNumber 1.
nlohmann::json data_push(std::string_view transaction_id, int page_number, int page_count,
                         const std::vector<PushEntry>& entries, const PushKeyMaterial& key);

}  // namespace abdm::proto
