// The bridge worker ("abdm_hip bridge"): the HTTP listener the gateway calls, so that a hospital
// needs no web service of its own in front of the database. Each request is checked here before
// anything is written: its framing and size (core/bridge/request_rules), the gateway's bearer
// token against the gateway's published keys (core/bridge/gateway_keys), and that its body is
// JSON the database can hold. It then goes to abdm_hip.receive(path, headers, body) in a
// transaction of its own, and receive()'s status and body are the answer.
//
// The listener runs in this process's main thread, driven from the worker loop (run_worker waits
// on its epoll descriptor beside the latch); libmicrohttpd calls the handler synchronously from
// run(), and every PostgreSQL call in the handler goes through pg_call, so an ERROR stops inside
// our frame and never longjmps over the library's (docs/design-notes.md, "The bridge listener").
//
// Registered to start once the server is consistent, so that a hot standby answers too: with 503
// and Retry-After (it cannot write), never with a refused or dropped connection.
extern "C" {
#include "postgres.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/elog.h"
}

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/abdm/outbound.hpp"
#include "core/auth/jwt.hpp"
#include "core/bridge/gateway_keys.hpp"
#include "core/bridge/http_listener.hpp"
#include "pg/gucs.hpp"
#include "pg/shared_state.hpp"
#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

namespace bridge = abdm::bridge;
namespace auth = abdm::auth;
using Clock = std::chrono::system_clock;

// What a refusal before receive() leaves in the inbox: path, headers without Authorization,
// status and the error object; never the token, never the unauthenticated body.
constexpr const char* kRecordRefusedSql =
    "SELECT abdm_hip_internal.record_refused($1, $2::jsonb, $3::int, $4::jsonb)";
constexpr const char* kReceiveSql =
    "SELECT r.status, r.body::text FROM abdm_hip.receive($1, $2::jsonb, $3::jsonb) AS r";

std::string setting(const char* value) { return value ? value : ""; }

bridge::RequestLimits limits_from_settings() {
  bridge::RequestLimits l;
  l.max_body = static_cast<std::size_t>(abdm_listen_max_body);
  l.max_headers = static_cast<unsigned>(abdm_listen_max_headers);
  return l;
}

