// The delivery engine against a real HTTP server on the loopback (loopback_server.hpp): what comes
// back for each kind of answer, the token rules (wait, renew once, give up after three failed
// sessions), the deadline, and the headers and body each style sends.
#include "core/net/delivery.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/net/v3_headers.hpp"
#include "core/util/error.hpp"
#include "loopback_server.hpp"

namespace abdm::net {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;
using testing::RecordedRequest;

Delivery delivery(const LoopbackServer& s, std::int64_t id, const std::string& path, HeaderStyle style) {
  Delivery d;
  d.id = id;
  d.owner = "IN2710000001";
  d.url = s.url(path);
  d.style = style;
  d.request_id = new_request_id();
  d.cm_id = "sbx";
  d.hip_id = "IN2710000001";
  d.body = R"({"n":)" + std::to_string(id) + "}";
  d.timeout_ms = 5000;
  d.backoff = {100ms, 250ms, 5};
  return d;
}

SessionConfig session_config(const LoopbackServer& s) {
  SessionConfig c;
  c.base_url = s.url("");
  c.client_id = "SBX_000001";
  c.client_secret = "s3cr3t-value";
  c.cm_id = "sbx";
  c.timeout_ms = 5000;
  c.failure_backoff = {1ms, 5ms, 1 << 30};  // three failures within milliseconds
  return c;
}

// Polls until `n` outcomes have come back (or 10 s passed).
std::vector<Outcome> run(DeliveryEngine& e, std::size_t n) {
  std::vector<Outcome> all;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (all.size() < n && std::chrono::steady_clock::now() < until) {
    std::vector<Outcome> got = e.poll(50);
    // Nothing in flight: a renewal's back-off is running out; the engine does not sleep itself.
    if (got.empty() && e.in_flight() == 0) std::this_thread::sleep_for(2ms);
    for (Outcome& o : got) all.push_back(std::move(o));
  }
  EXPECT_EQ(all.size(), n) << "outcomes within 10 s";
  return all;
}

// Submits one delivery and polls until its outcome.
Outcome deliver(DeliveryEngine& e, Delivery d) {
  e.submit(std::move(d));
  std::vector<Outcome> out = run(e, 1);
  return out.empty() ? Outcome{} : std::move(out.front());
}

std::vector<RecordedRequest> calls_to(const LoopbackServer& s, const std::string& path) {
  std::vector<RecordedRequest> out;
  for (RecordedRequest& r : s.recorded())
    if (r.path == path) out.push_back(std::move(r));
  return out;
}

std::string header(const RecordedRequest& r, const std::string& lower_name) {
  auto it = r.headers.find(lower_name);
  return it == r.headers.end() ? "<absent>" : it->second;
}

TEST(Delivery, SuccessIsSentWithTheResponse) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  engine.submit(delivery(server, 7, "/echo", HeaderStyle::kHook));
  EXPECT_EQ(engine.in_flight(), 1u);
  const std::vector<Outcome> out = run(engine, 1);
  ASSERT_EQ(out.size(), 1u);
  const Outcome& o = out[0];
  EXPECT_EQ(o.id, 7);
  EXPECT_EQ(o.owner, "IN2710000001");
  EXPECT_EQ(o.kind, OutcomeKind::kSent);
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.response, R"({"n":7})");
  EXPECT_EQ(o.reason, "");
  EXPECT_EQ(engine.in_flight(), 0u);
  EXPECT_STREQ(outcome_name(o.kind), "sent");
}

