// Reading the gateway's error answers. V3 codes are strings such as "ABDM-1027" that may arrive
// with trailing punctuation ("ABDM-1207: " in NHA M2 v2.8 §4.3.2's example), and V3 responses use
// several envelopes — {"error": {...}}, a bare {code, message}, a list of them (NHA ABDM-wrapper
// "V1 to V3 migration" document) — sometimes with HTTP 200 (ohcnetwork/care-abdm
// gateway/outbound.py `response_errors`). WSO2's API manager answers {"fault": {code, ...}}
// (codes 900901 invalid credentials, 900908 not subscribed).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace abdm::proto {

// "ABDM-1027: " → "ABDM-1027", "abdm-1027" → "ABDM-1027", " 900901 " → "900901".
// Keeps an unrecognised code trimmed but otherwise unchanged.
std::string normalize_error_code(std::string_view code);
// A code given as a JSON number or string, normalised; "" for anything else.
std::string normalize_error_code_json(const nlohmann::json& code);

struct GatewayError {
  std::string code;     // normalised
  std::string message;  // "" when absent
  bool operator==(const GatewayError&) const = default;
};

// Every error object an answer body carries, in order; empty when the body reports success.
// Recognises {"error": {...}}, {"error": "text"}, {"errors": [...]}, {"fault": {...}}, a bare
// {code, message} and a top-level array of those. A body without any of them (including a
// success body that merely contains a "code" field beside other data) yields nothing.
std::vector<GatewayError> find_errors(const nlohmann::json& body);

}  // namespace abdm::proto
