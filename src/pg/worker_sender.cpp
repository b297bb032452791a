// The sender worker ("abdm_hip sender"): delivers abdm_hip.outbox rows to the ABDM gateway (and to
// absolute URLs such as an SMS hook) with libcurl multi, many calls in flight at once.
//
// Each turn of the loop: claim due rows (FOR UPDATE SKIP LOCKED, a lease, attempts + 1) in a short
// transaction; hand them to the delivery engine (core/net/delivery: V3 headers with the shared
// gateway session token, the retry and failure rules); record the engine's outcomes through
// abdm_hip_internal.outbox_record_batch() in a new transaction. The REQUEST-ID is the row's request_id, so a
// retry carries the same id and the gateway can dedupe it. The HTTP work happens outside any
// transaction; only this process's main thread calls PostgreSQL. What stays here is PostgreSQL's:
// the claim, the record, the settings and the secret, and deferring rows while unconfigured.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
}

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/net/delivery.hpp"
#include "core/net/token_source.hpp"
#include "core/util/error.hpp"
#include "pg/gucs.hpp"
#include "pg/sealed_secrets.hpp"
#include "pg/sender_chores.hpp"
#include "pg/sender_rate_limits.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

using nlohmann::json;
namespace net = abdm::net;

// The claim (the rule lives in abdm_hip_internal.outbox_claim, sql/schema/50_outbox.sql): due rows, oldest
// first, leased for long enough for the slowest call. $3 false: no gateway client id is configured,
// so only rows for absolute URLs (an SMS hook) are taken.
// $4: each rate-limited endpoint's calls available now (sender_rate_limits), no more rows of a
// kind than that; live rows before the hospital's history.
constexpr const char* kClaimSql =
    "SELECT * FROM abdm_hip_internal.outbox_claim($1::int, $2::int, $3::boolean, $4::jsonb)";

constexpr const char* kRecordSql = "SELECT abdm_hip_internal.outbox_record_batch($1::jsonb)";

// Gateway rows that wait for configuration come back after this long, using up no attempt.
constexpr auto kDeferDelay = std::chrono::seconds(30);

