// Headers of an outbound ABDM V3 call (HIP → gateway). In V3 the request identity moved from the
// body into headers: REQUEST-ID (a UUID) and TIMESTAMP (UTC ISO-8601 with milliseconds and "Z"),
// with X-CM-ID naming the consent manager, X-HIP-ID the facility, X-LINK-TOKEN the link token —
// NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8, header tables of §3.2.1, §4.3.1 ff.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <string>
#include <string_view>

#include "core/net/http_multi.hpp"
#include "core/util/uuid.hpp"

namespace abdm::net {

struct V3HeaderInput {
  std::string_view access_token;  // gateway session token (sent as "Bearer <token>"); required
  std::string_view request_id;    // UUID; the caller keeps it stable across retries of one message
  std::string_view cm_id;         // X-CM-ID: "sbx" (sandbox) or "abdm" (production); required
  std::string_view hip_id;        // X-HIP-ID; empty = header not sent
  std::string_view link_token;    // X-LINK-TOKEN, sent bare (no "Bearer"); empty = not sent
};

// Authorization, REQUEST-ID, TIMESTAMP (= now), X-CM-ID, [X-HIP-ID], [X-LINK-TOKEN], Content-Type.
// Call it just before submit(): TIMESTAMP is the send time, and the gateway rejects stale ones
// (ABDM-1016). Throws abdm::Error for a missing token or CM id, a REQUEST-ID that is not a UUID
// (the gateway answers ABDM-1030), or a value with a line break.
Headers build_v3_headers(const V3HeaderInput& in, std::chrono::system_clock::time_point now);

// REQUEST-ID, TIMESTAMP, X-CM-ID and Content-Type, without Authorization: the session call.
Headers build_v3_unauthenticated_headers(std::string_view request_id, std::string_view cm_id,
                                         std::chrono::system_clock::time_point now);

// The data push to a HIU's dataPushUrl: V3 headers with X-HIP-ID, and Authorization when a
// gateway session token is at hand (the v0.5 specification lists it; HIUs that do not check it
// ignore it), without it otherwise.
Headers build_data_push_headers(const V3HeaderInput& in, std::chrono::system_clock::time_point now);
// A call to the hospital's own hook (the OTP SMS hook): Content-Type, REQUEST-ID and TIMESTAMP,
// no gateway credentials.
Headers build_hook_headers(std::string_view request_id, std::chrono::system_clock::time_point now);

// "2026-01-01T10:00:00.000Z" — UTC, milliseconds, "Z".
std::string format_v3_timestamp(std::chrono::system_clock::time_point t);

using abdm::is_uuid;  // core/util/uuid.hpp

// A random (version 4) UUID in lower case, from OpenSSL's CSPRNG.
inline std::string new_request_id() { return abdm::new_uuid_v4(); }

}  // namespace abdm::net