TEST(Delivery, ServerErrorIsRetriedWithADelayInThePolicysBounds) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  for (int id = 1; id <= 20; ++id) {
    Delivery d = delivery(server, id, "/status/503", HeaderStyle::kHook);
    d.attempts_made = 3;  // ceiling min(250 ms, 100 ms · 2²) = 250 ms
    engine.submit(std::move(d));
  }
  std::set<long long> delays;
  for (const Outcome& o : run(engine, 20)) {
    EXPECT_EQ(o.kind, OutcomeKind::kRetry);
    EXPECT_EQ(o.http_status, 503);
    EXPECT_NE(o.reason.find("HTTP 503"), std::string::npos) << o.reason;
    EXPECT_GE(o.delay.count(), 0);
    EXPECT_LE(o.delay.count(), 250);
    delays.insert(o.delay.count());
  }
  EXPECT_GT(delays.size(), 1u) << "full jitter: the delays are spread";

  // A server's Retry-After is a floor; the last attempt is not retried.
  Delivery later = delivery(server, 21, "/status/503?retry_after=2", HeaderStyle::kHook);
  later.backoff = {100ms, 5s, 5};
  engine.submit(std::move(later));
  Delivery last = delivery(server, 22, "/status/503", HeaderStyle::kHook);
  last.attempts_made = 5;
  engine.submit(std::move(last));
  for (const Outcome& o : run(engine, 2)) {
    if (o.id == 21) {
      EXPECT_EQ(o.kind, OutcomeKind::kRetry);
      EXPECT_EQ(o.delay, 2000ms);
    } else {
      EXPECT_EQ(o.kind, OutcomeKind::kFailed);
      EXPECT_NE(o.reason.find("gave up after 5 attempts"), std::string::npos) << o.reason;
    }
  }
}

TEST(Delivery, AThrottleAnswerIsRetriedAndMarked) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  const Outcome o = deliver(engine, delivery(server, 4, "/status/429", HeaderStyle::kHook));
  EXPECT_EQ(o.kind, OutcomeKind::kRetry);
  EXPECT_TRUE(o.throttled);
  const Outcome ok = deliver(engine, delivery(server, 5, "/status/503", HeaderStyle::kHook));
  EXPECT_FALSE(ok.throttled);
}

TEST(Delivery, ClientErrorFailsWithTheBodyInTheReason) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  const Outcome o = deliver(engine, delivery(server, 3, "/status/400?body=no-such-patient", HeaderStyle::kHook));
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_EQ(o.http_status, 400);
  EXPECT_EQ(o.reason, "HTTP 400: no-such-patient");
  EXPECT_EQ(o.response, "no-such-patient");
  EXPECT_EQ(o.delay, 0ms);
  EXPECT_EQ(calls_to(server, "/status/400").size(), 1u) << "not retried";
}

TEST(Delivery, ARefusedTokenIsRenewedAndTheCallRetriedOnce) {
  LoopbackServer server;
  int established = 0;
  SessionTokenSource tokens([&](SessionTokenSource::Event e, const GatewaySession&) {
    established += e == SessionTokenSource::Event::kEstablished;
  });
  tokens.configure(session_config(server));
  DeliveryEngine engine(tokens);
  // Accepts only the second token: the first call is refused, the retry with token-2 goes through.
  const Outcome o = deliver(engine, delivery(server, 1, "/bearer/token-2", HeaderStyle::kGatewayV3));
  EXPECT_EQ(o.kind, OutcomeKind::kSent);
  EXPECT_EQ(o.http_status, 202);
  EXPECT_EQ(server.sessions_issued.load(), 2);
  EXPECT_EQ(established, 2);
  const auto calls = calls_to(server, "/bearer/token-2");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(header(calls[0], "authorization"), "Bearer token-1");
  EXPECT_EQ(header(calls[1], "authorization"), "Bearer token-2");
  EXPECT_EQ(header(calls[0], "request-id"), header(calls[1], "request-id")) << "the same REQUEST-ID";
}

