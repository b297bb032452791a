#include "core/net/gateway_session.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/net/v3_headers.hpp"
#include "core/util/error.hpp"
#include "loopback_server.hpp"

namespace abdm::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TP = GatewaySession::TimePoint;

SessionConfig config(std::string base = "https://gw.example/api/hiecm/") {
  SessionConfig c;
  c.base_url = std::move(base);
  c.client_id = "SBX_000001";
  c.client_secret = "s3cr3t-value";
  c.cm_id = "sbx";
  c.failure_backoff = {seconds(1), seconds(60), 1 << 30};
  return c;
}

Result session_ok(std::string token, int expires_in) {
  Result r;
  r.http_status = 200;
  r.body = R"({"accessToken":")" + token + R"(","expiresIn":)" + std::to_string(expires_in) +
           R"(,"refreshExpiresIn":1800,"tokenType":"bearer"})";
  return r;
}

const TP t0 = TP(seconds(1767261600));

TEST(GatewaySession, BuildsTheSessionRequest) {
  GatewaySession s(config());
  Request r = s.build_renewal_request(-1, t0);
  EXPECT_EQ(r.id, -1);
  EXPECT_EQ(r.method, Method::kPost);
  EXPECT_EQ(r.url, "https://gw.example/api/hiecm/gateway/v3/sessions");
  EXPECT_TRUE(r.redact);
  EXPECT_TRUE(r.verify_tls);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body.at("clientId"), "SBX_000001");
  EXPECT_EQ(body.at("clientSecret"), "s3cr3t-value");
  EXPECT_EQ(body.at("grantType"), "client_credentials");
  std::map<std::string, std::string> h;
  for (const auto& x : r.headers) h[x.name] = x.value;
  EXPECT_TRUE(is_uuid(h["REQUEST-ID"]));
  EXPECT_EQ(h["TIMESTAMP"], "2026-01-01T10:00:00.000Z");
  EXPECT_EQ(h["X-CM-ID"], "sbx");
  EXPECT_EQ(h["Content-Type"], "application/json");
  EXPECT_EQ(h.count("Authorization"), 0u);
  // Logs never see the secret.
  EXPECT_EQ(describe(r).find("s3cr3t"), std::string::npos);
  EXPECT_NE(describe(r).find("[body redacted]"), std::string::npos);
}

TEST(GatewaySession, RenewalTime) {
  auto renew_after = [](int e) {
    return std::chrono::duration_cast<seconds>(GatewaySession::compute_renew_at(t0, seconds(e)) - t0).count();
  };
  EXPECT_EQ(renew_after(1200), 960);  // 0.8 × 1200 is earlier than 1200 − 60
  EXPECT_EQ(renew_after(600), 480);
  EXPECT_EQ(renew_after(3600), 2880);
  EXPECT_EQ(renew_after(200), 140);   // 200 − 60 is earlier than 160
  EXPECT_EQ(renew_after(100), 50);    // 100 − 60 = 40 would be under half the lifetime
  EXPECT_EQ(renew_after(30), 15);
}

TEST(GatewaySession, LifeCycle) {
  GatewaySession s(config());
  EXPECT_FALSE(s.has_token(t0));
  EXPECT_TRUE(s.renewal_due(t0));
  Request req = s.build_renewal_request(-1, t0);
  EXPECT_TRUE(s.renewal_in_flight());
  EXPECT_FALSE(s.renewal_due(t0));
  EXPECT_THROW(s.build_renewal_request(-1, t0), Error);

  Result r = session_ok("tok-A", 1200);
  EXPECT_TRUE(s.on_renewal_result(r, t0));
  EXPECT_TRUE(r.body.empty());  // the token is wiped from the caller's Result
  EXPECT_EQ(s.access_token(), "tok-A");
  EXPECT_EQ(s.generation(), 1u);
  EXPECT_TRUE(s.has_token(t0));
  EXPECT_EQ(s.expires_at(), t0 + seconds(1200));
  EXPECT_FALSE(s.renewal_due(t0 + seconds(959)));
  EXPECT_TRUE(s.renewal_due(t0 + seconds(960)));
  EXPECT_EQ(s.next_renewal_check(t0), t0 + seconds(960));
  EXPECT_TRUE(s.has_token(t0 + seconds(1199)));   // still usable while the renewal runs
  EXPECT_FALSE(s.has_token(t0 + seconds(1200)));

  s.build_renewal_request(-1, t0 + seconds(960));
  Result r2 = session_ok("tok-B", 1200);
  EXPECT_TRUE(s.on_renewal_result(r2, t0 + seconds(961)));
  EXPECT_EQ(s.access_token(), "tok-B");
  EXPECT_EQ(s.generation(), 2u);
}

TEST(GatewaySession, InvalidateOnlyTheTokenThatWasRefused) {
  GatewaySession s(config());
  s.adopt("tok-A", t0, seconds(1200));
  const auto gen_a = s.generation();
  s.invalidate(gen_a);
  EXPECT_FALSE(s.has_token(t0));
  EXPECT_TRUE(s.renewal_due(t0));
  s.build_renewal_request(-1, t0);
  Result r = session_ok("tok-B", 1200);
  ASSERT_TRUE(s.on_renewal_result(r, t0));
  // A late 401 for a call made with tok-A must not throw away tok-B.
  s.invalidate(gen_a);
  EXPECT_TRUE(s.has_token(t0));
  EXPECT_FALSE(s.renewal_due(t0));
}

