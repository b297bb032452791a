// SQL entry points of Fidelius, the ABDM data-transfer encryption (src/core/crypto/fidelius.hpp):
//   abdm_hip.fidelius_generate_key_material() → jsonb {privateKey, publicKey, x509PublicKey, nonce}
//   abdm_hip.fidelius_encrypt(plaintext, sender_private_key, sender_nonce, requester_public_key, requester_nonce)
//   abdm_hip.fidelius_decrypt(ciphertext, requester_private_key, requester_nonce, sender_public_key, sender_nonce)
//   abdm_hip.fidelius_checksum(plaintext) → base64(MD5(UTF-8 bytes))
// ABDM encrypts the UTF-8 bytes of the FHIR JSON (NHA ABDM docs, "Health record format"), so text
// is converted from and to the database encoding at this boundary (a no-op in a UTF-8 database).
#include "pg/datum.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "mb/pg_wchar.h"
}

#include <cstring>
#include <string>
#include <string_view>

#include "core/crypto/checksum.hpp"
#include "core/crypto/fidelius.hpp"

namespace {

// The bytes of a text argument in UTF-8, without copying in a UTF-8 database. The memory belongs
// to the call's memory context and outlives the C++ body.
std::string_view arg_utf8(FunctionCallInfo fcinfo, int n) {
  text* t = abdm_pg::pg_call([&] { return PG_GETARG_TEXT_PP(n); });
  const char* data = VARDATA_ANY(t);
  const int len = static_cast<int>(VARSIZE_ANY_EXHDR(t));
  const char* utf8 = abdm_pg::pg_call([&] { return pg_server_to_any(data, len, PG_UTF8); });
  return std::string_view(utf8, utf8 == data ? static_cast<size_t>(len) : strlen(utf8));
}

// A short argument (key, nonce, base64 text) as a view; no conversion needed for base64.
std::string_view arg_view(FunctionCallInfo fcinfo, int n) {
  text* t = abdm_pg::pg_call([&] { return PG_GETARG_TEXT_PP(n); });
  return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// Decrypted bytes become text only if they are valid UTF-8 without NUL (what a FHIR JSON string
// is); anything else is reported, never passed on as mojibake.
Datum utf8_text_datum(const std::string& utf8) {
  const char* data = utf8.data();
  const int len = static_cast<int>(utf8.size());
  if (!abdm_pg::pg_call([&] { return pg_verify_mbstr(PG_UTF8, data, len, true); }))
    throw abdm::Error("22021", "ciphertext", "the decrypted data is not valid UTF-8 text");
  return abdm_pg::pg_call([&] {
    char* server = pg_any_to_server(data, len, PG_UTF8);
    return PointerGetDatum(cstring_to_text_with_len(server, server == data ? len : static_cast<int>(strlen(server))));
  });
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(abdm_fidelius_generate_key_material);
PGDLLEXPORT Datum abdm_fidelius_generate_key_material(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const abdm::crypto::KeyMaterial km = abdm::crypto::generate_key_material();
    nlohmann::json out = {
        {"privateKey", km.private_key},
        {"publicKey", km.public_key},
        {"x509PublicKey", km.x509_public_key},
        {"nonce", km.nonce},
    };
    return abdm_pg::jsonb_datum(out);
  });
}

PG_FUNCTION_INFO_V1(abdm_fidelius_encrypt);
PGDLLEXPORT Datum abdm_fidelius_encrypt(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::string_view plaintext = arg_utf8(fcinfo, 0);
    const abdm::crypto::SessionKeys keys = abdm::crypto::sender_session_keys(
        arg_view(fcinfo, 1), arg_view(fcinfo, 2), arg_view(fcinfo, 3), arg_view(fcinfo, 4));
    const size_t size = abdm::crypto::encrypted_size(plaintext.size());
    if (size > MaxAllocSize - VARHDRSZ)
      throw abdm::Error(abdm::sqlstate::kInvalidParameter, "plaintext",
                        "too large: its encryption would exceed PostgreSQL's 1 GB limit for a text value");
    // The result is written straight into the text value: one pass of AES-GCM and base64, no copy.
    text* result = abdm_pg::pg_call([&] {
      text* t = static_cast<text*>(palloc(VARHDRSZ + size));
      SET_VARSIZE(t, VARHDRSZ + size);
      return t;
    });
    abdm::crypto::encrypt_into(keys, plaintext, VARDATA(result));
    return PointerGetDatum(result);
  });
}

PG_FUNCTION_INFO_V1(abdm_fidelius_decrypt);
PGDLLEXPORT Datum abdm_fidelius_decrypt(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::string plaintext = abdm::crypto::decrypt(arg_view(fcinfo, 0), arg_view(fcinfo, 1), arg_view(fcinfo, 2),
                                                        arg_view(fcinfo, 3), arg_view(fcinfo, 4));
    return utf8_text_datum(plaintext);
  });
}

PG_FUNCTION_INFO_V1(abdm_fidelius_checksum);
PGDLLEXPORT Datum abdm_fidelius_checksum(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    return abdm_pg::text_datum(abdm::crypto::md5_base64(arg_utf8(fcinfo, 0)));
  });
}

}  // extern "C"
