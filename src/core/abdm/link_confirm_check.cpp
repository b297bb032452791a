#include "core/abdm/link_confirm_check.hpp"

#include "core/abdm/error_reply.hpp"
#include "core/abdm/otp.hpp"

namespace abdm::proto {

LinkConfirmVerdict check_link_confirm(std::string_view otp, const std::optional<PendingLink>& pending, TimePoint now,
                                      int max_attempts) {
  if (!pending)
    return {LinkConfirmOutcome::kUnknownReference, code::kValidation, "Invalid link reference number", 0};
  const int attempts = pending->attempts;
  if (attempts >= max_attempts)
    return {LinkConfirmOutcome::kTooManyAttempts, code::kValidation, "OTP attempts exceeded; restart linking", attempts};
  if (now >= pending->expires_at)
    return {LinkConfirmOutcome::kExpired, code::kValidation, "OTP expired; restart linking", attempts};
  if (!verify_otp(otp, pending->otp_hash))
    return {LinkConfirmOutcome::kWrongOtp, code::kInvalidHipIdOrOtp, "Incorrect OTP", attempts + 1};
  return {LinkConfirmOutcome::kLinked, "", "", attempts};
}

std::string_view outcome_name(LinkConfirmOutcome o) {
  switch (o) {
    case LinkConfirmOutcome::kLinked: return "linked";
    case LinkConfirmOutcome::kUnknownReference: return "unknown_reference";
    case LinkConfirmOutcome::kExpired: return "expired";
    case LinkConfirmOutcome::kTooManyAttempts: return "too_many_attempts";
    case LinkConfirmOutcome::kWrongOtp: return "wrong_otp";
  }
  return "unknown";
}

}  // namespace abdm::proto
