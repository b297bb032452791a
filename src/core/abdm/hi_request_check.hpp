// The checks a HIP makes before answering a health-information request
// (abdm-docs request-health-records.md; abdm-docs "Milestone 2" test case 11.1;
// ProjectEKA/hip-service DataFlow/DataFlow.cs; dimagi/commcare-hq custom/abdm/hip):
// consent known, for this HIP, GRANTED, not past dataEraseAt, the requested date range inside
// the consented one (refused, not trimmed), the HIU's key not expired. The SQL layer loads the
// stored artefact (to_json of ConsentNotify, see inbound.hpp) and passes it in.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <optional>
#include <string>

#include "core/abdm/inbound.hpp"

namespace abdm::proto {

struct HiRequestVerdict {
  bool accepted = false;
  std::string code;     // ABDM code for hi_on_request_error when refused
  std::string message;
};

// What the HIP keeps of a consent (abdm_hip.consent): enough to decide a request. After
// REVOKED, EXPIRED or DENIED only the tombstone is left (status, no dates).
struct StoredConsent {
  std::string consent_id;
  std::string hip_id;
  std::string status;  // GRANTED, REVOKED, EXPIRED, DENIED
  std::optional<TimePoint> data_erase_at, date_from, date_to;
};
StoredConsent stored_consent(const ConsentNotify& notification);

// Whether a stored consent allows sharing with this HIP now: nullopt, or the refusal (unknown →
// ABDM-1001, another HIP's → ABDM-1035, not GRANTED → ABDM-1062, past dataEraseAt → ABDM-1061).
// The first part of check_hi_request, and what the transfer worker asks again before and after
// packaging (abdm_hip_internal.transfer_consent_problem), so a revocation meanwhile stops the push.
std::optional<HiRequestVerdict> consent_refusal(const std::optional<StoredConsent>& consent,
                                                std::string_view consent_id, std::string_view hip_id, TimePoint now);

// The one decision on a health-information request, used by its handler
// (abdm_hip_internal.check_hi_request, sql/schema/85_hi_request.sql). `consent` is the stored consent with
// the request's id, or nullopt when none is known; `hip_id` the X-HIP-ID the request arrived
// with. In order: unknown → ABDM-1001 "No data found"; another HIP's consent → ABDM-1035
// "Invalid HIP ID" (its status is not disclosed); not GRANTED → ABDM-1062; past dataEraseAt →
// ABDM-1061; date range reversed or outside the consent's → ABDM-1063 (NHA M2 v2.8 §9 code list);
// key expired or not a Curve25519 public key → ABDM-9999 (no V3 code; v0.5 reference HIP 3410
// ExpiredKeyPair). Each message starts with the field it is about.
HiRequestVerdict check_hi_request(const HiRequest& request, const std::optional<StoredConsent>& consent,
                                  std::string_view hip_id, TimePoint now);

// The care contexts and HI types a transfer may include: all of the consent's (the V3 request
// carries no narrower list). Returns the consent's care contexts whose patient reference is
// non-empty, deduplicated, in consent order.
std::vector<ConsentCareContext> consented_care_contexts(const ConsentDetail& consent);

}  // namespace abdm::proto