bridge::HttpReply json_reply(int status, std::string body) {
  bridge::HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// The answer while the call cannot be judged or stored now: the gateway re-delivers it.
bridge::HttpReply unavailable(const std::string& why) {
  bridge::HttpReply r = json_reply(503, bridge::error_body(why));
  r.headers.push_back({"Retry-After", "5"});
  return r;
}

// The SQLSTATE of a PostgreSQL error, as its five characters.
std::string sqlstate_of(const PgError& e) {
  const ErrorData* d = e.edata();
  return d ? std::string(unpack_sql_state(d->sqlerrcode)) : std::string("XX000");
}

class BridgeTurn final : public WorkerTurn {
 public:
  BridgeTurn()
      : keys_([] { return load_cached_token().token; },
              [](const std::string& line) { log_line(line); }) {
    reload();
    bridge::ListenerConfig c;
    c.address = setting(abdm_listen_address);
    c.port = abdm_listen_port;
    c.reuse_port = true;  // abdm_hip.bridge_workers processes share it; a restart rebinds at once
    c.max_connections = static_cast<unsigned>(abdm_listen_max_connections);
    c.max_header_bytes = static_cast<std::size_t>(abdm_listen_max_header_size);
    c.idle_timeout = std::chrono::seconds(abdm_listen_idle_timeout_s);
    c.request_timeout = std::chrono::milliseconds(abdm_listen_request_timeout_ms);
    c.limits = limits_from_settings();
    listener_ = std::make_unique<bridge::HttpListener>(
        c, [this](bridge::HttpRequest& r) { return handle(r); },
        [](const std::string& line) {
          // The library's complaints about malformed requests: anyone can cause them, so they
          // stay below the default log level.
          const char* m = line.c_str();
          pg_call([&] { elog(DEBUG1, "abdm_hip bridge: %s", m); });
        });
    log_line("abdm_hip bridge: listening on " + c.address + ":" + std::to_string(listener_->port()));
    set_bridge_listening(true);  // the gate (worker_bridge_gate.cpp) steps aside
    if (!abdm_verify_jwt)
      log_warning("abdm_hip bridge: abdm_hip.verify_jwt is off: every caller who reaches the port is trusted "
                  "as the gateway (for tests only)");
    else if (setting(abdm_jwt_issuer).empty())
      log_warning("abdm_hip bridge: abdm_hip.jwt_issuer is not set: every call will be refused (401)");
  }

  // Leaving (SIGTERM, pg_terminate_backend): hand the port over without cutting a call off. The
  // last listener waits for the gate to listen (woken by set_bridge_listening), then stops
  // accepting and answers what is open, for at most a second.
  ~BridgeTurn() override {
    set_bridge_listening(false);
    try {
      using std::chrono::steady_clock;
      const auto until = steady_clock::now() + std::chrono::milliseconds(500);
      while (bridges_listening() == 0 && !gate_listening() && steady_clock::now() < until) pg_usleep(5000);
      listener_->stop_accepting();
      const auto drained = steady_clock::now() + std::chrono::seconds(1);
      while (listener_->open_connections() > 0 && steady_clock::now() < drained) {
        pollfd p{listener_->wait_fd(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(listener_->timeout_ms(20)));
        listener_->run();
      }
    } catch (...) {
      // Leaving anyway.
    }
  }

  bool turn(bool) override {
    if (abdm_verify_jwt != verify_jwt_seen_ && !abdm_verify_jwt)
      log_warning("abdm_hip bridge: abdm_hip.verify_jwt was turned off: every caller who reaches the port is "
                  "trusted as the gateway (for tests only)");
    reload();  // after a SIGHUP the settings may differ; cheap when they do not
    listener_->set_limits(limits_from_settings(), std::chrono::milliseconds(abdm_listen_request_timeout_ms));
    listener_->run();
    return false;
  }
  int wait_fd() const override { return listener_->wait_fd(); }
  long wait_ms() const override { return listener_->timeout_ms(1000); }

 private:
  void reload() {
    verify_jwt_seen_ = abdm_verify_jwt;
    gateway_seen_ = setting(abdm_gateway_url);
    bridge::GatewayKeysConfig k;
    std::string base = gateway_seen_;
    while (!base.empty() && base.back() == '/') base.pop_back();
    k.certs_url = base.empty() ? "" : base + std::string(abdm::proto::outbound_endpoint(abdm::proto::OutboundKind::kCerts).path);
    k.ca_file = setting(abdm_ca_file);
    k.verify_tls = abdm_verify_tls;
    k.timeout_ms = std::min<long>(abdm_http_timeout_ms, 5000);
    keys_.configure(k, std::chrono::seconds(abdm_jwks_refresh_interval_s), std::chrono::seconds(abdm_jwks_max_age_s));
  }

  bridge::HttpReply handle(bridge::HttpRequest& req) {
    if (pg_call([] { return RecoveryInProgress(); }))
      return unavailable("the database is in recovery (a standby); try the primary");
    if (abdm_verify_jwt) {
      const std::string* authorization = req.header("Authorization");
      const auto token = authorization ? auth::bearer_token(*authorization) : std::nullopt;
      if (!token)
        return refuse(req, 401, authorization ? "Authorization: not a bearer token" : "Authorization: missing");
      auth::JwtPolicy policy;
      policy.issuer = setting(abdm_jwt_issuer);
      policy.leeway = std::chrono::seconds(abdm_jwt_leeway_s);
      policy.role = setting(abdm_jwt_role);
      bridge::GatewayKeys::Verdict v = keys_.verify(*token, policy, Clock::now());
      if (v.keys_unavailable) return unavailable(v.jwt.reason);
      if (!v.jwt.ok()) return refuse(req, 401, "Authorization: " + v.jwt.reason);
    }
    if (auto problem = bridge::json_body_problem(req.body)) return refuse(req, 400, *problem);
    return receive(req);
  }

  // Answers `status` with the error object, and leaves a trace in the inbox (best effort: the
  // answer does not depend on it).
  bridge::HttpReply refuse(const bridge::HttpRequest& req, int status, const std::string& message) {
    bridge::HttpReply reply = json_reply(status, bridge::error_body(message));
    if (status == 401) reply.headers.push_back({"WWW-Authenticate", "Bearer error=\"invalid_token\""});
    try {
      const std::string headers = bridge::headers_for_receive(req.headers).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      in_transaction("abdm_hip bridge: record a refused call", [&] {
        spi_query_kept(kRecordRefusedSql, {req.path, headers, std::to_string(status), reply.body});
      });
    } catch (...) {
      log_current_exception("abdm_hip bridge: recording a refused call");
    }
    return reply;
  }

  bridge::HttpReply receive(const bridge::HttpRequest& req) {
    const std::string headers =
        bridge::headers_for_receive(req.headers).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    int status = 500;
    SqlValue body;
    try {
      in_transaction("abdm_hip bridge: receive", [&] {
        std::vector<SqlRow> rows = spi_query_kept(kReceiveSql, {req.path, headers, req.body});
        if (rows.size() != 1 || !rows[0][0]) throw std::runtime_error("receive() returned no status");
        status = std::stoi(*rows[0][0]);
        body = rows[0][1];
      });
    } catch (const ExtensionGone&) {
      return unavailable("extension abdm_hip is not installed in this database");
    } catch (const PgError& e) {
      const std::string state = sqlstate_of(e);
      log_current_exception("abdm_hip bridge: receive");
      // Class 22 (a value jsonb or a cast refused) is the caller's; the rest is ours, and
      // transient ones (conflicts, resources, shutdown, read-only) are worth a re-delivery.
      // Class 54 (program limit: a value too deep or too large for jsonb) is the caller's too.
      if (state.rfind("22", 0) == 0 || state.rfind("54", 0) == 0)
        return refuse(req, 400, std::string("body: ") + e.what());
      if (state.rfind("40", 0) == 0 || state.rfind("53", 0) == 0 || state.rfind("57", 0) == 0 ||
          state == "25006" || state.rfind("08", 0) == 0)
        return unavailable("the database cannot take the call now (SQLSTATE " + state + ")");
      return json_reply(500, bridge::error_body("internal error at the HIP; the message may be re-delivered"));
    } catch (...) {
      log_current_exception("abdm_hip bridge: receive");
      return json_reply(500, bridge::error_body("internal error at the HIP; the message may be re-delivered"));
    }
    return json_reply(status, body.value_or(""));
  }

  bridge::GatewayKeys keys_;
  std::unique_ptr<bridge::HttpListener> listener_;
  bool verify_jwt_seen_ = true;
  std::string gateway_seen_;
};

std::unique_ptr<WorkerTurn> start_bridge() { return std::make_unique<BridgeTurn>(); }

}  // namespace
}  // namespace abdm_pg

extern "C" {
PGDLLEXPORT void abdm_bridge_main(Datum) noexcept;
}

void abdm_bridge_main(Datum) noexcept {
  abdm_pg::run_worker(abdm_pg::WorkerKind::kBridge, "abdm_hip bridge", abdm_pg::start_bridge);
}
