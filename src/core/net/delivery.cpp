#include "core/net/delivery.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/net/v3_headers.hpp"
#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using SystemClock = std::chrono::system_clock;

// The session renewal's HttpMulti id: never a caller's (outbox ids and the transfer's are positive).
constexpr std::int64_t kRenewalId = std::numeric_limits<std::int64_t>::min();

// Renewals failed in a row after which the deliveries waiting for the token stop waiting: bad
// credentials or an unreachable gateway would otherwise hold them (and their leases) forever.
constexpr int kSessionFailuresBeforeGivingUp = 3;

Headers headers_for(const Delivery& d, const std::optional<TokenInUse>& token, SystemClock::time_point now) {
  V3HeaderInput in;
  in.access_token = token ? token->value : std::string_view();
  in.request_id = d.request_id;
  in.cm_id = d.cm_id;
  in.hip_id = d.hip_id;
  in.link_token = d.link_token;
  switch (d.style) {
    case HeaderStyle::kGatewayV3:
      return build_v3_headers(in, now);
    case HeaderStyle::kDataPush:
      return build_data_push_headers(in, now);
    case HeaderStyle::kHook:
      break;
  }
  return build_hook_headers(d.request_id, now);
}

}  // namespace

const char* outcome_name(OutcomeKind k) noexcept {
  switch (k) {
    case OutcomeKind::kSent: return "sent";
    case OutcomeKind::kRetry: return "retry";
    case OutcomeKind::kFailed: return "failed";
    case OutcomeKind::kDefer: return "defer";
  }
  return "failed";
}

DeliveryEngine::DeliveryEngine(TokenSource& tokens, HttpMultiOptions options, std::uint64_t seed)
    : tokens_(tokens), multi_(std::move(options)), rng_(seed) {}

void DeliveryEngine::submit(Delivery d) {
  // An invalid policy is the caller's mistake, refused here rather than when the result arrives.
  (void)backoff_delay(d.backoff, 1, 0);
  Pending p;
  p.d = std::move(d);
  route(std::move(p), SystemClock::now());
}

// A delivery that needs the token goes now if there is one and waits otherwise; the others go now.
void DeliveryEngine::route(Pending p, TimePoint now) {
  if (p.d.style == HeaderStyle::kGatewayV3) {
    request_renewal(now);  // a due renewal goes first; a token still valid serves meanwhile
    std::optional<TokenInUse> token = tokens_.token(now);
    if (!token) {
      waiting_.push_back(std::move(p));
      return;
    }
    send(std::move(p), token, now);
    return;
  }
  std::optional<TokenInUse> token;
  if (p.d.style == HeaderStyle::kDataPush) token = tokens_.token(now);
  send(std::move(p), token, now);
}

void DeliveryEngine::send(Pending p, const std::optional<TokenInUse>& token, TimePoint now) {
  Request req;
  req.id = p.d.id;
  req.method = p.d.method;
  req.url = p.d.url;
  req.body = p.d.body;  // the delivery keeps its own: a refused token sends it again
  req.body_file = p.d.body_file;
  req.body_file_size = p.d.body_file_size;
  req.timeout_ms = p.d.timeout_ms;
  req.connect_timeout_ms = p.d.connect_timeout_ms;
  req.ca_file = p.d.ca_file;
  req.verify_tls = p.d.verify_tls;
  try {
    // Built now, just before sending: TIMESTAMP is the send time (the gateway rejects stale ones).
    req.headers = headers_for(p.d, token, now);
    for (const Header& h : p.d.extra_headers) req.headers.push_back(h);
    if (in_flight_.contains(p.d.id))
      throw Error(sqlstate::kInternal, "id", "a delivery with this id is already in flight");
    multi_.submit(std::move(req));
  } catch (const Error& e) {
    // It can never go as it is; retried like a failed call, so a setting can still be mended.
    retry_or_fail(p, std::string("cannot be sent: ") + e.what(), now);
    return;
  }
  if (token) p.token_generation = token->generation;
  const std::int64_t id = p.d.id;
  in_flight_.emplace(id, std::move(p));
}

std::vector<Outcome> DeliveryEngine::poll(int max_wait_ms) {
  // Outcomes already at hand (deliveries that could not be sent) are not held up by a wait.
  std::vector<Result> results = multi_.poll(finished_.empty() ? max_wait_ms : 0);
  const TimePoint now = SystemClock::now();
  for (Result& r : results) handle(r, now);
  dispatch_waiting(now);
  return std::exchange(finished_, {});
}