TEST(Delivery, ASecondRefusalIsRetriedLater) {
  LoopbackServer server;
  SessionTokenSource tokens;
  tokens.configure(session_config(server));
  DeliveryEngine engine(tokens);
  const Outcome o = deliver(engine, delivery(server, 1, "/status/401", HeaderStyle::kGatewayV3));
  EXPECT_EQ(o.kind, OutcomeKind::kRetry) << "a later attempt, within max_attempts";
  EXPECT_EQ(o.http_status, 401);
  EXPECT_NE(o.reason.find("still refused after a session renewal"), std::string::npos) << o.reason;
  EXPECT_EQ(calls_to(server, "/status/401").size(), 2u) << "retried once, not in a loop";
  EXPECT_EQ(server.sessions_issued.load(), 2);
}

TEST(Delivery, ARefusalOfABorrowedTokenIsRetriedLater) {
  LoopbackServer server;
  CachedTokenSource cached([] { return std::string("borrowed"); });
  DeliveryEngine engine(cached);
  const Outcome o = deliver(engine, delivery(server, 1, "/status/401", HeaderStyle::kDataPush));
  EXPECT_EQ(o.kind, OutcomeKind::kRetry) << "the sender renews the token; the next attempt reads it";
  EXPECT_EQ(calls_to(server, "/status/401").size(), 1u);
}

TEST(Delivery, NoRetryAfterTheDeadline) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  Delivery past = delivery(server, 1, "/status/503", HeaderStyle::kHook);
  past.deadline = std::chrono::system_clock::now() - 1s;
  engine.submit(std::move(past));
  Delivery future = delivery(server, 2, "/status/503", HeaderStyle::kHook);
  future.deadline = std::chrono::system_clock::now() + 1h;
  engine.submit(std::move(future));
  for (const Outcome& o : run(engine, 2)) {
    EXPECT_EQ(o.kind, o.id == 1 ? OutcomeKind::kFailed : OutcomeKind::kRetry) << o.id;
    EXPECT_EQ(o.http_status, 503);
    EXPECT_NE(o.reason.find("HTTP 503"), std::string::npos);
  }
}

TEST(Delivery, DeliveriesWaitingForTheTokenGoOnceItArrives) {
  LoopbackServer server;
  SessionTokenSource tokens;
  tokens.configure(session_config(server));
  DeliveryEngine engine(tokens);
  for (int id = 1; id <= 3; ++id) engine.submit(delivery(server, id, "/gw", HeaderStyle::kGatewayV3));
  EXPECT_EQ(engine.waiting(), 3u);
  EXPECT_EQ(engine.in_flight(), 0u);
  const std::vector<Outcome> out = run(engine, 3);
  for (const Outcome& o : out) EXPECT_EQ(o.kind, OutcomeKind::kSent);
  EXPECT_EQ(engine.waiting(), 0u);
  EXPECT_EQ(server.sessions_issued.load(), 1) << "one session for all of them";
  const auto calls = calls_to(server, "/gw");
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& c : calls) EXPECT_EQ(header(c, "authorization"), "Bearer token-1");
}

TEST(Delivery, DeliveriesWaitForABorrowedTokenToo) {
  LoopbackServer server;
  std::string published;
  CachedTokenSource cached([&] { return published; });
  DeliveryEngine engine(cached);
  engine.submit(delivery(server, 1, "/gw", HeaderStyle::kGatewayV3));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(engine.poll(10).empty());
  EXPECT_EQ(engine.waiting(), 1u);
  EXPECT_TRUE(calls_to(server, "/gw").empty());
  published = "late-token";
  const std::vector<Outcome> out = run(engine, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, OutcomeKind::kSent) << out[0].reason;
  const auto calls = calls_to(server, "/gw");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(header(calls[0], "authorization"), "Bearer late-token");
}

