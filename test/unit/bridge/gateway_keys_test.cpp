// The gateway's keys as the bridge holds them, against a real loopback JWKS server: fetched once
// and kept, fetched again for an unknown kid at most once per interval, refused tokens never
// cause a fetch loop, no keys at all is "unavailable" (503), and the session token goes along.
#include "core/bridge/gateway_keys.hpp"

#include <microhttpd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>

#include "../auth/jwt_test_support.hpp"

namespace abdm::bridge {
namespace {

using namespace abdm::auth::testing;
using std::chrono::seconds;

// A JWKS endpoint (libmicrohttpd with its own thread; a test tool, not the code under test).
class JwksServer {
 public:
  JwksServer() {
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, nullptr, nullptr, &JwksServer::handle, this,
                               MHD_OPTION_END);
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~JwksServer() { MHD_stop_daemon(daemon_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/gateway/v3/certs"; }
  void serve(const json& jwks, unsigned status = 200) {
    std::lock_guard<std::mutex> g(m_);
    body_ = jwks.dump();
    status_ = status;
  }
  int fetches() const { return fetches_; }
  std::string last_authorization() {
    std::lock_guard<std::mutex> g(m_);
    return authorization_;
  }

 private:
  static MHD_Result handle(void* cls, MHD_Connection* c, const char*, const char*, const char*, const char*,
                           size_t*, void**) {
    auto* self = static_cast<JwksServer*>(cls);
    ++self->fetches_;
    std::lock_guard<std::mutex> g(self->m_);
    const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    self->authorization_ = auth ? auth : "";
    MHD_Response* r = MHD_create_response_from_buffer(self->body_.size(), self->body_.data(), MHD_RESPMEM_MUST_COPY);
    MHD_Result q = MHD_queue_response(c, self->status_, r);
    MHD_destroy_response(r);
    return q;
  }
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
  std::mutex m_;
  std::string body_ = "{\"keys\":[]}";
  std::string authorization_;
  unsigned status_ = 200;
  std::atomic<int> fetches_{0};
};

json jwks_of(std::vector<json> keys) {
  json j;
  j["keys"] = keys;
  return j;
}

auth::JwtPolicy policy() {
  auth::JwtPolicy p;
  p.issuer = kIssuer;
  return p;
}

std::string token(const Pkey& k, const std::string& kid) { return rs_token(k, header("RS256", kid), gateway_claims()); }

std::unique_ptr<GatewayKeys> keys_for(JwksServer& s, std::string session_token = "session-token-1") {
  auto keys = std::make_unique<GatewayKeys>([session_token] { return session_token; }, GatewayKeys::Logger{});
  GatewayKeysConfig c;
  c.certs_url = s.url();
  c.timeout_ms = 2000;
  keys->configure(c, seconds(60), seconds(3600));
  return keys;
}

TEST(GatewayKeys, FetchesOnceThenVerifiesFromTheCache) {
  JwksServer s;
  s.serve(jwks_of({jwk(key_a(), "k1")}));
  auto keys_ptr = keys_for(s);
  GatewayKeys& keys = *keys_ptr;
  for (int i = 0; i < 20; ++i) {
    auto v = keys.verify(token(key_a(), "k1"), policy(), at(kNow + i));
    ASSERT_TRUE(v.jwt.ok()) << v.jwt.reason;
  }
  EXPECT_EQ(s.fetches(), 1);
  EXPECT_EQ(s.last_authorization(), "Bearer session-token-1");
}

TEST(GatewayKeys, UnknownKidsFetchAtMostOncePerInterval) {
  JwksServer s;
  s.serve(jwks_of({jwk(key_a(), "k1")}));
  auto keys_ptr = keys_for(s);
  GatewayKeys& keys = *keys_ptr;
  ASSERT_TRUE(keys.verify(token(key_a(), "k1"), policy(), at(kNow)).jwt.ok());
  // 200 made-up kids over two minutes: one fetch per minute at most, the first minute's being
  // the one that found k1.
  for (int i = 0; i < 200; ++i) {
    auto v = keys.verify(token(key_b(), "random-" + std::to_string(i)), policy(), at(kNow + 1 + i * 119 / 200));
    EXPECT_EQ(v.jwt.failure, auth::JwtFailure::kUnknownKid);
    EXPECT_FALSE(v.keys_unavailable);  // there are keys: an unknown kid is the token's fault (401)
  }
  EXPECT_EQ(s.fetches(), 2);
}

TEST(GatewayKeys, ARotatedKeyIsPickedUp) {
  JwksServer s;
  s.serve(jwks_of({jwk(key_a(), "k1")}));
  auto keys_ptr = keys_for(s);
  GatewayKeys& keys = *keys_ptr;
  ASSERT_TRUE(keys.verify(token(key_a(), "k1"), policy(), at(kNow)).jwt.ok());
  s.serve(jwks_of({jwk(key_a(), "k1"), jwk(key_b(), "k2", "RS512")}));
  // Within the interval of the first fetch the new kid is not fetched for...
  EXPECT_EQ(keys.verify(token(key_b(), "k2"), policy(), at(kNow + 10)).jwt.failure, auth::JwtFailure::kUnknownKid);
  // ...after it, it is, and the RS512 key verifies an RS512 token.
  auto v = keys.verify(rs_token(key_b(), header("RS512", "k2"), gateway_claims(), EVP_sha512()), policy(), at(kNow + 61));
  EXPECT_TRUE(v.jwt.ok()) << v.jwt.reason;
  EXPECT_EQ(s.fetches(), 2);
}

TEST(GatewayKeys, NoKeysAtAllIsUnavailableNotUnauthorised) {
  JwksServer s;
  s.serve(json{{"error", "down"}}, 503);
  auto keys_ptr = keys_for(s);
  GatewayKeys& keys = *keys_ptr;
  auto v = keys.verify(token(key_a(), "k1"), policy(), at(kNow));
  EXPECT_TRUE(v.keys_unavailable);
  EXPECT_NE(v.jwt.reason.find("HTTP 503"), std::string::npos) << v.jwt.reason;
  // Not fetched again before the interval, however many calls come.
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(keys.verify(token(key_a(), "k1"), policy(), at(kNow + 1)).keys_unavailable);
  EXPECT_EQ(s.fetches(), 1);
  // The gateway is back: the next call after the interval fetches and verifies.
  s.serve(jwks_of({jwk(key_a(), "k1")}));
  auto later = keys.verify(token(key_a(), "k1"), policy(), at(kNow + 61));
  EXPECT_TRUE(later.jwt.ok()) << later.jwt.reason;
}

TEST(GatewayKeys, AFailedRefreshKeepsTheKeysWeHave) {
  JwksServer s;
  s.serve(jwks_of({jwk(key_a(), "k1")}));
  auto keys_ptr = keys_for(s);
  GatewayKeys& keys = *keys_ptr;
  ASSERT_TRUE(keys.verify(token(key_a(), "k1"), policy(), at(kNow)).jwt.ok());
  s.serve(json{{"keys", "not a list"}});
  // Past the maximum age a refresh is tried; it fails, and the cached key still verifies.
  auto v = keys.verify(token(key_a(), "k1"), policy(), at(kNow + 3700));
  EXPECT_EQ(s.fetches(), 2);
  EXPECT_FALSE(v.keys_unavailable);
  EXPECT_EQ(v.jwt.failure, auth::JwtFailure::kExpired);  // the token is old now; the key was there
  EXPECT_FALSE(keys.last_fetch_error().empty());
}

TEST(GatewayKeys, NoSessionTokenMeansNoAuthorizationHeader) {
  JwksServer s;
  s.serve(jwks_of({jwk(key_a(), "k1")}));
  auto keys_ptr = keys_for(s, "");
  GatewayKeys& keys = *keys_ptr;
  ASSERT_TRUE(keys.verify(token(key_a(), "k1"), policy(), at(kNow)).jwt.ok());
  EXPECT_EQ(s.last_authorization(), "");
}

}  // namespace
}  // namespace abdm::bridge
