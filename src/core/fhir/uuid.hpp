// Name-based UUIDs (RFC 4122 §4.3, version 5 = SHA-1) so that the same HMIS record always yields the
// same resource ids, fullUrls and bundle identifier: a re-sent document is byte-identical.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>

#include "core/util/uuid.hpp"

namespace abdm::fhir {

// RFC 4122 namespace for URLs (Appendix C); every abdm_hip name is prefixed with our own scheme.
inline constexpr std::string_view kUuidNamespaceUrl = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

// Version-5 UUID of `name` in `namespace_uuid` (canonical lowercase 8-4-4-4-12 form).
std::string uuid_v5(std::string_view namespace_uuid, std::string_view name);

using abdm::is_uuid;  // core/util/uuid.hpp

// Lowercase hex SHA-1 of `data` (OpenSSL).
std::string sha1_hex(std::string_view data);

}  // namespace abdm::fhir
