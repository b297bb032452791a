// abdm_hip_internal.seal_secret(purpose text, value text) → text, and the opening side for the
// workers (pg/sealed_secrets.hpp). The key file is abdm_hip.secret_key_file, relative to the data
// directory unless absolute (every backend runs in it). Sealing makes the file when there is none
// and logs that it did: a new key means that what was sealed under another one cannot be opened
// here, and that a standby needs a copy (README "Secrets at rest").
//
// The key is read once per process and kept; a key file replaced under a running server takes
// effect at its restart (the setting is postmaster-only for the same reason).
extern "C" {
#include "postgres.h"
#include "access/xlog.h"
#include "fmgr.h"
}

#include "pg/sealed_secrets.hpp"

#include <openssl/crypto.h>

#include <optional>

#include "core/crypto/secret_key_file.hpp"
#include "pg/datum.hpp"
#include "pg/guard.hpp"
#include "pg/gucs.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

std::optional<abdm::crypto::SecretKey>& cached_key() {
  static std::optional<abdm::crypto::SecretKey> key;
  return key;
}

std::string key_path() { return abdm_secret_key_file && *abdm_secret_key_file ? abdm_secret_key_file : ""; }

const abdm::crypto::SecretKey& server_key(bool create) {
  auto& key = cached_key();
  if (key) return *key;
  const std::string path = key_path();
  bool created = false;
  key = create ? abdm::crypto::read_or_create_secret_key_file(path, &created)
               : abdm::crypto::read_secret_key_file(path);
  if (created)
    log_line("abdm_hip: created the secret key file " + path + " (key " + key->id +
             "); every standby needs a copy of it (README \"Secrets at rest\")");
  return *key;
}

}  // namespace

std::string open_sealed(std::string_view purpose, std::string_view sealed, std::string_view field) {
  return abdm::crypto::open_secret(server_key(false), purpose, sealed, field);
}

}  // namespace abdm_pg

extern "C" {
PG_FUNCTION_INFO_V1(abdm_seal_secret);
PGDLLEXPORT Datum abdm_seal_secret(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::string purpose = abdm_pg::arg_text(fcinfo, 0);
    std::string value = abdm_pg::arg_text(fcinfo, 1);
    const std::string sealed = abdm::crypto::seal_secret(abdm_pg::server_key(true), purpose, value);
    OPENSSL_cleanse(value.data(), value.size());
    return abdm_pg::text_datum(sealed);
  });
}

// abdm_hip.secret_key_id() → text: the id of this server's key (the one in every value it seals),
// for comparing nodes before a fail-over. Makes the key file on a primary that has none, so that
// a standby cloned after CREATE EXTENSION has a copy; on a standby it only reads.
PG_FUNCTION_INFO_V1(abdm_secret_key_id);
PGDLLEXPORT Datum abdm_secret_key_id(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const bool standby = abdm_pg::pg_call([] { return RecoveryInProgress(); });
    return abdm_pg::text_datum(abdm_pg::server_key(!standby).id);
  });
}

// abdm_hip_internal.secret_key_state() → jsonb {"id": text or null, "problem": text or null}: the
// key file as this server would read it now, never making one (for abdm_hip.bridge_status, so a
// standby without the primary's key says so before a promotion, not after).
PG_FUNCTION_INFO_V1(abdm_secret_key_state);
PGDLLEXPORT Datum abdm_secret_key_state(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    nlohmann::json state = {{"id", nullptr}, {"problem", nullptr}};
    try {
      state["id"] = abdm::crypto::read_secret_key_file(abdm_pg::key_path()).id;
    } catch (const abdm::Error& e) {
      state["problem"] = e.what();
    }
    return abdm_pg::jsonb_datum(state);
  });
}
}
