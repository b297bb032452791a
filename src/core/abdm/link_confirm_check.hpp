// Deciding a link confirmation: the OTP the patient typed against the stored salted hash, its
// expiry and the attempt limit. NHA publishes neither validity nor attempt limit (the HIP owns
// the OTP, NHA integrator FAQ v1.4); defaults elsewhere are 10 minutes and 3 attempts.
// A wrong OTP answers ABDM-1035 "Incorrect OTP" (NHA-ABDM/ABDM-wrapper GatewayConstants); V3 has
// no codes for the other refusals, so they use ABDM-9999 with a message of their own.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <optional>
#include <string>
#include <string_view>

#include "core/abdm/time.hpp"

namespace abdm::proto {

enum class LinkConfirmOutcome { kLinked, kUnknownReference, kExpired, kTooManyAttempts, kWrongOtp };

struct PendingLink {
  std::string otp_hash;   // hash_otp() output
  TimePoint expires_at;
  int attempts = 0;       // failed attempts so far
};

struct LinkConfirmVerdict {
  LinkConfirmOutcome outcome;
  std::string code;     // "" when linked
  std::string message;
  // The failed-attempt count to store (attempts + 1 after a wrong OTP, unchanged otherwise).
  int attempts_after = 0;
};

// `pending` = nullopt when no link request has that reference (or it was already used).
// Order: unknown → attempt limit reached → expired → OTP compared. An expired or exhausted
// request is refused without comparing the OTP, so it cannot serve as an oracle.
LinkConfirmVerdict check_link_confirm(std::string_view otp, const std::optional<PendingLink>& pending, TimePoint now,
                                      int max_attempts = 3);

std::string_view outcome_name(LinkConfirmOutcome o);  // "linked", "unknown_reference", ...

}  // namespace abdm::proto
