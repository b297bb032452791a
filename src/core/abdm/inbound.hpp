// Every V3 message the gateway (HIE-CM) sends a HIP, parsed and validated into a typed struct.
// Paths and shapes: NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8 §4.3.2, §4.3.4, §4.3.7,
// §4.3.9, §5.3.2, §5.3.6, §5.3.10, §6.3.1, §6.3.3 and its §8 API listing; cross-checked with
// NHA-ABDM/ABDM-wrapper v3/common/constants/GatewayURL.java and 10bedicu/care_abdm
// api/v3/serializers/hip.py. Parsers accept what the gateway sends and nothing looser: every
// required field is checked for presence, type, length and format, and a failure throws
// abdm::Error whose field() is the JSON path of the bad value.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/abdm/time.hpp"

namespace abdm::proto {

enum class MessageKind {
  kDiscover,             // /api/v3/hip/patient/care-context/discover
  kLinkInit,             // /api/v3/hip/link/care-context/init
  kLinkConfirm,          // /api/v3/hip/link/care-context/confirm
  kConsentNotify,        // /api/v3/consent/request/hip/notify
  kHiRequest,            // /api/v3/hip/health-information/request
  kOnGenerateToken,      // /api/v3/hip/token/on-generate-token
  kOnCareContext,        // /api/v3/link/on_carecontext
  kContextOnNotify,      // /api/v3/links/context/on-notify
  kSmsOnNotify,          // /api/v3/patients/sms/on-notify
  kPatientStatusNotify,  // /api/v3/patients/status/notify (see route_path)
};

// Short stable name for tables and logs: "discover", "link_init", "link_confirm",
// "consent_notify", "hi_request", "on_generate_token", "on_carecontext", "context_on_notify",
// "sms_on_notify", "patient_status_notify".
std::string_view kind_name(MessageKind kind);

// The canonical V3 path of a kind ("/api/v3/hip/patient/care-context/discover").
std::string_view canonical_path(MessageKind kind);

// Maps the request path as the gateway called the bridge to a message kind. Accepted: the V3 path
// with or without the `/api` prefix (several NHA endpoint pages omit it, the gateway sends it),
// behind any base-path prefix the bridge URL was registered with (callbacks go to
// `{registered base}/api/v3/...`), a query string or trailing slash ignored, and the older
// spellings of the link result `/v3/hip/link/on-carecontext` (abdm-docs hip-initiated-linking.md)
// and `/link/on-care-context` (NHA-ABDM/ABDM-MOCK-HIP HIPConstant.java).
// ABHA deactivation/deletion: v0.5 used `/v0.5/patients/status/notify` (ndhm-hip.yml
// PatientStatusNotification); no V3 inbound path is published, so the V3 analogue
// `/api/v3/patients/status/notify` is served, and the v0.5 path is accepted as an alias.
// Anything else throws ProtocolError 404.
MessageKind route_path(std::string_view path);

// ---------------------------------------------------------------------------------------------
// Message bodies

// `{code, message}` inside an on-* callback; the code normalised ("ABDM-1207: " → "ABDM-1207").
struct CallbackError {
  std::string code;
  std::string message;
};

struct Identifier {
  std::string type;  // normalised: MOBILE, ABHA_NUMBER, ABHA_ADDRESS, MR, or the upper-cased input
  std::string value;
};

struct DiscoverRequest {
  std::string transaction_id;
  std::string abha_address;  // patient.id
  std::vector<Identifier> verified_identifiers;
  std::vector<Identifier> unverified_identifiers;
  std::string name;
  std::string gender;  // M, F, O, U
  int year_of_birth = 0;