TEST(GatewaySession, FailureBacksOffAndNeverShowsSecrets) {
  GatewaySession s(config());
  s.build_renewal_request(-1, t0);
  Result r;
  r.http_status = 401;
  r.body = R"({"error":{"code":"ABDM-1001","message":"client s3cr3t-value unknown"}})";
  EXPECT_FALSE(s.on_renewal_result(r, t0));
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(s.consecutive_failures(), 1);
  EXPECT_EQ(s.last_error().find("s3cr3t"), std::string::npos);
  EXPECT_NE(s.last_error().find("HTTP 401"), std::string::npos);
  EXPECT_LE(s.next_renewal_check(t0), t0 + seconds(1));  // first back-off is at most base
  EXPECT_TRUE(s.renewal_due(t0 + seconds(1)));

  // A 200 that is not a session: the token is not adopted, the error names the field.
  s.build_renewal_request(-1, t0 + seconds(1));
  Result bad;
  bad.http_status = 200;
  bad.body = R"({"tokenType":"bearer"})";
  EXPECT_FALSE(s.on_renewal_result(bad, t0 + seconds(1)));
  EXPECT_EQ(s.consecutive_failures(), 2);
  EXPECT_NE(s.last_error().find("accessToken"), std::string::npos);
  EXPECT_LE(s.next_renewal_check(t0 + seconds(1)), t0 + seconds(3));
  EXPECT_FALSE(s.has_token(t0 + seconds(1)));
}

TEST(GatewaySession, ParseResponse) {
  auto t = parse_session_response(R"({"accessToken":"a.b.c","expiresIn":600})");
  EXPECT_EQ(t.access_token, "a.b.c");
  EXPECT_EQ(t.expires_in, seconds(600));
  EXPECT_EQ(parse_session_response(R"({"accessToken":"x","expiresIn":"1200"})").expires_in, seconds(1200));
  EXPECT_THROW(parse_session_response("nope"), Error);
  EXPECT_THROW(parse_session_response(R"({"expiresIn":600})"), Error);
  EXPECT_THROW(parse_session_response(R"({"accessToken":"","expiresIn":600})"), Error);
  EXPECT_THROW(parse_session_response(R"({"accessToken":"x","expiresIn":-5})"), Error);
  EXPECT_THROW(parse_session_response(R"({"accessToken":"x"})"), Error);
  try {
    parse_session_response(R"({"accessToken":"very-secret-token","expiresIn":"soon"})");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "expiresIn");
    EXPECT_EQ(std::string(e.what()).find("very-secret-token"), std::string::npos);
  }
}

TEST(GatewaySession, RejectsBadConfig) {
  auto c = config();
  c.client_secret.clear();
  EXPECT_THROW(GatewaySession{c}, Error);
  c = config("ftp://x");
  EXPECT_THROW(GatewaySession{c}, Error);
}

// End to end against the loopback server: session, an authorised call, a 401, one renewal.
TEST(GatewaySession, AgainstLoopbackServer) {
  testing::LoopbackServer server;
  GatewaySession s(config(server.url("/api/hiecm")));
  HttpMulti multi;
  auto run_one = [&](Request req) {
    multi.submit(std::move(req));
    for (int i = 0; i < 500; ++i) {
      auto done = multi.poll(20);
      if (!done.empty()) return std::move(done.front());
    }
    ADD_FAILURE() << "no result";
    return Result{};
  };
  const auto now = std::chrono::system_clock::now();
  Result r = run_one(s.build_renewal_request(-1, now));
  ASSERT_TRUE(s.on_renewal_result(r, now)) << s.last_error();
  EXPECT_EQ(s.access_token(), "token-1");

  auto call = [&](const std::string& path) {
    Request q;
    q.id = 7;
    q.url = server.url(path);
    q.headers = build_v3_headers({s.access_token(), "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01", "sbx", "HIP1", ""},
                                 std::chrono::system_clock::now());
    q.body = "{}";
    return run_one(std::move(q));
  };
  const auto gen = s.generation();
  Result refused = call("/status/401");
  const auto d = decide(classify(refused), 1, 0, BackoffPolicy{}, 0);
  ASSERT_EQ(d.action, Action::kRenewSessionAndRetry);
  s.invalidate(gen);
  ASSERT_TRUE(s.renewal_due(std::chrono::system_clock::now()));
  Result r2 = run_one(s.build_renewal_request(-1, std::chrono::system_clock::now()));
  ASSERT_TRUE(s.on_renewal_result(r2, std::chrono::system_clock::now()));
  EXPECT_EQ(s.access_token(), "token-2");
  EXPECT_EQ(call("/ok").http_status, 202);

  const auto rec = server.recorded();
  ASSERT_EQ(rec.size(), 4u);
  EXPECT_EQ(rec[0].path, "/api/hiecm/gateway/v3/sessions");
  EXPECT_EQ(nlohmann::json::parse(rec[0].body).at("clientSecret"), "s3cr3t-value");
  EXPECT_EQ(rec[1].headers.at("authorization"), "Bearer token-1");
  EXPECT_EQ(rec[3].headers.at("authorization"), "Bearer token-2");
  EXPECT_EQ(rec[3].headers.at("x-hip-id"), "HIP1");
  EXPECT_EQ(rec[3].headers.at("request-id"), rec[1].headers.at("request-id"));
}

}  // namespace
}  // namespace abdm::net