void DeliveryEngine::handle(Result& r, TimePoint now) {
  if (r.id == kRenewalId) {
    if (!tokens_.on_renewal_result(r, now) &&
        tokens_.consecutive_failures() >= kSessionFailuresBeforeGivingUp)
      give_up_waiting("gateway session: " + tokens_.last_error(), now);
    return;
  }
  auto it = in_flight_.find(r.id);
  if (it == in_flight_.end()) return;
  Pending p = std::move(it->second);
  in_flight_.erase(it);

  Classification c = classify(r);
  // Only a source that renews can make a refused token good; for one that borrows the token, the
  // owner renews it and a later attempt reads the new one.
  if (c.verdict == Verdict::kAuth && !tokens_.renews()) c.verdict = Verdict::kRetryable;
  const Decision d = decide(c, std::max(1, p.d.attempts_made), p.auth_renewals, p.d.backoff, rng_());
  if (d.action == Action::kRenewSessionAndRetry) {
    if (p.token_generation) tokens_.invalidate(*p.token_generation);
    p.auth_renewals++;
    route(std::move(p), now);  // waits for the new token (a call without one goes again at once)
    return;
  }
  conclude(p, d, &r, now);
}

void DeliveryEngine::dispatch_waiting(TimePoint now) {
  if (waiting_.empty()) return;
  request_renewal(now);
  const std::optional<TokenInUse> token = tokens_.token(now);
  if (!token) return;
  std::vector<Pending> ready = std::exchange(waiting_, {});
  for (Pending& p : ready) send(std::move(p), token, now);
}

void DeliveryEngine::request_renewal(TimePoint now) {
  if (std::optional<Request> req = tokens_.renewal_request(kRenewalId, now)) multi_.submit(std::move(*req));
}

void DeliveryEngine::give_up_waiting(const std::string& reason, TimePoint now) {
  std::vector<Pending> given_up = std::exchange(waiting_, {});
  for (Pending& p : given_up) retry_or_fail(p, reason, now);
}

// Not sent this time, through no answer of the receiver's: another attempt after the backoff,
// unless this was the last one.
void DeliveryEngine::retry_or_fail(Pending& p, const std::string& reason, TimePoint now) {
  Decision d;
  d.reason = reason;
  if (p.d.attempts_made >= p.d.backoff.max_attempts) {
    d.action = Action::kFail;
  } else {
    d.action = Action::kRetry;
    d.delay = backoff_delay(p.d.backoff, std::max(1, p.d.attempts_made), rng_());
  }
  conclude(p, d, nullptr, now);
}

// The decision as an outcome; a retry that would come at or after the deadline fails instead.
void DeliveryEngine::conclude(Pending& p, const Decision& d, Result* r, TimePoint now) {
  Outcome o;
  o.id = p.d.id;
  o.owner = std::move(p.d.owner);
  o.reason = d.reason;
  o.throttled = d.throttled;
  if (r) {
    o.http_status = r->http_status;
    if (r->body.size() > kMaxResponseBytes) r->body.resize(kMaxResponseBytes);
    o.response = std::move(r->body);
  }
  switch (d.action) {
    case Action::kDone:
      o.kind = OutcomeKind::kSent;
      break;
    case Action::kRetry:
      if (p.d.deadline && now + d.delay >= *p.d.deadline) {
        o.kind = OutcomeKind::kFailed;
      } else {
        o.kind = OutcomeKind::kRetry;
        o.delay = d.delay;
      }
      break;
    case Action::kRenewSessionAndRetry:  // handled by the caller; never concluded
    case Action::kFail:
      o.kind = OutcomeKind::kFailed;
      break;
  }
  finished_.push_back(std::move(o));
}

std::vector<Outcome> DeliveryEngine::defer_waiting(const std::string& reason, std::chrono::milliseconds delay) {
  std::vector<Outcome> out;
  out.reserve(waiting_.size());
  for (Pending& p : waiting_) {
    Outcome o;
    o.id = p.d.id;
    o.owner = std::move(p.d.owner);
    o.kind = OutcomeKind::kDefer;
    o.reason = reason;
    o.delay = delay;
    out.push_back(std::move(o));
  }
  waiting_.clear();
  return out;
}

long DeliveryEngine::timeout_ms() const {
  long t = multi_.timeout_ms();
  if (waiting_.empty()) return t;
  // Deliveries wait for a renewal that is not due yet (a back-off after a failure).
  const TimePoint now = SystemClock::now();
  const TimePoint at = tokens_.next_renewal_check(now);
  if (at == TimePoint::max()) return t;
  const long ms = std::max<long>(
      0, static_cast<long>(std::chrono::ceil<std::chrono::milliseconds>(at - now).count()));
  return t < 0 ? ms : std::min(t, ms);
}

}  // namespace abdm::net
