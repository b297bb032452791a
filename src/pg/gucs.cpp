// abdm_hip.* settings. Names are part of the product's interface (README "Settings").
// PGC_POSTMASTER for what the workers need at start (database, listener, secret file);
// PGC_SIGHUP for tunables a running worker re-reads on SIGHUP. No secret is ever a GUC:
// settings show up in pg_settings and in logs (pgsodium's rule).
extern "C" {
#include "postgres.h"
#include "utils/guc.h"
}

#include "pg/gucs.hpp"

extern "C" {
char* abdm_gateway_url = nullptr;
char* abdm_cm_id = nullptr;
char* abdm_client_id = nullptr;
char* abdm_client_secret_file = nullptr;
char* abdm_database = nullptr;
char* abdm_listen_address = nullptr;
int abdm_listen_port = 0;
bool abdm_verify_jwt = true;
char* abdm_ca_file = nullptr;
bool abdm_verify_tls = true;
int abdm_http_timeout_ms = 10000;
int abdm_max_attempts = 8;
int abdm_retention_days = 30;
}

namespace abdm_pg {

void define_gucs() {
  DefineCustomStringVariable("abdm_hip.gateway_url", "Base URL of the ABDM gateway (V3).",
                             "Sandbox: https://dev.abdm.gov.in/api/hiecm; production: "
                             "https://apis.abdm.gov.in/api/hiecm.",
                             &abdm_gateway_url, "https://dev.abdm.gov.in/api/hiecm", PGC_SIGHUP, 0,
                             nullptr, nullptr, nullptr);
  DefineCustomStringVariable("abdm_hip.cm_id", "Consent manager id sent as X-CM-ID (sbx or abdm).",
                             nullptr, &abdm_cm_id, "sbx", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("abdm_hip.client_id", "Gateway client (bridge) id, e.g. SBX_000000.",
                             nullptr, &abdm_client_id, "", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("abdm_hip.client_secret_file",
                             "File holding the gateway client secret (alternative to "
                             "abdm_hip.set_client_secret()).",
                             "Read by the workers; readable by the server's OS user only.",
                             &abdm_client_secret_file, "", PGC_POSTMASTER, GUC_SUPERUSER_ONLY,
                             nullptr, nullptr, nullptr);
  DefineCustomStringVariable("abdm_hip.database", "Database the background workers connect to.",
                             nullptr, &abdm_database, "postgres", PGC_POSTMASTER, 0, nullptr,
                             nullptr, nullptr);
  DefineCustomStringVariable("abdm_hip.listen_address",
                             "Address the built-in HTTP listener (bridge worker) binds to.", nullptr,
                             &abdm_listen_address, "127.0.0.1", PGC_POSTMASTER, 0, nullptr, nullptr,
                             nullptr);
  DefineCustomIntVariable("abdm_hip.listen_port", "Port of the built-in listener; 0 = no listener.",
                          nullptr, &abdm_listen_port, 0, 0, 65535, PGC_POSTMASTER, 0, nullptr,
                          nullptr, nullptr);
  DefineCustomBoolVariable("abdm_hip.verify_jwt",
                           "Verify the gateway's bearer JWT on inbound calls against its JWKS.",
                           nullptr, &abdm_verify_jwt, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("abdm_hip.ca_file", "CA bundle for outbound TLS; empty = system default.",
                             nullptr, &abdm_ca_file, "", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("abdm_hip.verify_tls", "Verify TLS certificates of the gateway and HIUs.",
                           "Turn off only for a local test gateway.", &abdm_verify_tls, true,
                           PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("abdm_hip.http_timeout", "Timeout of one outbound HTTP call.", nullptr,
                          &abdm_http_timeout_ms, 10000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS,
                          nullptr, nullptr, nullptr);
  DefineCustomIntVariable("abdm_hip.max_attempts",
                          "Attempts for an outbound call before it is marked failed.", nullptr,
                          &abdm_max_attempts, 8, 1, 100, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("abdm_hip.retention_days",
                          "Days that finished outbox/inbox/transfer history is kept.", nullptr,
                          &abdm_retention_days, 30, 1, 3650, PGC_SIGHUP, 0, nullptr, nullptr,
                          nullptr);
  MarkGUCPrefixReserved("abdm_hip");
}

}  // namespace abdm_pg