TEST(Delivery, ThreeFailedSessionsGiveUpTheWaitingGatewayDeliveries) {
  LoopbackServer server;
  server.session_status = 503;
  std::vector<std::size_t> waiting_at_failure;
  DeliveryEngine* engine_ptr = nullptr;
  SessionTokenSource tokens([&](SessionTokenSource::Event e, const GatewaySession&) {
    if (e == SessionTokenSource::Event::kFailed) waiting_at_failure.push_back(engine_ptr->waiting());
  });
  tokens.configure(session_config(server));
  DeliveryEngine engine(tokens);
  engine_ptr = &engine;
  engine.submit(delivery(server, 1, "/gw", HeaderStyle::kGatewayV3));
  Delivery last = delivery(server, 2, "/gw", HeaderStyle::kGatewayV3);
  last.attempts_made = 5;  // its last attempt
  engine.submit(std::move(last));
  engine.submit(delivery(server, 3, "/hook", HeaderStyle::kHook));  // needs no token: not held
  const std::vector<Outcome> out = run(engine, 3);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(waiting_at_failure, (std::vector<std::size_t>{2, 2, 2})) << "they waited through two failures";
  EXPECT_EQ(engine.waiting(), 0u);
  for (const Outcome& o : out) {
    if (o.id == 3) {
      EXPECT_EQ(o.kind, OutcomeKind::kSent);
      continue;
    }
    EXPECT_EQ(o.kind, o.id == 1 ? OutcomeKind::kRetry : OutcomeKind::kFailed) << o.id;
    EXPECT_EQ(o.reason.rfind("gateway session: session request failed: HTTP 503", 0), 0u) << o.reason;
    EXPECT_EQ(o.reason.find("s3cr3t"), std::string::npos);
    EXPECT_EQ(o.http_status, 0);
  }
  EXPECT_TRUE(calls_to(server, "/gw").empty()) << "nothing went without a token";
}

TEST(Delivery, WaitingDeliveriesCanBeDeferred) {
  LoopbackServer server;
  SessionTokenSource unconfigured;
  DeliveryEngine engine(unconfigured);
  engine.submit(delivery(server, 9, "/gw", HeaderStyle::kGatewayV3));
  EXPECT_EQ(engine.waiting(), 1u);
  const std::vector<Outcome> out = engine.defer_waiting("abdm_hip.client_id is not set", 30s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 9);
  EXPECT_EQ(out[0].kind, OutcomeKind::kDefer);
  EXPECT_EQ(out[0].delay, 30000ms);
  EXPECT_EQ(out[0].reason, "abdm_hip.client_id is not set");
  EXPECT_EQ(engine.waiting(), 0u);
  EXPECT_TRUE(engine.poll(10).empty());
  EXPECT_TRUE(server.recorded().empty());
}

TEST(Delivery, HookHeadersCarryNoGatewayCredentials) {
  LoopbackServer server;
  CachedTokenSource cached([] { return std::string("must-not-leak"); });
  DeliveryEngine engine(cached);
  Delivery d = delivery(server, 1, "/hook", HeaderStyle::kHook);
  d.extra_headers = {{"X-Sms-Key", "k1"}};
  const std::string rid = d.request_id;
  deliver(engine, std::move(d));
  const auto calls = calls_to(server, "/hook");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(header(calls[0], "request-id"), rid);
  EXPECT_NE(header(calls[0], "timestamp"), "<absent>");
  EXPECT_EQ(header(calls[0], "content-type"), "application/json");
  EXPECT_EQ(header(calls[0], "x-sms-key"), "k1");
  EXPECT_EQ(header(calls[0], "authorization"), "<absent>");
  EXPECT_EQ(header(calls[0], "x-cm-id"), "<absent>");
  EXPECT_EQ(header(calls[0], "x-hip-id"), "<absent>");
  EXPECT_EQ(calls[0].body, R"({"n":1})");
}

