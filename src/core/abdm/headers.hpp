// Checks the headers of a V3 gateway → HIP call. The gateway sends REQUEST-ID (UUID), TIMESTAMP
// (UTC ISO-8601 with ms and Z) and X-HIP-ID on every callback (NHA "Sandbox Documentation (ABDM
// Milestone 2)" v2.8 §5.3.2, §6.3.1, §6.3.3). The gateway's own error tables give the answers this
// HIP mirrors: missing/blank header → 403 "Access Denied", malformed REQUEST-ID → 400 ABDM-1030,
// malformed TIMESTAMP → 400 ABDM-1016.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/abdm/time.hpp"

namespace abdm::proto {

// How far a TIMESTAMP may lie from `now`. The reference v0.5 gateway accepted
// [now − 1 min, now + 9 min] (ProjectEKA/gateway common/RedundantRequestValidator.java). The
// default past window is wider (10 min) because the gateway's message may wait in its queue and
// clocks drift; the future window keeps the reference gateway's 9 min. The SQL layer passes the
// values of its GUCs.
struct HeaderPolicy {
  std::chrono::seconds max_age{std::chrono::minutes{10}};  // TIMESTAMP may be this old
  std::chrono::seconds max_ahead{std::chrono::minutes{9}};  // or this far in the future
  bool require_hip_id = true;
};

struct InboundHeaders {
  std::string request_id;  // as received (echoed in response.requestId)
  std::string timestamp;   // as received
  TimePoint timestamp_at;  // parsed
  std::string hip_id;      // X-HIP-ID ("" only when policy.require_hip_id is false)
  std::optional<std::string> cm_id;          // X-CM-ID, when sent
  std::optional<std::string> authorization;  // Authorization, when sent
  nlohmann::json to_json() const;
};

// Case-insensitive header lookup in a JSON object {name: value}; a value may be a string or an
// array of strings (first taken). Underscores in names match hyphens: the early link-token spec
// spelled REQUEST_ID, X_HIP_ID (kiranma72/abdm-docs HIECM-LinkTokenService.yml).
std::optional<std::string> find_header(const nlohmann::json& headers, std::string_view name);

// Validates and extracts; throws ProtocolError (403 / 400 ABDM-1030 / 400 ABDM-1016) naming the
// header as `field`.
InboundHeaders validate_inbound_headers(const nlohmann::json& headers, TimePoint now,
                                        const HeaderPolicy& policy = {});

}  // namespace abdm::proto
