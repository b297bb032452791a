// One-time passwords for user-initiated linking. The HIP generates, sends, stores and validates
// the OTP itself (NHA integrator FAQ v1.4); NHA publishes no format, so this follows common
// practice in the implementations: 6 digits, stored only as a salted hash
// (ohcnetwork/care-abdm hip/rules.py), compared in constant time.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>

namespace abdm::proto {

// The length of the OTPs this HIP sends: what a token that arrives as a JSON number is padded to.
inline constexpr int kOtpDigits = 6;

// `digits` decimal digits (1..12, default kOtpDigits) drawn uniformly from OpenSSL's CSPRNG.
std::string generate_otp(int digits = kOtpDigits);

// "v1$<salt>$<hash>": salt = 16 random bytes, hash = PBKDF2-HMAC-SHA256(otp, salt, 10 000
// iterations, 32 bytes), both standard base64. A 6-digit secret cannot be made strong by any
// hash; the iterations only slow an offline guess at a leaked row during the OTP's few minutes
// of life, at ~2 ms per hash here.
std::string hash_otp(std::string_view otp);

// True when `otp` hashes to `stored`; constant time in the hash comparison (CRYPTO_memcmp).
// False (never an exception) for a malformed `stored`.
bool verify_otp(std::string_view otp, std::string_view stored);

// communicationHint for a mobile: its 10 digits with all but the first two and last two masked,
// "98******32" (ProjectEKA/hip-service Link/LinkPatient.cs sends such a hint). Throws
// abdm::Error when `mobile` is not a recognisable Indian mobile number.
std::string mask_mobile(std::string_view mobile);

// A link reference number for on-init: a random UUID.
std::string new_link_reference();

}  // namespace abdm::proto
