// The key that seals secrets at rest (core/crypto/sealed_secret): 32 random bytes in a file beside
// the database, never in it. The file holds the key as one line of base64, so a DBA can make one
// with `openssl rand -base64 32` and compare two nodes' files by eye.
//
// Like PostgreSQL's own server.key, the file must be a regular file that only its owner may read or
// write (mode 0600 or 0400): a key others can read is refused, not used.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>

#include "core/crypto/sealed_secret.hpp"

namespace abdm::crypto {

// Reads the key. Errors (SQLSTATE F0000, field "abdm_hip.secret_key_file") say what is wrong: the
// file is missing, is not a regular file, is open to group or others, or does not hold 32 bytes.
SecretKey read_secret_key_file(const std::string& path);

// Reads the key, first creating the file with a new random key when there is none. The file is
// written whole under a temporary name and linked into place, so two processes that create it at
// once both end up with the one that was linked first. *created says whether this call made it.
SecretKey read_or_create_secret_key_file(const std::string& path, bool* created);

}  // namespace abdm::crypto
