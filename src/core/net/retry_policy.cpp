#include "core/net/retry_policy.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using std::chrono::milliseconds;

std::string cut(std::string_view s, std::size_t n) {
  if (s.size() <= n) return std::string(s);
  return std::string(s.substr(0, n)) + "…";
}

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return out;
}

milliseconds parse_retry_after(const Result& r) {
  const std::string* v = r.header("Retry-After");
  if (!v || v->empty()) return milliseconds(0);
  if (std::all_of(v->begin(), v->end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (v->size() > 9) return std::chrono::hours(24);  // absurd; clamped later by the policy cap
    return std::chrono::seconds(std::stol(*v));
  }
  const std::time_t when = curl_getdate(v->c_str(), nullptr);  // HTTP-date form (RFC 9110 §10.2.3)
  if (when < 0) return milliseconds(0);
  const std::time_t now = std::time(nullptr);
  return when > now ? std::chrono::seconds(when - now) : milliseconds(0);
}

// Transport failures that the same request would meet again, so retrying cannot help.
bool permanent_transport_error(const Result& r) {
  if (r.too_large) return true;
  switch (static_cast<CURLcode>(r.curl_code)) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_FILESIZE_EXCEEDED:
      return true;
    default:
      return false;
  }
}

bool is_auth_code(std::string_view code) { return code == "900901"; }

void validate(const BackoffPolicy& p) {
  if (p.base.count() < 1) throw Error(sqlstate::kInvalidParameter, "base", "must be at least 1 ms");
  if (p.cap < p.base) throw Error(sqlstate::kInvalidParameter, "cap", "must be at least base");
  if (p.max_attempts < 1)
    throw Error(sqlstate::kInvalidParameter, "max_attempts", "must be at least 1");
}

}  // namespace

const char* verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::kSuccess: return "success";
    case Verdict::kRetryable: return "retryable";
    case Verdict::kAuth: return "auth";
    case Verdict::kPermanent: return "permanent";
  }
  return "permanent";
}

const char* action_name(Action a) noexcept {
  switch (a) {
    case Action::kDone: return "done";
    case Action::kRetry: return "retry";
    case Action::kRenewSessionAndRetry: return "renew_session_and_retry";
    case Action::kFail: return "fail";
  }
  return "fail";
}


Classification classify(const Result& r, std::size_t max_reason_chars) {
  Classification c;
  if (!r.transport_ok()) {
    c.verdict = permanent_transport_error(r) ? Verdict::kPermanent : Verdict::kRetryable;
    c.reason = cut(one_line("curl " + std::to_string(r.curl_code) + ": " + r.curl_error),
                   max_reason_chars);
    return c;
  }

  const auto envelopes = find_gateway_errors(std::string_view(r.body));
  if (!envelopes.empty()) c.error_code = envelopes.front().code;
  const bool auth_code = std::any_of(envelopes.begin(), envelopes.end(),
                                     [](const GatewayError& e) { return is_auth_code(e.code); });
  const long s = r.http_status;
  const bool too_many = std::any_of(envelopes.begin(), envelopes.end(),
                                    [](const GatewayError& e) { return e.code == kTooManyRequestsCode; });
  c.throttled = s == 429 || too_many;

  if (s >= 200 && s < 300 && envelopes.empty()) {
    c.verdict = Verdict::kSuccess;
    return c;
  }
  if (s == 401 || auth_code) {
    c.verdict = Verdict::kAuth;
    if (auth_code) c.error_code = "900901";
  } else if (s >= 500 || s == 408 || s == 429 || too_many) {
    c.verdict = Verdict::kRetryable;
    c.retry_after = parse_retry_after(r);
  } else {
    c.verdict = Verdict::kPermanent;  // other 4xx, a 2xx with an error body, 1xx/3xx
  }

  std::string reason = "HTTP " + std::to_string(s);
  if (s >= 200 && s < 300) reason += " with an error body";
  if (r.redact) {
    reason += " (body redacted)";
    if (!c.error_code.empty()) reason += ": " + c.error_code;
  } else if (!envelopes.empty()) {
    std::string detail;
    for (const auto& e : envelopes) {
      if (!detail.empty()) detail += " | ";
      detail += e.code.empty() ? e.message : e.message.empty() ? e.code : e.code + " " + e.message;
    }
    reason += ": " + detail;
  } else if (!r.body.empty()) {
    reason += ": " + r.body;
  }
  c.reason = cut(one_line(reason), max_reason_chars);
  return c;
}

milliseconds backoff_delay(const BackoffPolicy& p, int attempt, std::uint64_t random_bits) {
  validate(p);
  if (attempt < 1) throw Error(sqlstate::kInvalidParameter, "attempt", "must be at least 1");
  const auto base = static_cast<std::uint64_t>(p.base.count());
  const auto cap = static_cast<std::uint64_t>(p.cap.count());
  const int shift = attempt - 1;
  std::uint64_t ceiling = cap;
  if (shift < 63 && base <= (cap >> shift)) ceiling = base << shift;
  return milliseconds(static_cast<milliseconds::rep>(random_bits % (ceiling + 1)));
}

Decision decide(const Classification& c, int attempts_made, int auth_renewals_used,
                const BackoffPolicy& p, std::uint64_t random_bits) {
  validate(p);
  if (attempts_made < 1)
    throw Error(sqlstate::kInvalidParameter, "attempts_made", "must be at least 1");
  Decision d;
  d.reason = c.reason;
  d.throttled = c.throttled;
  switch (c.verdict) {
    case Verdict::kSuccess:
      d.action = Action::kDone;
      return d;
    case Verdict::kPermanent:
      d.action = Action::kFail;
      return d;
    case Verdict::kAuth:
      // The first auth failure is ours (an expired or revoked token), so it does not count
      // against the message. A second one after a fresh session is retried later like any
      // transient failure, within max_attempts: wrong credentials show where they are wrong, at
      // the session call (whose failures stop the waiting calls), while a gateway that revokes
      // sessions again and again must not cost a patient's link (in the ten-minute outage run
      // failing at once lost 17 of some 1,400 calls for good).
      if (auth_renewals_used < 1) {
        d.action = Action::kRenewSessionAndRetry;
        return d;
      }
      d.reason = "still refused after a session renewal: " + c.reason;
      if (attempts_made >= p.max_attempts) {
        d.action = Action::kFail;
        d.reason = "gave up after " + std::to_string(attempts_made) + " attempts, " + d.reason;
        return d;
      }
      d.action = Action::kRetry;
      d.delay = backoff_delay(p, attempts_made, random_bits);
      return d;
    case Verdict::kRetryable:
      if (attempts_made >= p.max_attempts) {
        d.action = Action::kFail;
        d.reason = "gave up after " + std::to_string(attempts_made) +
                   (attempts_made == 1 ? " attempt: " : " attempts: ") + c.reason;
        return d;
      }
      d.action = Action::kRetry;
      d.delay = std::max(backoff_delay(p, attempts_made, random_bits), std::min(c.retry_after, p.cap));
      return d;
  }
  d.action = Action::kFail;
  return d;
}

}  // namespace abdm::net