std::string read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw abdm::Error(abdm::sqlstate::kInvalidParameter, "abdm_hip.client_secret_file",
                             "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Each renewal is logged; a new token is published in shared memory for the transfer worker (it
// sends the token on data pushes).
void on_session(net::SessionTokenSource::Event e, const net::GatewaySession& s) {
  if (e == net::SessionTokenSource::Event::kFailed) {
    log_warning("abdm_hip sender: gateway session failed: " + s.last_error());
    return;
  }
  CachedToken cached;
  cached.token = s.access_token();
  cached.obtained_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(s.obtained_at().time_since_epoch()).count();
  cached.expires_in_s =
      std::chrono::duration_cast<std::chrono::seconds>(s.expires_at() - s.obtained_at()).count();
  cached.generation = s.generation();
  store_cached_token(cached);
  log_line("abdm_hip sender: gateway session established");
}

class Sender final : public WorkerTurn {
 public:
  Sender() : tokens_(on_session), engine_(tokens_, make_options()) {}

  // One turn of the loop, run when the latch was set (a commit queued work, a signal), when
  // libcurl has something to do, or when a wait ran out; returns true when more work can be done
  // at once (the loop then turns again without waiting).
  bool turn(bool woken) override {
    // Claim when a commit woke us, when the last claim filled every free slot (more rows are
    // probably due), and every two seconds for rows whose retry time has come.
    const auto now = std::chrono::steady_clock::now();
    rates_.refresh(now);
    const bool periodic = now >= next_periodic_;
    if (periodic) next_periodic_ = now + std::chrono::seconds(2);
    if (woken || more_links_ || periodic) more_links_ = dispatch_link_requests();
    // Whatever has finished (the loop waited for libcurl's sockets and timer with the latch).
    std::vector<net::Outcome> outcomes = engine_.poll(0);
    // A few outcomes alone would cost a transaction (and a WAL flush) each: while fewer than an
    // eighth of the cap have finished, take what else finishes within the next 2 ms.
    const auto window_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (!outcomes.empty() && engine_.in_flight() > 0) {
      const bool few = static_cast<int>(outcomes.size()) < std::max(1, abdm_max_in_flight / 8);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          window_end - std::chrono::steady_clock::now()).count();
      std::vector<net::Outcome> more = engine_.poll(few && left > 0 ? static_cast<int>(left) : 0);
      if (more.empty()) break;
      for (net::Outcome& o : more) outcomes.push_back(std::move(o));
    }
    rates_.finished(outcomes, std::chrono::steady_clock::now());
    rates_.publish(std::chrono::steady_clock::now());
    // A kind that used its whole budget is claimed again once its bucket has refilled.
    const bool rate_due = std::chrono::steady_clock::now() >= rates_.next_claim();
    // Claim in batches (an eighth of the cap at least) rather than a transaction per freed slot —
    // unless this turn's outcomes need a transaction anyway: then the claim rides along and the
    // freed slots are filled at once.
    const int room = abdm_max_in_flight - busy();
    const bool claim_now = (woken || more_due_ || periodic || rate_due || engine_.waiting() > 0) && room > 0 &&
                           (room >= std::max(1, abdm_max_in_flight / 8) || engine_.in_flight() == 0 ||
                            !outcomes.empty() || rate_due);
    // This turn's outcomes and the next claim share one transaction.
    std::vector<net::Delivery> claimed;
    if (!outcomes.empty() || claim_now) {
      std::string batch = outcomes_json(outcomes);
      std::vector<SqlRow> rows;
      in_transaction("abdm_hip sender: record and claim", [&] {
        if (!outcomes.empty()) spi_query_kept(kRecordSql, {batch});
        if (claim_now)
          rows = spi_query_kept(kClaimSql, {std::to_string(room), std::to_string(lease_seconds()),
                                            *abdm_client_id ? "true" : "false",
                                            rates_.budgets_json(std::chrono::steady_clock::now())});
      });
      if (claim_now) {
        std::vector<std::pair<std::int64_t, std::string>> kinds;
        kinds.reserve(rows.size());
        for (const SqlRow& r : rows) kinds.emplace_back(std::stoll(*r[0]), *r[2]);
        rates_.claimed(kinds, std::chrono::steady_clock::now());
        claimed = deliveries(rows, room);
      }
    }
    if (periodic && !*abdm_client_id) chores_.warn_unconfigured();
    submit(std::move(claimed));
    chores_.housekeeping();
    // The hospital's history, a few seconds' worth at the link-token rate at a time.
    chores_.dispatch_history(woken || periodic, history_backlog(now));
    // Re-sends it queues wake this worker at their commit, like any other queued call.
    chores_.follow_up_unanswered();
    // Rows still waiting here wait for the gateway session (its call is in flight); in-flight
    // calls wake the loop through wait_fd().
    return more_links_ || (more_due_ && abdm_max_in_flight - busy() > 0);
  }

  // What the loop waits on besides its latch: libcurl's sockets (one epoll descriptor), for at
  // most wait_ms() — the engine's next timeout while calls are in flight, else a second.
  int wait_fd() const override { return engine_.wait_fd(); }
  long wait_ms() const override {
    const long engine_ms = engine_.timeout_ms();
    long ms = engine_ms < 0 ? 1000 : std::min(engine_ms, 1000L);
    // A rate-limited kind's next claim, when a claim could take anything (with every slot busy,
    // a finishing call wakes the loop through wait_fd() anyway).
    const auto next = rates_.next_claim();
    if (next != std::chrono::steady_clock::time_point::max() && busy() < abdm_max_in_flight) {
      const long until = std::chrono::duration_cast<std::chrono::milliseconds>(
          next - std::chrono::steady_clock::now()).count();
      ms = std::min(ms, std::max(1L, until));
    }
    if (chores_.history_active()) ms = std::min(ms, SenderChores::kHistoryEveryMs);
    return ms;
  }

 private:
  static net::HttpMultiOptions make_options() {
    net::HttpMultiOptions o;
    // The in-flight cap (abdm_hip.max_in_flight, reloadable) is enforced when claiming; libcurl's
    // own caps sit at the setting's maximum so a larger value after SIGHUP takes effect at once.
    o.max_total_connections = 1024;
    o.max_host_connections = 1024;
    // Keep every connection of a full window alive between batches: with fewer cached, each batch
    // would close the surplus and open new ones (a TCP handshake per call beyond the cache).
    o.max_connects_cached = 1024;
    o.max_response_bytes = 1 << 20;
    return o;
  }

  static int lease_seconds() { return std::max(60, 2 * abdm_http_timeout_ms / 1000 + 30); }

  // History calls kept waiting in the outbox: two seconds at the link-token rate (or four full
  // windows without a limit), enough to keep the rate busy, few enough that a cancel is quick.
  int history_backlog(std::chrono::steady_clock::time_point now) {
    const double rate = rates_.current_rate("generate_token", now);
    if (rate <= 0) return std::max(64, 4 * abdm_max_in_flight);
    return std::max(10, static_cast<int>(std::ceil(2 * rate)));
  }

  int busy() const { return static_cast<int>(engine_.in_flight() + engine_.waiting()); }

  // The claimed rows as deliveries: a target that is a path goes to the gateway with the V3
  // headers, an absolute URL (the SMS hook) with the hook's.
  std::vector<net::Delivery> deliveries(std::vector<SqlRow>& rows, int room) {
    more_due_ = static_cast<int>(rows.size()) == room;
    net::BackoffPolicy policy;
    policy.max_attempts = abdm_max_attempts;
    std::vector<net::Delivery> out;
    out.reserve(rows.size());
    for (SqlRow& r : rows) {
      net::Delivery d;
      d.id = std::stoll(*r[0]);
      d.owner = std::move(*r[1]);
      const std::string& target = *r[3];
      const bool to_gateway = !target.empty() && target[0] == '/';
      d.style = to_gateway ? net::HeaderStyle::kGatewayV3 : net::HeaderStyle::kHook;
      d.url = to_gateway ? abdm_gateway_url + target : target;
      d.method = net::method_from_name(*r[4]).value_or(net::Method::kPost);
      d.request_id = std::move(*r[5]);
      d.cm_id = abdm_cm_id;
      // X-HIP-ID and X-LINK-TOKEN are header inputs; any other header the row carries goes as is.
      // The link token and an SMS hook's OTP are stored sealed and opened only here; a value
      // that cannot be opened (another server's key) fails its call, saying why. The wording
      // "sealed value: X-LINK-TOKEN: ..." is what abdm_hip_internal.outbox_failed recognises to
      // ask for a new token (sql/schema/50_outbox.sql).
      try {
        const json headers = r[6] ? json::parse(*r[6]) : json::object();
        for (auto it = headers.begin(); it != headers.end(); ++it) {
          if (!it.value().is_string()) continue;
          if (it.key() == "X-HIP-ID") d.hip_id = it.value().get<std::string>();
          else if (it.key() == "X-LINK-TOKEN")
            d.link_token = open_sealed(kSealLinkToken, it.value().get<std::string>(), "X-LINK-TOKEN");
          else d.extra_headers.push_back({it.key(), it.value().get<std::string>()});
        }
        if (r[7]) d.body = *r[2] == "otp_sms" ? opened_otp_body(*r[7]) : std::move(*r[7]);
      } catch (const abdm::Error& e) {
        unopened_.push_back({d.id, d.owner, net::OutcomeKind::kFailed, std::string("sealed value: ") + e.what()});
        continue;
      }
      d.attempts_made = std::stoi(*r[8]);
      d.timeout_ms = abdm_http_timeout_ms;
      d.connect_timeout_ms = std::min<long>(abdm_http_timeout_ms, 10000);
      d.ca_file = abdm_ca_file ? abdm_ca_file : "";
      d.verify_tls = abdm_verify_tls;
      d.backoff = policy;
      out.push_back(std::move(d));
    }
    return out;
  }

  // An SMS hook's body as stored has the OTP and the message holding it sealed.
  static std::string opened_otp_body(const std::string& stored) {
    json body = json::parse(stored);
    for (const char* key : {"otp", "message"})
      if (body.contains(key) && body[key].is_string())
        body[key] = open_sealed(kSealOtp, body[key].get<std::string>(), key);
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  // Gateway calls go with the session of the current settings; while there is none, they (and
  // those already waiting for the token) are deferred.
  void submit(std::vector<net::Delivery> claimed) {
    record(std::exchange(unopened_, {}));
    bool gateway = engine_.waiting() > 0;
    for (const net::Delivery& d : claimed) gateway |= d.style == net::HeaderStyle::kGatewayV3;
    const std::string problem = gateway ? prepare_session() : "";
    for (net::Delivery& d : claimed) engine_.submit(std::move(d));
    if (!problem.empty()) record(engine_.defer_waiting(problem, kDeferDelay));
  }

  // (Re)configures the session when its settings changed; returns why gateway calls cannot go
  // ("" when they can).
  std::string prepare_session() {
    std::string config_key = std::string(abdm_gateway_url) + '\n' + abdm_client_id + '\n' + abdm_cm_id;
    if (tokens_.configured() && config_key == session_key_) return "";
    tokens_.reset();
    session_key_.clear();
    if (!*abdm_client_id) return "abdm_hip.client_id is not set";
    std::string secret;
    try {
      secret = load_secret();
    } catch (const abdm::Error& e) {
      return std::string("the gateway client secret cannot be read: ") + e.what();
    }
    if (secret.empty()) return "the gateway client secret is not set (abdm_hip.set_client_secret)";
    net::SessionConfig cfg;
    cfg.base_url = abdm_gateway_url;
    cfg.client_id = abdm_client_id;
    cfg.client_secret = std::move(secret);
    cfg.cm_id = abdm_cm_id;
    cfg.timeout_ms = abdm_http_timeout_ms;
    cfg.ca_file = abdm_ca_file ? abdm_ca_file : "";
    cfg.verify_tls = abdm_verify_tls;
    try {
      tokens_.configure(std::move(cfg));
    } catch (const abdm::Error& e) {
      return std::string("gateway session: ") + e.what();
    }
    session_key_ = std::move(config_key);
    return "";
  }

  // The client secret from its file, or opened from abdm_hip.secret (sealed there).
  std::string load_secret() {
    if (abdm_client_secret_file && *abdm_client_secret_file) return read_secret_file(abdm_client_secret_file);
    std::string sealed;
    in_transaction("abdm_hip sender: read secret", [&] {
      auto rows = spi_query("SELECT value FROM abdm_hip.secret WHERE name = 'client_secret'", {}, true);
      if (!rows.empty() && rows[0][0]) sealed = *rows[0][0];
    });
    return sealed.empty() ? sealed : open_sealed(kSealClientSecret, sealed, "abdm_hip.secret client_secret");
  }

  // All outcomes of a turn go to abdm_hip_internal.outbox_record_batch() as one JSON array (set-based; a
  // call per row would cost more than the HTTP work at thousands of deliveries per second).
  static std::string outcomes_json(const std::vector<net::Outcome>& outcomes) {
    json batch = json::array();
    for (const net::Outcome& o : outcomes) {
      json response;
      if (!o.response.empty()) {
        response = json::parse(o.response, nullptr, /*allow_exceptions=*/false);
        if (response.is_discarded()) response = o.response;  // not JSON: kept as a string
      }
      batch.push_back({{"id", o.id}, {"hip_id", o.owner}, {"outcome", net::outcome_name(o.kind)},
                       {"http_status", o.http_status ? json(o.http_status) : json()},
                       {"error", o.reason.empty() ? json() : json(o.reason)},
                       {"response", response}, {"delay_ms", o.delay.count()}});
    }
    return batch.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void record(const std::vector<net::Outcome>& outcomes) {
    if (outcomes.empty()) return;
    rates_.finished(outcomes, std::chrono::steady_clock::now());
    std::string batch = outcomes_json(outcomes);
    in_transaction("abdm_hip sender: record", [&] { spi_query_kept(kRecordSql, {batch}); });
  }

  net::SessionTokenSource tokens_;
  net::DeliveryEngine engine_;
  std::string session_key_;  // the settings tokens_ was configured with
  std::chrono::steady_clock::time_point next_periodic_{};
  bool more_due_ = false;  // the last claim took as many rows as it could
  bool more_links_ = false;  // the last dispatch took a full batch of link requests
  std::vector<net::Outcome> unopened_;  // claimed rows whose sealed values could not be opened
  SenderChores chores_;
  SenderRateLimits rates_;
};


std::unique_ptr<WorkerTurn> start_sender() {
  require_extension();
  // Calls may have reached the gateway; their REQUEST-ID is the same, so it can tell.
  release_orphaned_leases("abdm_hip sender",
                          "UPDATE abdm_hip.outbox SET next_attempt_at = now(), lease_until = NULL "
                          "WHERE status = 'pending' AND lease_until IS NOT NULL",
                          "call(s) in flight");
  return std::make_unique<Sender>();
}

}  // namespace
}  // namespace abdm_pg

extern "C" {
PGDLLEXPORT void abdm_sender_main(Datum) noexcept;
}

void abdm_sender_main(Datum) noexcept {
  abdm_pg::run_worker(abdm_pg::WorkerKind::kSender, "abdm_hip sender", abdm_pg::start_sender);
}
