// The delivery engine: submit an HTTP call, handle its result, and say whether it was sent, is to
// be retried after a delay, or failed. Both background workers use it — the sender for outbox rows
// (gateway V3 calls and the SMS hook), the transfer worker for the data push — so each rule that
// turns a result into an outcome lives here once and is unit-tested without PostgreSQL
// (test/unit/net/delivery_test.cpp); the workers keep only what is PostgreSQL's (claiming rows,
// recording outcomes, reading settings).
//
// The rules, in order of application:
// - a gateway V3 call needs the access token (core/net/token_source); without one it waits,
//   and while any waits, a due renewal is sent through this engine's own HttpMulti;
// - after three session renewals failed in a row, the calls waiting for the token are given up
//   for this attempt (retry later, or failed at their last attempt): they would wait forever;
// - a result is classified and decided by core/net/retry_policy (2xx sent, 5xx/408/429 and
//   transport failures retried with full-jitter backoff, other 4xx failed with the body as the
//   reason);
// - a refused token (401/900901) is dropped, renewed and the call sent once more at once; a
//   second refusal makes it a later retry (within max_attempts). A source that cannot renew
//   (the transfer's) makes the first refusal a retry already;
// - a retry whose time would come at or after the delivery's deadline fails instead (the data
//   push may go only inside its window).
//
// Single-threaded like HttpMulti: the caller drives it from its loop with poll(), waiting on
// wait_fd() for at most timeout_ms() between polls.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/net/http_multi.hpp"
#include "core/net/retry_policy.hpp"
#include "core/net/token_source.hpp"

namespace abdm::net {

// Which headers a delivery is sent with (core/net/v3_headers).
enum class HeaderStyle {
  kGatewayV3,  // build_v3_headers: needs the access token, so the delivery waits for one
  kDataPush,   // build_data_push_headers: the token when one is at hand, never waits for it
  kHook,       // build_hook_headers: the hospital's own hook, no gateway credentials
};

struct Delivery {
  std::int64_t id = 0;       // the caller's key, echoed in the Outcome; unique within the engine
  std::string owner;         // echoed in the Outcome (the sender: the outbox row's hip_id)
  Method method = Method::kPost;
  std::string url;           // absolute http(s) URL
  std::string body;
  std::string body_file;     // or the body streamed from this file (Request::body_file)
  std::uint64_t body_file_size = 0;
  HeaderStyle style = HeaderStyle::kGatewayV3;
  // Header inputs: REQUEST-ID (the same on every retry, so the receiver can dedupe), X-CM-ID,
  // X-HIP-ID and X-LINK-TOKEN (empty = not sent; unused by kHook).
  std::string request_id, cm_id, hip_id, link_token;
  Headers extra_headers;     // sent after the style's own
  int attempts_made = 1;     // this attempt included
  long timeout_ms = 30000;
  long connect_timeout_ms = 10000;
  std::string ca_file;       // "" = the system's store
  bool verify_tls = true;
  BackoffPolicy backoff;
  // No retry is scheduled at or after this time: the delivery fails instead.
  std::optional<std::chrono::system_clock::time_point> deadline;
};

enum class OutcomeKind { kSent, kRetry, kFailed, kDefer };
const char* outcome_name(OutcomeKind k) noexcept;  // "sent", "retry", "failed", "defer"

struct Outcome {
  std::int64_t id = 0;
  std::string owner;
  OutcomeKind kind = OutcomeKind::kFailed;
  std::string reason;                  // "" when sent
  std::string response;                // the response body, cut to kMaxResponseBytes
  long http_status = 0;                // 0 when no response arrived
  std::chrono::milliseconds delay{0};  // kRetry, kDefer: when to try again
  bool throttled = false;              // HTTP 429 or ABDM-1022 (the sender's rate limits slow down)
};

class DeliveryEngine {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  // The response kept in an Outcome (the outbox keeps it for the operator, not whole).
  static constexpr std::size_t kMaxResponseBytes = 64 * 1024;

  // `tokens` must outlive the engine.
  explicit DeliveryEngine(TokenSource& tokens, HttpMultiOptions options = {},
                          std::uint64_t seed = std::random_device{}());
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Sends the delivery at once, or keeps it waiting for the token (kGatewayV3). A delivery that
  // cannot be sent at all (a bad URL, a header with a line break) comes back from the next
  // poll() as a retry, or failed at its last attempt. Throws abdm::Error for an invalid backoff
  // policy (nothing is queued then).
  void submit(Delivery d);

  // Drives the calls in flight for at most max_wait_ms (as HttpMulti::poll), sends what waited
  // for a token once there is one, and returns the deliveries that finished.
  std::vector<Outcome> poll(int max_wait_ms);

  // Every delivery waiting for the token leaves as kDefer with this reason and delay, using up no
  // attempt (the caller found the gateway unconfigured).
  std::vector<Outcome> defer_waiting(const std::string& reason, std::chrono::milliseconds delay);

  // For the caller's wait: readable when poll() has work; how long it may wait (-1 = no limit).
  int wait_fd() const noexcept { return multi_.wait_fd(); }
  long timeout_ms() const;

  // Shutdown: every call in flight comes back from the next poll() as aborted (a retry).
  void abort_all() noexcept { multi_.abort_all(); }

  std::size_t in_flight() const noexcept { return in_flight_.size(); }  // deliveries only
  std::size_t waiting() const noexcept { return waiting_.size(); }      // for the token

 private:
  struct Pending {
    Delivery d;
    int auth_renewals = 0;                       // renew-and-retry taken (at most once)
    std::optional<std::uint64_t> token_generation;  // the token it went with, if any
  };

  void route(Pending p, TimePoint now);
  void send(Pending p, const std::optional<TokenInUse>& token, TimePoint now);
  void handle(Result& r, TimePoint now);
  void dispatch_waiting(TimePoint now);
  void request_renewal(TimePoint now);
  void give_up_waiting(const std::string& reason, TimePoint now);
  void retry_or_fail(Pending& p, const std::string& reason, TimePoint now);
  void conclude(Pending& p, const Decision& d, Result* r, TimePoint now);

  TokenSource& tokens_;
  HttpMulti multi_;
  std::mt19937_64 rng_;
  std::unordered_map<std::int64_t, Pending> in_flight_;
  std::vector<Pending> waiting_;
  std::vector<Outcome> finished_;  // handed out by the next poll()
};

}  // namespace abdm::net
