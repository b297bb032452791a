// The extension's settings (abdm_hip.*). Defined in gucs.cpp, registered by _PG_init.
#pragma once

extern "C" {
extern char* abdm_gateway_url;
extern char* abdm_cm_id;
extern char* abdm_client_id;
extern char* abdm_client_secret_file;
extern char* abdm_database;
extern char* abdm_listen_address;
extern int abdm_listen_port;
extern bool abdm_verify_jwt;
extern char* abdm_ca_file;
extern bool abdm_verify_tls;
extern int abdm_http_timeout_ms;
extern int abdm_max_attempts;
extern int abdm_retention_days;
}

namespace abdm_pg {
void define_gucs();
}
