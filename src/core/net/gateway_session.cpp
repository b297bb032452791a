#include "core/net/gateway_session.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/net/v3_headers.hpp"
#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using nlohmann::json;
using std::chrono::seconds;

void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void require(const std::string& value, const char* field) {
  if (value.empty()) throw Error(sqlstate::kNotNull, field, "is required");
}

}  // namespace

SessionToken parse_session_response(std::string_view body) {
  const json v = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded() || !v.is_object())
    throw Error(sqlstate::kInvalidText, "body", "session response is not a JSON object");
  SessionToken t;
  auto tok = v.find("accessToken");
  if (tok == v.end() || !tok->is_string() || tok->get<std::string>().empty())
    throw Error(sqlstate::kNotNull, "accessToken", "missing or not a non-empty string");
  auto exp = v.find("expiresIn");
  long long secs = 0;
  if (exp != v.end() && exp->is_number_integer()) {
    secs = exp->get<long long>();
  } else if (exp != v.end() && exp->is_number_float()) {
    // Range first: converting a double beyond long long (1e300) is undefined behaviour (UBSan;
    // test/fuzz/session_fuzz). Anything outside the range below is refused just after.
    const double d = exp->get<double>();
    secs = d >= 1 && d <= 7 * 24 * 3600 ? static_cast<long long>(d) : 0;
  } else if (exp != v.end() && exp->is_string()) {
    const std::string s = exp->get<std::string>();
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](unsigned char ch) { return ch >= '0' && ch <= '9'; }))
      throw Error(sqlstate::kInvalidText, "expiresIn", "not a number of seconds");
    secs = std::stoll(s);
  } else {
    throw Error(sqlstate::kNotNull, "expiresIn", "missing or not a number");
  }
  if (secs <= 0 || secs > 7 * 24 * 3600)
    throw Error(sqlstate::kInvalidParameter, "expiresIn", "out of range (1 s .. 7 days)");
  t.access_token = tok->get<std::string>();
  t.expires_in = seconds(secs);
  return t;
}

GatewaySession::GatewaySession(SessionConfig config) : config_(std::move(config)) {
  require(config_.client_id, "client_id");
  require(config_.client_secret, "client_secret");
  require(config_.cm_id, "cm_id");
  if (config_.base_url.rfind("http://", 0) != 0 && config_.base_url.rfind("https://", 0) != 0)
    throw Error(sqlstate::kInvalidParameter, "base_url", "must start with http:// or https://");
  while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
  std::random_device rd;
  rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
}

GatewaySession::~GatewaySession() {
  wipe(config_.client_secret);
  wipe_token();
}

void GatewaySession::wipe_token() noexcept { wipe(token_); }

GatewaySession::TimePoint GatewaySession::compute_renew_at(TimePoint obtained,
                                                           seconds expires_in) noexcept {
  using std::chrono::milliseconds;
  const milliseconds e = expires_in;
  const milliseconds at_80 = e * 8 / 10;
  const milliseconds before_60 = e - seconds(60);
  const milliseconds half = e / 2;
  return obtained + std::max(std::min(at_80, before_60), half);
}

bool GatewaySession::has_token(TimePoint now) const noexcept {
  return !token_.empty() && !invalidated_ && now < expires_at_;
}

bool GatewaySession::renewal_due(TimePoint now) const noexcept {
  if (in_flight_ || now < next_attempt_at_) return false;
  return token_.empty() || invalidated_ || now >= renew_at_;
}

GatewaySession::TimePoint GatewaySession::next_renewal_check(TimePoint now) const noexcept {
  if (in_flight_) return TimePoint::max();
  TimePoint t = (token_.empty() || invalidated_) ? now : renew_at_;
  return std::max(t, next_attempt_at_);
}

Request GatewaySession::build_renewal_request(std::int64_t id, TimePoint now) {
  if (in_flight_) throw Error(sqlstate::kInternal, "", "a session request is already in flight");
  Request r;
  r.id = id;
  r.method = Method::kPost;
  r.url = config_.base_url + "/gateway/v3/sessions";
  r.headers = build_v3_unauthenticated_headers(new_request_id(), config_.cm_id, now);
  json body = {{"clientId", config_.client_id},
               {"clientSecret", config_.client_secret},
               {"grantType", "client_credentials"}};
  r.body = body.dump();
  // json's own copy of the secret is freed by ~json; the string it lived in is wiped here.
  wipe(body["clientSecret"].get_ref<std::string&>());
  r.timeout_ms = config_.timeout_ms;
  r.connect_timeout_ms = config_.connect_timeout_ms;
  r.ca_file = config_.ca_file;
  r.verify_tls = config_.verify_tls;
  r.redact = true;
  in_flight_ = true;
  return r;
}

bool GatewaySession::on_renewal_result(Result& r, TimePoint now) {
  in_flight_ = false;
  r.redact = true;  // whatever the caller did, this body is never shown
  bool ok = false;
  const Classification c = classify(r);
  if (c.verdict == Verdict::kSuccess) {
    try {
      SessionToken t = parse_session_response(r.body);
      adopt(std::move(t.access_token), now, t.expires_in);
      wipe(t.access_token);
      ok = true;
    } catch (const Error& e) {
      last_error_ = std::string("session response unusable: ") + e.what();
    }
  } else {
    last_error_ = "session request failed: " + c.reason;
  }
  wipe(r.body);
  if (!ok) {
    ++failures_;
    next_attempt_at_ = now + backoff_delay(config_.failure_backoff, failures_, rng_());
  }
  return ok;
}

void GatewaySession::invalidate(std::uint64_t generation_used) noexcept {
  if (generation_used == generation_) invalidated_ = true;
}

void GatewaySession::adopt(std::string token, TimePoint obtained_at, seconds expires_in) {
  if (token.empty()) throw Error(sqlstate::kNotNull, "accessToken", "is required");
  if (expires_in.count() <= 0)
    throw Error(sqlstate::kInvalidParameter, "expiresIn", "must be positive");
  wipe_token();
  token_ = std::move(token);
  ++generation_;
  invalidated_ = false;
  obtained_at_ = obtained_at;
  expires_at_ = obtained_at + expires_in;
  renew_at_ = compute_renew_at(obtained_at, expires_in);
  failures_ = 0;
  next_attempt_at_ = TimePoint{};
  last_error_.clear();
}

}  // namespace abdm::net
