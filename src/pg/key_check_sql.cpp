// abdm_hip_internal.fidelius_public_key_valid(key): whether a HIU's keyValue is a usable Curve25519
// (Weierstrass) public key in either encoding ABDM uses — checked when the request arrives, so a
// bad key is refused in on-request instead of failing later in the transfer.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

#include <string>

#include "core/crypto/fidelius_keys.hpp"
#include "pg/guard.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_fidelius_public_key_valid);
PGDLLEXPORT Datum abdm_fidelius_public_key_valid(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string key = abdm_pg::arg_text(fcinfo, 0);
    bool valid = true;
    try {
      abdm::crypto::parse_public_key(key, "keyValue");
    } catch (const abdm::Error&) {
      valid = false;  // not on the curve, wrong length, bad base64: all mean "not usable"
    }
    return BoolGetDatum(valid);
  });
}
}
