#include "core/abdm/hi_request_check.hpp"

#include <algorithm>

#include "core/abdm/error_reply.hpp"
#include "core/crypto/fidelius_keys.hpp"

namespace abdm::proto {

StoredConsent stored_consent(const ConsentNotify& n) {
  StoredConsent c{n.consent_id, "", n.status, std::nullopt, std::nullopt, std::nullopt};
  if (n.detail) {
    c.hip_id = n.detail->hip_id;
    c.data_erase_at = n.detail->data_erase_at;
    c.date_from = n.detail->date_from;
    c.date_to = n.detail->date_to;
  }
  return c;
}

std::optional<HiRequestVerdict> consent_refusal(const std::optional<StoredConsent>& consent,
                                                std::string_view consent_id, std::string_view hip_id, TimePoint now) {
  auto refuse = [](const char* code, std::string message) { return HiRequestVerdict{false, code, std::move(message)}; };
  const std::string id(consent_id), hip(hip_id);
  if (!consent || consent->consent_id != consent_id)
    return refuse(code::kNoDataFound, "hiRequest.consent.id: consent " + id + " is not known to HIP " + hip);
  if (!hip_id.empty() && consent->hip_id != hip_id)
    return refuse(code::kInvalidHipIdOrOtp, "hiRequest.consent.id: consent " + id + " was not granted to HIP " + hip);
  if (consent->status != "GRANTED" || !consent->data_erase_at)
    return refuse(code::kConsentNotGranted, "hiRequest.consent.id: consent is " + consent->status + ", not GRANTED");
  if (now >= *consent->data_erase_at)
    return refuse(code::kConsentExpired,
                  "hiRequest.consent.id: consent artefact expired at " + format_timestamp(*consent->data_erase_at));
  return std::nullopt;
}

HiRequestVerdict check_hi_request(const HiRequest& r, const std::optional<StoredConsent>& consent,
                                  std::string_view hip_id, TimePoint now) {
  auto refuse = [](const char* code, std::string message) { return HiRequestVerdict{false, code, std::move(message)}; };
  if (auto refusal = consent_refusal(consent, r.consent_id, hip_id, now)) return *refusal;
  if (!consent->date_from || !consent->date_to)
    return refuse(code::kConsentNotGranted, "hiRequest.consent.id: consent " + r.consent_id + " has no date range");
  if (r.date_from > r.date_to || r.date_from < *consent->date_from || r.date_to > *consent->date_to)
    return refuse(code::kInvalidDateRange, "hiRequest.dateRange: " + format_timestamp(r.date_from) + " to " +
                                               format_timestamp(r.date_to) + " is not inside the consented " +
                                               format_timestamp(*consent->date_from) + " to " +
                                               format_timestamp(*consent->date_to));
  if (r.key_material.key_expiry <= now)
    return refuse(code::kValidation, "hiRequest.keyMaterial.dhPublicKey.expiry: the HIU key expired at " +
                                         format_timestamp(r.key_material.key_expiry));
  try {
    crypto::parse_public_key(r.key_material.key_value, "keyValue");
  } catch (const Error&) {
    return refuse(code::kValidation, "hiRequest.keyMaterial.dhPublicKey.keyValue: not a Curve25519 public key "
                                     "(a 65-byte uncompressed point or an X.509 key, base64)");
  }
  try {
    crypto::parse_nonce(r.key_material.nonce, "nonce");
  } catch (const Error&) {
    return refuse(code::kValidation, "hiRequest.keyMaterial.nonce: must be base64 of 32 bytes");
  }
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
