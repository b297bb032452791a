// UUIDs, one definition for the whole core: REQUEST-IDs, transaction and consent ids, link
// reference numbers (all 36-character UUIDs: NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8,
// header tables; a malformed REQUEST-ID gets 400 ABDM-1030) and FHIR urn:uuid: fullUrls.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>

namespace abdm {

// True for the canonical textual form 8-4-4-4-12 hex digits (either case). Any version is
// accepted: the gateway's ids are only required to be unique, not of a given version.
bool is_uuid(std::string_view text) noexcept;

// A random (version 4, RFC 9562 §5.4) UUID in lower case, from OpenSSL's CSPRNG.
std::string new_uuid_v4();

}  // namespace abdm
