// What a refused inbound message gets back: the HTTP status and ABDM V3 error object a gateway
// would give, {"error": {"code": "ABDM-xxxx", "message": "..."}} (NHA "Sandbox Documentation
// (ABDM Milestone 2)" v2.8, error tables of §4.3–§6.3 and code list §9).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>
#include <string>

#include "core/util/error.hpp"

namespace abdm::proto {

// V3 codes this HIP produces or reacts to (NHA M2 v2.8 §9 and per-API error tables).
namespace code {
inline constexpr const char* kNoDataFound = "ABDM-1001";
inline constexpr const char* kPatientNotFound = "ABDM-1010";
inline constexpr const char* kInvalidResponse = "ABDM-1015";
inline constexpr const char* kInvalidTimestamp = "ABDM-1016";
inline constexpr const char* kTooManyRequests = "ABDM-1022";
inline constexpr const char* kBlocked24h = "ABDM-1027";
inline constexpr const char* kInvalidRequestId = "ABDM-1030";
inline constexpr const char* kAbhaDeactivated = "ABDM-1031";
inline constexpr const char* kInvalidHipIdOrOtp = "ABDM-1035";
inline constexpr const char* kAlreadyLinked = "ABDM-1056";
inline constexpr const char* kConsentExpired = "ABDM-1061";
inline constexpr const char* kConsentNotGranted = "ABDM-1062";
inline constexpr const char* kInvalidDateRange = "ABDM-1063";
inline constexpr const char* kBodyMissing = "ABDM-1064";
inline constexpr const char* kDuplicateTokenRequest = "ABDM-1092";
inline constexpr const char* kValidation = "ABDM-9999";
}  // namespace code

// SQLSTATEs for refusals that are not a bad value (PostgreSQL's codes).
namespace sqlstate_ext {
inline constexpr const char* kAccessDenied = "42501";     // insufficient_privilege
inline constexpr const char* kUndefinedObject = "42704";  // unknown path
}  // namespace sqlstate_ext

// An abdm::Error that also fixes the gateway-level answer. Thrown by header checks and path
// routing, where the status is not the generic 400 ABDM-9999 of a bad body field.
class ProtocolError : public Error {
 public:
  ProtocolError(int http_status, std::string abdm_code, std::string sqlstate, std::string field,
                const std::string& message)
      : Error(std::move(sqlstate), std::move(field), message),
        http_status_(http_status),
        abdm_code_(std::move(abdm_code)) {}
  int http_status() const noexcept { return http_status_; }
  const std::string& abdm_code() const noexcept { return abdm_code_; }

 private:
  int http_status_;
  std::string abdm_code_;
};

struct ErrorReply {
  int http_status = 400;
  std::string code;     // "ABDM-9999"
  std::string message;  // names the offending field
  // {"error": {"code": ..., "message": ...}}
  nlohmann::json body() const;
};

// ProtocolError → its own status/code; any other abdm::Error (a bad body field) → 400 ABDM-9999,
// the gateway's "validation failure" code, with "<field>: <reason>" as message.
ErrorReply error_reply(const Error& e);
// Anything else escaping the core is our fault: 500 ABDM-9999 without internal detail.
ErrorReply internal_error_reply();

}  // namespace abdm::proto
