// The extension's settings (abdm_hip.*) that C code reads. Defined in gucs.cpp, registered by
// _PG_init. The settings only SQL reads (current_setting, with no default of its own: the
// definition in gucs.cpp is the one default) keep their storage private to gucs.cpp.
#pragma once

extern "C" {
extern char* abdm_gateway_url;
extern char* abdm_cm_id;
extern char* abdm_client_id;
extern char* abdm_client_secret_file;
extern char* abdm_secret_key_file;
extern char* abdm_database;
extern char* abdm_ca_file;
extern bool abdm_verify_tls;
extern int abdm_http_timeout_ms;
extern int abdm_max_attempts;
extern int abdm_max_in_flight;
extern int abdm_push_entries_per_page;
extern int abdm_push_page_max_size_kb;
extern int abdm_transfer_concurrency;
extern int abdm_share_ledger_retention_days;
extern int abdm_max_request_age_s;
extern int abdm_max_clock_skew_s;
// The bridge listener (worker_bridge.cpp).
extern char* abdm_listen_address;
extern int abdm_listen_port;
extern int abdm_bridge_workers;
extern int abdm_listen_max_connections;
extern int abdm_listen_max_header_size;
extern int abdm_listen_max_headers;
extern int abdm_listen_max_body;
extern int abdm_listen_idle_timeout_s;
extern int abdm_listen_request_timeout_ms;
extern bool abdm_verify_jwt;
extern char* abdm_jwt_issuer;
extern int abdm_jwt_leeway_s;
extern char* abdm_jwt_role;
extern int abdm_jwks_refresh_interval_s;
extern int abdm_jwks_max_age_s;
// Linking (link_token_sql.cpp) and the sender's rate limits (sender_rate_limits.cpp).
extern int abdm_link_token_duplicate_window_s;
extern double abdm_rate_limit_generate_token;
extern double abdm_rate_limit_link_carecontext;
extern double abdm_rate_limit_context_notify;
extern double abdm_rate_limit_sms_notify2;
extern int abdm_rate_limit_burst_ms;
}

namespace abdm_pg {
void define_gucs();
}