  // The first identifier of a normalised type; verified ones first unless verified_only.
  std::optional<std::string> identifier(std::string_view type, bool verified_only) const;
};

struct CareContextRef {
  std::string reference_number;
  std::optional<std::string> display;
};

struct LinkInitPatient {
  std::string reference_number;
  std::vector<CareContextRef> care_contexts;
  std::optional<std::string> hi_type;  // canonical CamelCase when sent
};

struct LinkInitRequest {
  std::string transaction_id;
  std::string abha_address;
  std::vector<LinkInitPatient> patients;
};

struct LinkConfirmRequest {
  std::string link_ref_number;
  std::string token;  // the OTP as the patient typed it; checked against the stored hash later
};

struct ConsentCareContext {
  std::string patient_reference;
  std::string care_context_reference;
};

struct ConsentDetail {
  std::string schema_version;  // may be ""
  std::string consent_id;
  std::optional<TimePoint> created_at;
  std::string patient_id;  // ABHA address
  std::vector<ConsentCareContext> care_contexts;
  std::string purpose_code;
  std::string purpose_text;
  std::optional<std::string> purpose_ref_uri;
  std::string hip_id;
  std::optional<std::string> hip_name;
  std::optional<std::string> hiu_id;
  std::optional<std::string> hiu_name;
  std::optional<std::string> consent_manager_id;
  nlohmann::json requester;  // kept as sent (null when absent): not acted on
  std::vector<std::string> hi_types;  // canonical CamelCase, duplicates removed
  std::string access_mode;           // VIEW, STORE, QUERY, STREAM
  TimePoint date_from;
  TimePoint date_to;
  TimePoint data_erase_at;
  struct Frequency {
    std::string unit;  // HOUR, DAY, WEEK, MONTH, YEAR
    std::int64_t value = 0;
    std::int64_t repeats = 0;
  };
  std::optional<Frequency> frequency;
};

struct ConsentNotify {
  std::string status;  // GRANTED, REVOKED, EXPIRED, DENIED
  std::string consent_id;
  std::optional<ConsentDetail> detail;  // required when GRANTED
  std::optional<std::string> signature;
  std::optional<bool> grant_acknowledgement;
};

struct KeyMaterial {
  std::string crypto_alg;  // "ECDH"
  std::string curve;       // "Curve25519"
  TimePoint key_expiry;    // dhPublicKey.expiry
  std::string parameters;  // dhPublicKey.parameters ("" when absent)
  std::string key_value;   // base64: 65-byte uncompressed point or X.509 DER
  std::string nonce;       // base64 of 32 bytes
};

struct HiRequest {
  std::string transaction_id;
  std::string consent_id;
  TimePoint date_from;
  TimePoint date_to;
  std::string data_push_url;
  KeyMaterial key_material;
};

struct OnGenerateToken {
  std::optional<std::string> abha_address;
  std::optional<std::string> link_token;
  std::optional<CallbackError> error;
  std::string response_request_id;  // the REQUEST-ID this HIP sent to generate-token
  // Claims read (not verified) from the link token's payload, when it is a JWT.
  std::optional<TimePoint> token_expiry;  // exp
  std::optional<std::string> token_hip_id;
  std::optional<std::string> token_abha_number;
};

struct OnCareContext {
  std::optional<std::string> abha_address;
  std::optional<std::string> status;  // free text
  std::optional<CallbackError> error;
  std::string response_request_id;
};

struct ContextOnNotify {
  std::optional<std::string> request_id;
  std::optional<std::string> acknowledgement_status;
  std::optional<CallbackError> error;
  std::string response_request_id;
};

struct SmsOnNotify {
  std::optional<std::string> request_id;
  std::optional<std::string> status;
  std::optional<CallbackError> error;
  std::string response_request_id;  // from `resp.requestId` (`response.requestId` tolerated)
};

struct PatientStatusNotify {
  std::optional<std::string> request_id;
  std::string status;  // DEACTIVATED, REACTIVATED, DELETED
  std::string abha_address;  // notification.patient.id
};

using InboundBody = std::variant<DiscoverRequest, LinkInitRequest, LinkConfirmRequest, ConsentNotify,
                                 HiRequest, OnGenerateToken, OnCareContext, ContextOnNotify, SmsOnNotify,
                                 PatientStatusNotify>;

struct InboundMessage {
  MessageKind kind;
  InboundBody body;
};

// Individual parsers (body = the parsed JSON request body).
DiscoverRequest parse_discover(const nlohmann::json& body);
LinkInitRequest parse_link_init(const nlohmann::json& body);
LinkConfirmRequest parse_link_confirm(const nlohmann::json& body);
ConsentNotify parse_consent_notify(const nlohmann::json& body);
HiRequest parse_hi_request(const nlohmann::json& body);
OnGenerateToken parse_on_generate_token(const nlohmann::json& body);
OnCareContext parse_on_carecontext(const nlohmann::json& body);
ContextOnNotify parse_context_on_notify(const nlohmann::json& body);
SmsOnNotify parse_sms_on_notify(const nlohmann::json& body);
PatientStatusNotify parse_patient_status_notify(const nlohmann::json& body);

// Dispatch on kind. A null/absent or empty-object body → ProtocolError 400 ABDM-1064
// "Request body missing" (NHA M2 v2.8 §4.3.1 error table); a non-object body → 400 ABDM-9999.
InboundMessage parse_inbound(MessageKind kind, const nlohmann::json& body);
// Convenience: route_path + parse_inbound.
InboundMessage parse_inbound(std::string_view path, const nlohmann::json& body);

// Normalised JSON of a parsed message, for storage and for the SQL layer to act on: ABDM field
// names, canonical enum spellings and HI types, timestamps as YYYY-MM-DDTHH:MM:SS.mmmZ, error
// codes normalised, plus derived fields (discover: "mobile" as 10 digits, "abhaNumber" digits
// only, "mr"; the top-level "kind"). Parsing the output of to_json again gives the same struct.
nlohmann::json to_json(const InboundMessage& message);
nlohmann::json to_json(const DiscoverRequest& m);
nlohmann::json to_json(const LinkInitRequest& m);
nlohmann::json to_json(const LinkConfirmRequest& m);
nlohmann::json to_json(const ConsentNotify& m);
nlohmann::json to_json(const HiRequest& m);
nlohmann::json to_json(const OnGenerateToken& m);
nlohmann::json to_json(const OnCareContext& m);
nlohmann::json to_json(const ContextOnNotify& m);
nlohmann::json to_json(const SmsOnNotify& m);
nlohmann::json to_json(const PatientStatusNotify& m);

}  // namespace abdm::proto