TEST(Delivery, DataPushHeadersCarryTheTokenWhenThereIsOne) {
  LoopbackServer server;
  std::string published = "shared-token";
  CachedTokenSource cached([&] { return published; });
  DeliveryEngine engine(cached);
  deliver(engine, delivery(server, 1, "/push1", HeaderStyle::kDataPush));
  published.clear();  // no token: the push goes without Authorization, it does not wait
  engine.submit(delivery(server, 2, "/push2", HeaderStyle::kDataPush));
  EXPECT_EQ(engine.waiting(), 0u);
  run(engine, 1);
  const auto with = calls_to(server, "/push1");
  const auto without = calls_to(server, "/push2");
  ASSERT_EQ(with.size(), 1u);
  ASSERT_EQ(without.size(), 1u);
  EXPECT_EQ(header(with[0], "authorization"), "Bearer shared-token");
  EXPECT_EQ(header(without[0], "authorization"), "<absent>");
  for (const auto& c : {with[0], without[0]}) {
    EXPECT_EQ(header(c, "x-hip-id"), "IN2710000001");
    EXPECT_EQ(header(c, "x-cm-id"), "sbx");
    EXPECT_TRUE(is_uuid(header(c, "request-id")));
  }
}

TEST(Delivery, GatewayHeadersCarryTheLinkToken) {
  LoopbackServer server;
  CachedTokenSource cached([] { return std::string("gw-token"); });
  DeliveryEngine engine(cached);
  Delivery d = delivery(server, 1, "/gw", HeaderStyle::kGatewayV3);
  d.link_token = "link-abc";
  deliver(engine, std::move(d));
  const auto calls = calls_to(server, "/gw");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(header(calls[0], "authorization"), "Bearer gw-token");
  EXPECT_EQ(header(calls[0], "x-link-token"), "link-abc");
  EXPECT_EQ(header(calls[0], "x-hip-id"), "IN2710000001");
}

TEST(Delivery, ABodyFileIsSentAndTheResponseKeptTo64KiB) {
  LoopbackServer server;
  std::string content(100 * 1024, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
  char path[] = "/tmp/abdm_delivery_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  FILE* f = fdopen(fd, "wb");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  Delivery d = delivery(server, 1, "/echo", HeaderStyle::kDataPush);
  d.body.clear();
  d.body_file = path;
  d.body_file_size = content.size();
  const Outcome o = deliver(engine, std::move(d));
  std::remove(path);
  EXPECT_EQ(o.kind, OutcomeKind::kSent);
  const auto calls = calls_to(server, "/echo");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].body, content);
  EXPECT_EQ(o.response, content.substr(0, DeliveryEngine::kMaxResponseBytes));
}

TEST(Delivery, ADeliveryThatCannotBeSentIsRetriedThenFailed) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  Delivery bad = delivery(server, 1, "/x", HeaderStyle::kHook);
  bad.url = "ftp://127.0.0.1/x";
  engine.submit(bad);
  bad.id = 2;
  bad.attempts_made = 5;
  engine.submit(bad);
  EXPECT_EQ(engine.in_flight(), 0u);
  const std::vector<Outcome> out = engine.poll(1000);
  ASSERT_EQ(out.size(), 2u);
  for (const Outcome& o : out) {
    EXPECT_EQ(o.kind, o.id == 1 ? OutcomeKind::kRetry : OutcomeKind::kFailed);
    EXPECT_EQ(o.reason.rfind("cannot be sent: ", 0), 0u) << o.reason;
  }
  EXPECT_THROW(engine.submit([&] {
                 Delivery d = delivery(server, 3, "/x", HeaderStyle::kHook);
                 d.backoff.max_attempts = 0;
                 return d;
               }()),
               Error);
}

TEST(Delivery, AbortAllEndsTheCallsInFlight) {
  LoopbackServer server;
  CachedTokenSource none([] { return std::string(); });
  DeliveryEngine engine(none);
  engine.submit(delivery(server, 1, "/slow?ms=5000", HeaderStyle::kHook));
  engine.poll(50);
  const auto start = std::chrono::steady_clock::now();
  engine.abort_all();
  const std::vector<Outcome> out = run(engine, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, OutcomeKind::kRetry);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(engine.in_flight(), 0u);
}

}  // namespace
}  // namespace abdm::net
