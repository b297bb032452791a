// The gateway session token as a state machine with no I/O of its own: it builds the session
// request, the caller sends it (HttpMulti), and hands the Result back. It knows the current token,
// when to renew it, and when a refused token must be dropped.
//
// Protocol: POST {base}/gateway/v3/sessions with {clientId, clientSecret, grantType:
// "client_credentials"} and the V3 headers REQUEST-ID, TIMESTAMP, X-CM-ID; the answer carries
// accessToken and expiresIn in seconds (NHA Sandbox Documentation ABDM M2 v2.8 §3.2.1; seconds per
// ProjectEKA gateway clients/model/Session.java). No endpoint consumes the refresh token, so a new
// session is created before expiry (ohcnetwork/care-abdm docs/findings.md B3). A token refused with
// 401 or WSO2 code 900901 is renewed once (10bedicu/care_abdm service/request.py).
//
// Secrets: the session request is marked `redact` (its body holds the client secret, its answer
// the token), so neither ever reaches a log or a failure reason; the secret and token held here are
// wiped when replaced or destroyed.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include "core/net/http_multi.hpp"
#include "core/net/retry_policy.hpp"

namespace abdm::net {

struct SessionConfig {
  std::string base_url;        // e.g. "https://dev.abdm.gov.in/api/hiecm" (no trailing path)
  std::string client_id;       // the bridge id, "SBX_000000"
  std::string client_secret;
  std::string cm_id;           // X-CM-ID: "sbx" or "abdm"
  long timeout_ms = 10000;
  long connect_timeout_ms = 5000;
  std::string ca_file;         // "" = system store
  bool verify_tls = true;
  // Delay between failed session attempts (bad credentials must not turn into a request storm).
  BackoffPolicy failure_backoff{std::chrono::seconds(1), std::chrono::minutes(5), 1 << 30};
};

class GatewaySession {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // Throws abdm::Error for a missing client id, secret or CM id, or a base URL that is not http(s).
  explicit GatewaySession(SessionConfig config);
  ~GatewaySession();
  GatewaySession(const GatewaySession&) = delete;
  GatewaySession& operator=(const GatewaySession&) = delete;

  // A token that is present, not invalidated and not past its expiry.
  bool has_token(TimePoint now) const noexcept;
  // The current token ("" when none); send as "Authorization: Bearer <token>".
  const std::string& access_token() const noexcept { return token_; }
  // Increases every time a new token is adopted; remember it with each call so that a 401 on a call
  // made with an old token does not throw away a newer one (see invalidate()).
  std::uint64_t generation() const noexcept { return generation_; }
  TimePoint obtained_at() const noexcept { return obtained_at_; }
  TimePoint expires_at() const noexcept { return expires_at_; }
  TimePoint renew_at() const noexcept { return renew_at_; }

  // True when a session request should be sent now: no request in flight, the token is missing,
  // invalidated or at its renewal time, and any back-off after a failed attempt has passed.
  bool renewal_due(TimePoint now) const noexcept;
  bool renewal_in_flight() const noexcept { return in_flight_; }
  // When renewal_due() will next become true if nothing changes (for the caller's wait timeout).
  TimePoint next_renewal_check(TimePoint now) const noexcept;

  // The session request (redact = true); marks a renewal as in flight. `id` is the HttpMulti id the
  // caller will recognise the Result by. Throws abdm::Error when a renewal is already in flight.
  Request build_renewal_request(std::int64_t id, TimePoint now);

  // Feeds back the Result of that request. On success adopts the new token and returns true; on
  // failure keeps any still-valid token, records last_error() (never the body) and schedules the next
  // attempt with back-off. The body (it holds the token) is wiped from `r` either way.
  bool on_renewal_result(Result& r, TimePoint now);

  // A call made with the token of `generation_used` was refused (401/900901): drop that token so the
  // next renewal_due() is true — unless a newer token has been adopted since.
  void invalidate(std::uint64_t generation_used) noexcept;

  // Installs a token obtained elsewhere (another worker, via the caller's shared-memory cache).
  void adopt(std::string token, TimePoint obtained_at, std::chrono::seconds expires_in);

  const std::string& last_error() const noexcept { return last_error_; }
  int consecutive_failures() const noexcept { return failures_; }

  // Renewal time: obtained + min(0.8·expiresIn, expiresIn − 60 s), but never earlier than
  // obtained + expiresIn/2 (so a short-lived token cannot make the caller renew in a loop).
  static TimePoint compute_renew_at(TimePoint obtained, std::chrono::seconds expires_in) noexcept;

 private:
  void wipe_token() noexcept;

  SessionConfig config_;
  std::string token_;
  std::uint64_t generation_ = 0;
  bool invalidated_ = false;
  bool in_flight_ = false;
  TimePoint obtained_at_{};
  TimePoint expires_at_{};
  TimePoint renew_at_{};
  TimePoint next_attempt_at_{};
  int failures_ = 0;
  std::string last_error_;
  std::mt19937_64 rng_;
};

// Parses a session response body: {"accessToken": "...", "expiresIn": <seconds>, ...}.
// Throws abdm::Error (field "accessToken"/"expiresIn") when either is missing or invalid; the
// error text never contains the body.
struct SessionToken {
  std::string access_token;
  std::chrono::seconds expires_in{0};
};
SessionToken parse_session_response(std::string_view body);

}  // namespace abdm::net
