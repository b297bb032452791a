// The sender worker ("abdm_hip sender"): delivers abdm_hip.outbox rows to the ABDM gateway (and to
// absolute URLs such as an SMS hook) with libcurl multi, many calls in flight at once.
//
// Each turn of the loop: claim due rows (FOR UPDATE SKIP LOCKED, a lease, attempts + 1) in a short
// transaction; send them with the V3 headers and the shared gateway session token; record each
// outcomes through abdm_hip_internal.outbox_record_batch() in a new transaction. The REQUEST-ID is the row's
// request_id, so a retry carries the same id and the gateway can dedupe it. The HTTP work happens
// outside any transaction; only this process's main thread calls PostgreSQL.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
}

#include <chrono>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/net/gateway_session.hpp"
#include "core/net/http_multi.hpp"
#include "core/net/retry_policy.hpp"
#include "core/net/v3_headers.hpp"
#include "pg/gucs.hpp"
#include "pg/sender_chores.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

using Clock = std::chrono::system_clock;
using nlohmann::json;
namespace net = abdm::net;

constexpr std::int64_t kSessionRequestId = -1;

struct Row {
  std::int64_t id = 0;
  std::string hip_id, kind, target, method, request_id, body;
  json headers;
  int attempts = 0;
  int auth_renewals = 0;
  std::uint64_t token_generation = 0;
  bool to_gateway() const { return !target.empty() && target[0] == '/'; }
};

struct Outcome {
  std::int64_t id;
  std::string hip_id, outcome, error, response;
  long http_status;
  long long delay_ms;
};

// The claim (the rule lives in abdm_hip_internal.outbox_claim, sql/schema/50_outbox.sql): due rows, oldest
// first, leased for long enough for the slowest call. $3 false: no gateway client id is configured,
// so only rows for absolute URLs (an SMS hook) are taken.
constexpr const char* kClaimSql = "SELECT * FROM abdm_hip_internal.outbox_claim($1::int, $2::int, $3::boolean)";

constexpr const char* kRecordSql = "SELECT abdm_hip_internal.outbox_record_batch($1::jsonb)";

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

class Sender final : public WorkerTurn {
 public:
  Sender() : multi_(make_options()), rng_(std::random_device{}()) {}

