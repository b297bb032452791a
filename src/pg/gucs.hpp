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
extern int abdm_max_in_flight;
extern int abdm_retention_days;
extern char* abdm_sms_notify_interval;
extern char* abdm_sms_phone_format;
extern int abdm_max_request_age_s;
extern int abdm_max_clock_skew_s;
extern int abdm_otp_expiry_s;
extern int abdm_otp_max_attempts;
extern char* abdm_otp_sms_url;
extern bool abdm_otp_notify;
extern int abdm_yob_tolerance;
extern double abdm_name_match_threshold;
extern char* abdm_link_auth_type;
}

namespace abdm_pg {
void define_gucs();
}
