// Secrets at rest in this server: the key of abdm_hip.secret_key_file (core/crypto/secret_key_file)
// and sealing/opening with it (core/crypto/sealed_secret). Sealing happens in SQL, through
// abdm_hip_internal.seal_secret(); opening only here, in the workers that send the secret on,
// so no SQL function ever returns a secret in clear.
#pragma once

#include <string>
#include <string_view>

namespace abdm_pg {

// The purposes of the values the extension seals.
inline constexpr std::string_view kSealClientSecret = "client_secret";
inline constexpr std::string_view kSealLinkToken = "link_token";
inline constexpr std::string_view kSealOtp = "otp";

// Opens a value sealed under this server's key; throws abdm::Error naming `field`.
std::string open_sealed(std::string_view purpose, std::string_view sealed, std::string_view field);

}  // namespace abdm_pg
