// The gateway's error answers, read one way for the whole core: the sender classifying an HTTP
// answer (net/retry_policy) and the protocol model reading an error inside a callback
// (abdm/inbound) use these.
//
// V3 codes are strings such as "ABDM-1027" that may arrive with trailing punctuation
// ("ABDM-1207: " in NHA Sandbox Documentation ABDM M2 v2.8 §4.3.2's example); v0.5 and WSO2's API
// manager use numbers (900901 invalid credentials, 900908 not subscribed). Answers carry them in
// several envelopes — {"error": {...}}, a bare {code, message}, {"errors": [...]}, a list of them
// (NHA ABDM-wrapper "V1 to V3 migration" document), WSO2's {"fault": {...}}, Spring's
// {"error": "Bad Request", "message": ...} — sometimes with HTTP 200 (ohcnetwork/care-abdm
// gateway/outbound.py `response_errors`).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace abdm {

// "ABDM-1027: " → "ABDM-1027", " abdm-1010." → "ABDM-1010", "3404:" → "3404", " 900901 " →
// "900901". Anything else is kept, trimmed, as it came.
std::string normalize_error_code(std::string_view code);

// A code given as a JSON number or string, normalised; "" for anything else.
std::string normalize_error_code_json(const nlohmann::json& code);

struct GatewayError {
  std::string code;     // normalised; "" when the envelope had none
  std::string message;  // "" when absent
  bool operator==(const GatewayError&) const = default;
};

// Every error an answer body carries, in order; empty when it reports success. A success body
// that merely holds a "code" beside other data ({"code": "IN07…", "name": …}), "error": null and
// "error": {} are not errors.
std::vector<GatewayError> find_gateway_errors(const nlohmann::json& body);

// Same, for a raw body: nothing for an empty body or one that is not JSON.
std::vector<GatewayError> find_gateway_errors(std::string_view body);

}  // namespace abdm
