#include "core/bridge/gateway_keys.hpp"

#include "core/util/error.hpp"

namespace abdm::bridge {

using auth::JwksRefreshPolicy;
using auth::JwtFailure;

GatewayKeys::GatewayKeys(TokenFn token, Logger log) : token_(std::move(token)), log_(std::move(log)) {}

GatewayKeys::~GatewayKeys() = default;

void GatewayKeys::configure(const GatewayKeysConfig& config, std::chrono::seconds min_refresh_interval,
                            std::chrono::seconds max_age) {
  if (config.certs_url != config_.certs_url) {
    keys_ = auth::Jwks();
    refresh_ = JwksRefreshPolicy(min_refresh_interval, max_age);
  }
  config_ = config;
  refresh_.set_min_interval(min_refresh_interval);
  refresh_.set_max_age(max_age);
}

bool GatewayKeys::fetch(Clock::time_point now) {
  ++fetches_;
  bool ok = false;
  try {
    if (!http_) {
      net::HttpMultiOptions options;
      options.max_response_bytes = auth::kMaxJwksBytes;
      http_ = std::make_unique<net::HttpMulti>(options);
    }
    net::Request req;
    req.id = fetches_;
    req.method = net::Method::kGet;
    req.url = config_.certs_url;
    req.ca_file = config_.ca_file;
    req.verify_tls = config_.verify_tls;
    req.timeout_ms = config_.timeout_ms;
    req.connect_timeout_ms = config_.timeout_ms;
    req.headers.push_back({"Accept", "application/json"});
    // The sandbox answers 401 without the session token, though the documents say none is needed.
    if (std::string token = token_ ? token_() : std::string(); !token.empty())
      req.headers.push_back({"Authorization", "Bearer " + token});
    http_->submit(std::move(req));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.timeout_ms + 1000);
    std::vector<net::Result> results;
    while (results.empty() && std::chrono::steady_clock::now() < deadline)
      results = http_->poll(static_cast<int>(std::min<long>(config_.timeout_ms, 250)));
    if (results.empty()) {
      http_->abort_all();
      http_->poll(0);
      last_error_ = "no answer from " + config_.certs_url;
    } else if (const net::Result& r = results.front(); !r.transport_ok()) {
      last_error_ = "GET " + config_.certs_url + ": " + r.curl_error;
    } else if (r.http_status != 200) {
      last_error_ = "GET " + config_.certs_url + ": HTTP " + std::to_string(r.http_status);
    } else {
      auth::Jwks fresh(r.body);
      if (fresh.empty()) {
        last_error_ = "GET " + config_.certs_url + ": no usable RSA signing key (" + fresh.skipped_summary() + ")";
      } else {
        keys_ = std::move(fresh);
        ok = true;
        last_error_.clear();
        if (log_) {
          std::string line = "abdm_hip bridge: " + std::to_string(keys_.size()) + " gateway signing key(s) from " +
                             config_.certs_url;
          if (keys_.skipped_count() > 0) line += "; skipped " + keys_.skipped_summary();
          log_(line);
        }
      }
    }
  } catch (const std::exception& e) {
    last_error_ = "GET " + config_.certs_url + ": " + e.what();
  }
  refresh_.fetched(ok, now);
  if (!ok && log_) log_("abdm_hip bridge: cannot fetch the gateway's signing keys: " + last_error_);
  return ok;
}

GatewayKeys::Verdict GatewayKeys::verify(std::string_view token, const auth::JwtPolicy& policy, Clock::time_point now) {
  Verdict v;
  if (keys_.empty()) {
    if (refresh_.should_fetch(JwksRefreshPolicy::Reason::kNoKeys, now)) fetch(now);
    if (keys_.empty()) {
      v.keys_unavailable = true;
      v.jwt.failure = JwtFailure::kUnknownKid;
      v.jwt.reason = "the gateway's signing keys are not available (" + last_error_ + ")";
      return v;
    }
  } else if (refresh_.should_fetch(JwksRefreshPolicy::Reason::kMaxAge, now)) {
    fetch(now);  // a failure keeps the keys we have
  }
  v.jwt = auth::verify_jwt(token, keys_, policy, now);
  if (v.jwt.failure == JwtFailure::kUnknownKid && refresh_.should_fetch(JwksRefreshPolicy::Reason::kUnknownKid, now) &&
      fetch(now))
    v.jwt = auth::verify_jwt(token, keys_, policy, now);
  return v;
}

}  // namespace abdm::bridge
