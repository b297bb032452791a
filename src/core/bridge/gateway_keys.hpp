// The gateway's signing keys as the bridge holds them: the JWKS fetched from the gateway's certs
// endpoint, kept in memory, refreshed when a token names a key we do not have (at most once per
// interval, so tokens with made-up kids cannot make us fetch in a loop) and when the set grows
// old; and the verification of a bearer token against them.
//
// The fetch is synchronous (a few milliseconds to the gateway, bounded by a timeout): it happens
// at the first call, at most once a minute for unknown kids and once an hour otherwise, so the
// other connections' wait is rare and bounded. An asynchronous fetch would need the listener to
// park requests; not worth it at these rates (docs/design-notes.md, "The bridge listener").
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/auth/jwks.hpp"
#include "core/auth/jwks_refresh.hpp"
#include "core/auth/jwt.hpp"
#include "core/net/http_multi.hpp"

namespace abdm::bridge {

struct GatewayKeysConfig {
  std::string certs_url;  // {gateway}/gateway/v3/certs
  std::string ca_file;
  bool verify_tls = true;
  long timeout_ms = 5000;
};

class GatewayKeys {
 public:
  using Clock = std::chrono::system_clock;
  // The gateway session token to send with the fetch ("" when none: sent without Authorization).
  using TokenFn = std::function<std::string()>;
  using Logger = std::function<void(const std::string&)>;

  GatewayKeys(TokenFn token, Logger log);
  ~GatewayKeys();

  // On start and on every configuration reload. A new certs URL drops the cached keys.
  void configure(const GatewayKeysConfig& config, std::chrono::seconds min_refresh_interval,
                 std::chrono::seconds max_age);

  struct Verdict {
    auth::JwtResult jwt;
    // No key set could be had (none cached and the fetch failed or is not yet allowed again):
    // the call cannot be judged, so it is answered 503 and the gateway tries again later.
    bool keys_unavailable = false;
  };
  Verdict verify(std::string_view token, const auth::JwtPolicy& policy, Clock::time_point now);

  std::size_t key_count() const noexcept { return keys_.size(); }
  const auth::JwksRefreshPolicy& refresh_policy() const noexcept { return refresh_; }
  const std::string& last_fetch_error() const noexcept { return last_error_; }
  int fetches() const noexcept { return fetches_; }

 private:
  bool fetch(Clock::time_point now);

  TokenFn token_;
  Logger log_;
  GatewayKeysConfig config_;
  auth::JwksRefreshPolicy refresh_;
  auth::Jwks keys_;
  std::unique_ptr<net::HttpMulti> http_;
  std::string last_error_;
  int fetches_ = 0;
};

}  // namespace abdm::bridge
