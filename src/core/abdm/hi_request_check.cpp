#include "core/abdm/hi_request_check.hpp"

#include <algorithm>

#include "core/abdm/error_reply.hpp"

namespace abdm::proto {

HiRequestVerdict check_hi_request(const HiRequest& r, const std::optional<ConsentNotify>& consent,
                                  std::string_view hip_id, TimePoint now) {
  auto refuse = [](const char* code, std::string message) { return HiRequestVerdict{false, code, std::move(message)}; };
  if (!consent || consent->consent_id != r.consent_id)
    return refuse(code::kNoDataFound, "Consent artefact " + r.consent_id + " not found");
  if (consent->status != "GRANTED" || !consent->detail)
    return refuse(code::kConsentNotGranted, "Consent not granted (status " + consent->status + ")");
  const ConsentDetail& d = *consent->detail;
  if (!hip_id.empty() && d.hip_id != hip_id)
    return refuse(code::kInvalidHipIdOrOtp, "Invalid HIP ID: consent is for " + d.hip_id);
  if (now >= d.data_erase_at)
    return refuse(code::kConsentExpired, "Consent artefact expired at " + format_timestamp(d.data_erase_at));
  if (r.date_from < d.date_from || r.date_to > d.date_to)
    return refuse(code::kInvalidDateRange, "Date range given is invalid: " + format_timestamp(r.date_from) + " to " +
                                               format_timestamp(r.date_to) + " is not inside the consented " +
                                               format_timestamp(d.date_from) + " to " + format_timestamp(d.date_to));
  if (r.key_material.key_expiry <= now)
    return refuse(code::kValidation, "Key material expired at " + format_timestamp(r.key_material.key_expiry));
  return {true, "", ""};
}

std::vector<ConsentCareContext> consented_care_contexts(const ConsentDetail& consent) {
  std::vector<ConsentCareContext> out;
  for (const auto& c : consent.care_contexts) {
    const bool dup = std::any_of(out.begin(), out.end(), [&](const ConsentCareContext& x) {
      return x.patient_reference == c.patient_reference && x.care_context_reference == c.care_context_reference;
    });
    if (!dup) out.push_back(c);
  }
  return out;
}

}  // namespace abdm::proto