  // One turn of the loop, run when the latch was set (a commit queued work, a signal), when
  // libcurl has something to do, or when a wait ran out; returns true when more work can be done
  // at once (the loop then turns again without waiting).
  bool turn(bool woken) override {
    // Claim when a commit woke us, when the last claim filled every free slot (more rows are
    // probably due), and every two seconds for rows whose retry time has come.
    const auto now = std::chrono::steady_clock::now();
    const bool periodic = now >= next_periodic_;
    if (periodic) next_periodic_ = now + std::chrono::seconds(2);
    if (woken || more_links_ || periodic) more_links_ = dispatch_link_requests();
    // Whatever has finished (the loop waited for libcurl's sockets and timer with the latch).
    std::vector<net::Result> done = multi_.poll(0);
    // A few outcomes alone would cost a transaction (and a WAL flush) each: while fewer than an
    // eighth of the cap have finished, take what else finishes within the next 2 ms.
    const auto window_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (!done.empty() && !in_flight_.empty()) {
      const bool few = static_cast<int>(done.size()) < std::max(1, abdm_max_in_flight / 8);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          window_end - std::chrono::steady_clock::now()).count();
      std::vector<net::Result> more = multi_.poll(few && left > 0 ? static_cast<int>(left) : 0);
      if (more.empty()) break;
      for (net::Result& r : more) done.push_back(std::move(r));
    }
    std::vector<Outcome> outcomes;
    for (net::Result& r : done) handle_result(r, outcomes);
    // Claim in batches (an eighth of the cap at least) rather than a transaction per freed slot —
    // unless this turn's outcomes need a transaction anyway: then the claim rides along and the
    // freed slots are filled at once.
    const int room = abdm_max_in_flight - static_cast<int>(in_flight_.size() + waiting_.size());
    const bool claim_now = (woken || more_due_ || periodic || !waiting_.empty()) && room > 0 &&
                           (room >= std::max(1, abdm_max_in_flight / 8) || in_flight_.empty() ||
                            !outcomes.empty());
    // This turn's outcomes and the next claim share one transaction.
    if (!outcomes.empty() || claim_now) {
      std::string batch = outcomes_json(outcomes);
      std::vector<SqlRow> claimed;
      in_transaction("abdm_hip sender: record and claim", [&] {
        if (!outcomes.empty()) spi_query_kept(kRecordSql, {batch});
        if (claim_now)
          claimed = spi_query_kept(kClaimSql, {std::to_string(room), std::to_string(lease_seconds()),
                                               *abdm_client_id ? "true" : "false"});
      });
      if (claim_now) take_claimed(claimed, room);
    }
    if (periodic && !*abdm_client_id) chores_.warn_unconfigured();
    ensure_session();
    dispatch_waiting();
    chores_.housekeeping();
    // Rows still waiting here wait for the gateway session (its call is in flight) or for
    // configuration; in-flight calls wake the loop through wait_fd().
    const int free_now = abdm_max_in_flight - static_cast<int>(in_flight_.size() + waiting_.size());
    return more_links_ || (more_due_ && free_now > 0);
  }

  // What the loop waits on besides its latch: libcurl's sockets (one epoll descriptor), for at
  // most wait_ms() — libcurl's next timeout while calls are in flight, else a second.
  int wait_fd() const override { return multi_.wait_fd(); }
  long wait_ms() const override {
    const long curl_ms = multi_.timeout_ms();
    return curl_ms < 0 ? 1000 : std::min(curl_ms, 1000L);
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

  void take_claimed(std::vector<SqlRow>& rows, int room) {
    more_due_ = static_cast<int>(rows.size()) == room;
    for (SqlRow& r : rows) {
      Row row;
      row.id = std::stoll(*r[0]);
      row.hip_id = *r[1];
      row.kind = *r[2];
      row.target = *r[3];
      row.method = *r[4];
      row.request_id = *r[5];
      row.headers = r[6] ? json::parse(*r[6]) : json::object();
      row.body = r[7] ? *r[7] : "";
      row.attempts = std::stoi(*r[8]);
      waiting_.push_back(std::move(row));
    }
  }

  // (Re)builds the session when its configuration changed, and starts a renewal when one is due
  // and some row needs the gateway.
  void ensure_session() {
    bool needs_gateway = false;
    for (const Row& r : waiting_) needs_gateway |= r.to_gateway();
    if (!needs_gateway) return;
    std::string config_key = std::string(abdm_gateway_url) + '\n' + abdm_client_id + '\n' + abdm_cm_id;
    if (!session_ || config_key != session_key_) {
      if (!*abdm_client_id) {
        defer_waiting_gateway_rows("abdm_hip.client_id is not set");
        return;
      }
      std::string secret = load_secret();
      if (secret.empty()) {
        defer_waiting_gateway_rows("the gateway client secret is not set (abdm_hip.set_client_secret)");
        return;
      }
      net::SessionConfig cfg;
      cfg.base_url = abdm_gateway_url;
      cfg.client_id = abdm_client_id;
      cfg.client_secret = secret;
      cfg.cm_id = abdm_cm_id;
      cfg.timeout_ms = abdm_http_timeout_ms;
      cfg.ca_file = abdm_ca_file ? abdm_ca_file : "";
      cfg.verify_tls = abdm_verify_tls;
      session_.emplace(std::move(cfg));
      session_key_ = config_key;
    }
    auto now = Clock::now();
    if (session_->renewal_due(now)) {
      multi_.submit(session_->build_renewal_request(kSessionRequestId, now));
    }
  }

  std::string load_secret() {
    if (abdm_client_secret_file && *abdm_client_secret_file) return read_secret_file(abdm_client_secret_file);
    std::string secret;
    in_transaction("abdm_hip sender: read secret", [&] {
      auto rows = spi_query("SELECT value FROM abdm_hip.secret WHERE name = 'client_secret'", {}, true);
      if (!rows.empty() && rows[0][0]) secret = *rows[0][0];
    });
    return secret;
  }

  // Rows that cannot be sent for want of configuration wait without using up an attempt.
  void defer_waiting_gateway_rows(const std::string& reason) {
    std::vector<Outcome> outcomes;
    std::vector<Row> keep;
    for (Row& r : waiting_) {
      if (r.to_gateway())
        outcomes.push_back(Outcome{r.id, r.hip_id, "defer", reason, "", 0, 30000});
      else
        keep.push_back(std::move(r));
    }
    waiting_ = std::move(keep);
    if (!outcomes.empty()) record(outcomes);
  }

  // Rows that cannot be sent now go back to the queue with a delay and the reason.
  void fail_waiting_gateway_rows(const std::string& reason) {
    std::vector<Outcome> outcomes;
    std::vector<Row> keep;
    for (Row& r : waiting_) {
      if (!r.to_gateway()) {
        keep.push_back(std::move(r));
        continue;
      }
      outcomes.push_back(retry_or_fail(r, reason, 0));
    }
    waiting_ = std::move(keep);
    if (!outcomes.empty()) record(outcomes);
  }

  Outcome retry_or_fail(const Row& r, const std::string& reason, long http_status) {
    net::BackoffPolicy p;
    p.max_attempts = abdm_max_attempts;
    auto delay = net::backoff_delay(p, std::max(1, r.attempts), rng_());
    bool final_attempt = r.attempts >= abdm_max_attempts;
    return Outcome{r.id, r.hip_id, final_attempt ? "failed" : "retry", reason, "", http_status,
                   static_cast<long long>(delay.count())};
  }

  void dispatch_waiting() {
    std::vector<Row> keep;
    auto now = Clock::now();
    for (Row& r : waiting_) {
      if (r.to_gateway() && !(session_ && session_->has_token(now))) {
        keep.push_back(std::move(r));
        continue;
      }
      submit(std::move(r), now);
    }
    waiting_ = std::move(keep);
  }

  void submit(Row r, Clock::time_point now) {
    net::Request req;
    req.id = r.id;
    req.method = r.method == "GET" ? net::Method::kGet : net::Method::kPost;
    req.body = r.body;
    req.timeout_ms = abdm_http_timeout_ms;
    req.connect_timeout_ms = std::min<long>(abdm_http_timeout_ms, 10000);
    req.ca_file = abdm_ca_file ? abdm_ca_file : "";
    req.verify_tls = abdm_verify_tls;
    std::string hip_header, link_token;
    if (r.headers.contains("X-HIP-ID")) hip_header = r.headers["X-HIP-ID"].get<std::string>();
    if (r.headers.contains("X-LINK-TOKEN")) link_token = r.headers["X-LINK-TOKEN"].get<std::string>();
    if (r.to_gateway()) {
      req.url = std::string(abdm_gateway_url) + r.target;
      net::V3HeaderInput in;
      in.access_token = session_->access_token();
      in.request_id = r.request_id;
      in.cm_id = abdm_cm_id;
      in.hip_id = hip_header;
      in.link_token = link_token;
      req.headers = net::build_v3_headers(in, now);
      r.token_generation = session_->generation();
    } else {
      req.url = r.target;
      req.headers = net::build_hook_headers(r.request_id, now);
    }
    // Any other header the row carries (never the two handled above).
    for (auto it = r.headers.begin(); it != r.headers.end(); ++it) {
      if (it.key() == "X-HIP-ID" || it.key() == "X-LINK-TOKEN") continue;
      if (it.value().is_string()) req.headers.push_back({it.key(), it.value().get<std::string>()});
    }
    std::int64_t id = r.id;
    in_flight_.emplace(id, std::move(r));
    multi_.submit(std::move(req));
  }

  void handle_result(net::Result& res, std::vector<Outcome>& outcomes) {
    if (res.id == kSessionRequestId) {
      auto now = Clock::now();
      if (session_ && session_->on_renewal_result(res, now)) {
        // Shared with the transfer worker (it sends the token on data pushes).
        CachedToken cached;
        cached.token = session_->access_token();
        cached.obtained_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    session_->obtained_at().time_since_epoch()).count();
        cached.expires_in_s = std::chrono::duration_cast<std::chrono::seconds>(
                                  session_->expires_at() - session_->obtained_at()).count();
        cached.generation = session_->generation();
        store_cached_token(cached);
        log_line("abdm_hip sender: gateway session established");
      } else if (session_) {
        log_warning("abdm_hip sender: gateway session failed: " + session_->last_error());
        if (session_->consecutive_failures() >= 3)
          fail_waiting_gateway_rows("gateway session: " + session_->last_error());
      }
      return;
    }
    auto it = in_flight_.find(res.id);
    if (it == in_flight_.end()) return;
    Row row = std::move(it->second);
    in_flight_.erase(it);

    net::Classification c = net::classify(res);
    net::BackoffPolicy p;
    p.max_attempts = abdm_max_attempts;
    net::Decision d = net::decide(c, std::max(1, row.attempts), row.auth_renewals, p, rng_());
    std::string response = res.body.size() <= 65536 ? res.body : res.body.substr(0, 65536);
    switch (d.action) {
      case net::Action::kDone:
        outcomes.push_back({row.id, row.hip_id, "sent", "", response, res.http_status, 0});
        break;
      case net::Action::kRenewSessionAndRetry:
        if (session_) session_->invalidate(row.token_generation);
        row.auth_renewals++;
        waiting_.push_back(std::move(row));
        break;
      case net::Action::kRetry:
        outcomes.push_back({row.id, row.hip_id, "retry", d.reason, response, res.http_status,
                            static_cast<long long>(d.delay.count())});
        break;
      case net::Action::kFail:
        outcomes.push_back({row.id, row.hip_id, "failed", d.reason, response, res.http_status, 0});
        break;
    }
  }

  // All outcomes of a turn go to abdm_hip_internal.outbox_record_batch() as one JSON array (set-based; a
  // call per row would cost more than the HTTP work at thousands of deliveries per second).
  static std::string outcomes_json(const std::vector<Outcome>& outcomes) {
    json batch = json::array();
    for (const Outcome& o : outcomes) {
      json response;
      if (!o.response.empty()) {
        response = json::parse(o.response, nullptr, /*allow_exceptions=*/false);
        if (response.is_discarded()) response = o.response;  // not JSON: kept as a string
      }
      batch.push_back({{"id", o.id}, {"hip_id", o.hip_id}, {"outcome", o.outcome},
                       {"http_status", o.http_status ? json(o.http_status) : json()},
                       {"error", o.error.empty() ? json() : json(o.error)},
                       {"response", response}, {"delay_ms", o.delay_ms}});
    }
    return batch.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void record(const std::vector<Outcome>& outcomes) {
    std::string batch = outcomes_json(outcomes);
    in_transaction("abdm_hip sender: record", [&] { spi_query_kept(kRecordSql, {batch}); });
  }

  net::HttpMulti multi_;
  std::optional<net::GatewaySession> session_;
  std::string session_key_;
  std::unordered_map<std::int64_t, Row> in_flight_;
  std::vector<Row> waiting_;
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point next_periodic_{};
  bool more_due_ = false;  // the last claim took as many rows as it could
  bool more_links_ = false;  // the last dispatch took a full batch of link requests
  SenderChores chores_;
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
