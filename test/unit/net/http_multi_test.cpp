#include "core/net/http_multi.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "core/net/retry_policy.hpp"
#include "core/util/error.hpp"
#include "loopback_server.hpp"

namespace abdm::net {
namespace {

using testing::LoopbackServer;
using Clock = std::chrono::steady_clock;

// Polls until `n` results arrived or `limit` passed.
std::vector<Result> run(HttpMulti& m, std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  std::vector<Result> out;
  const auto end = Clock::now() + limit;
  while (out.size() < n && Clock::now() < end) {
    for (auto& r : m.poll(50)) out.push_back(std::move(r));
  }
  return out;
}

Result run_one(HttpMulti& m, Request r) {
  m.submit(std::move(r));
  auto out = run(m, 1);
  if (out.size() != 1) {
    ADD_FAILURE() << "no result";
    return Result{};
  }
  return std::move(out[0]);
}

Request req(std::int64_t id, std::string url, std::string body = "") {
  Request r;
  r.id = id;
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

int unused_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);  // nothing listens there now
  return ntohs(a.sin_port);
}

TEST(HttpMulti, PostSendsHeadersAndBody) {
  LoopbackServer server;
  HttpMulti m;
  Request r = req(42, server.url("/echo"), R"({"hello":"world"})");
  r.headers = {{"REQUEST-ID", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01"}, {"X-CM-ID", "sbx"},
               {"Content-Type", "application/json"}};
  const Result res = run_one(m, r);
  EXPECT_EQ(res.id, 42);
  EXPECT_TRUE(res.transport_ok()) << res.curl_error;
  EXPECT_EQ(res.http_status, 200);
  EXPECT_EQ(res.body, R"({"hello":"world"})");
  ASSERT_NE(res.header("content-type"), nullptr);
  EXPECT_EQ(*res.header("Content-Type"), "application/json");
  EXPECT_EQ(res.new_connections, 1);
  EXPECT_GT(res.elapsed_ms, 0.0);
  EXPECT_EQ(m.in_flight(), 0u);
  const auto rec = server.recorded();
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].method, "POST");
  EXPECT_EQ(rec[0].headers.at("request-id"), "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01");
  EXPECT_EQ(rec[0].headers.at("x-cm-id"), "sbx");
  EXPECT_EQ(rec[0].headers.count("expect"), 0u);
}

TEST(HttpMulti, MethodsAndEmptyBodies) {
  LoopbackServer server;
  HttpMulti m;
  Request g = req(1, server.url("/ok"));
  g.method = Method::kGet;
  EXPECT_EQ(run_one(m, g).http_status, 202);
  Request p = req(2, server.url("/ok"), R"({"url":"https://hip.example"})");
  p.method = Method::kPatch;
  EXPECT_EQ(run_one(m, p).http_status, 202);
  Request e = req(3, server.url("/ok"));  // POST with no body
  EXPECT_EQ(run_one(m, e).http_status, 202);
  const auto rec = server.recorded();
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec[0].method, "GET");
  EXPECT_EQ(rec[1].method, "PATCH");
  EXPECT_EQ(rec[1].body, R"({"url":"https://hip.example"})");
  EXPECT_EQ(rec[2].method, "POST");
  EXPECT_EQ(rec[2].body, "");
}

TEST(HttpMulti, TwoHundredInFlightReuseConnections) {
  LoopbackServer server;
  HttpMultiOptions o;
  o.max_total_connections = 16;
  o.max_host_connections = 16;
  o.max_connects_cached = 16;
  HttpMulti m(o);
  for (int batch = 0; batch < 2; ++batch) {
    for (int i = 0; i < 200; ++i) m.submit(req(batch * 1000 + i, server.url("/ok"), "{}"));
    EXPECT_EQ(m.in_flight(), 200u);
    const auto out = run(m, 200);
    ASSERT_EQ(out.size(), 200u);
    std::set<std::int64_t> ids;
    for (const auto& r : out) {
      EXPECT_EQ(r.http_status, 202) << r.curl_error;
      ids.insert(r.id);
    }
    EXPECT_EQ(ids.size(), 200u);
    EXPECT_EQ(*ids.begin(), batch * 1000);
    EXPECT_EQ(*ids.rbegin(), batch * 1000 + 199);
    // 200 requests over at most 16 connections; the second batch opens none.
    EXPECT_LE(m.total_new_connections(), 16);
    EXPECT_GE(m.total_new_connections(), 1);
  }
  EXPECT_EQ(server.requests_served(), 400);
  EXPECT_LE(server.connections_opened(), 16);
  EXPECT_EQ(m.in_flight(), 0u);
}

TEST(HttpMulti, TwoHundredSlowRequestsRunConcurrently) {
  LoopbackServer server;  // one thread per connection: the 200 waits overlap on the server too
  HttpMultiOptions o;
  o.max_total_connections = 200;
  o.max_host_connections = 200;
  o.max_connects_cached = 200;
  HttpMulti m(o);
  const auto start = Clock::now();
  for (int i = 0; i < 200; ++i) m.submit(req(i, server.url("/slow?ms=200"), "{}"));
  const auto out = run(m, 200);
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_EQ(out.size(), 200u);
  for (const auto& r : out) EXPECT_EQ(r.http_status, 202) << r.curl_error;
  // One at a time this is 40 s; all in flight it is one 200 ms wait plus set-up.
  EXPECT_LT(took, 3.0);
  EXPECT_GE(took, 0.2);
  EXPECT_GE(m.total_new_connections(), 100);  // mostly parallel connections (a few may be reused)
  EXPECT_LE(m.total_new_connections(), 200);
}

TEST(HttpMulti, TimeoutIsRetryable) {
  LoopbackServer server;
  HttpMulti m;
  Request r = req(1, server.url("/slow?ms=3000"));
  r.timeout_ms = 200;
  const Result res = run_one(m, r);
  EXPECT_EQ(res.curl_code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(res.http_status, 0);
  EXPECT_GE(res.elapsed_ms, 190.0);
  EXPECT_LT(res.elapsed_ms, 1500.0);
  EXPECT_EQ(classify(res).verdict, Verdict::kRetryable);
}

TEST(HttpMulti, ConnectionRefusedIsRetryable) {
  HttpMulti m;
  const Result res = run_one(m, req(1, "http://127.0.0.1:" + std::to_string(unused_port()) + "/x"));
  EXPECT_EQ(res.curl_code, CURLE_COULDNT_CONNECT);
  EXPECT_FALSE(res.curl_error.empty());
  const auto c = classify(res);
  EXPECT_EQ(c.verdict, Verdict::kRetryable);
  EXPECT_NE(c.reason.find("curl 7"), std::string::npos);
}

TEST(HttpMulti, StatusesClassified) {
  LoopbackServer server;
  HttpMulti m;
  auto get = [&](const std::string& path) { return run_one(m, req(1, server.url(path), "{}")); };

  EXPECT_EQ(classify(get("/status/500")).verdict, Verdict::kRetryable);

  const Result bad = get("/status/400?body=%7B%22error%22%3A%7B%22code%22%3A%22ABDM-1030%22%2C%22message%22%3A%22Invalid%20request%20ID%22%7D%7D");
  EXPECT_EQ(bad.http_status, 400);
  const auto c = classify(bad);
  EXPECT_EQ(c.verdict, Verdict::kPermanent);
  EXPECT_EQ(c.error_code, "ABDM-1030");
  EXPECT_EQ(c.reason, "HTTP 400: ABDM-1030 Invalid request ID");

  const auto env = classify(get("/status/200?body=%7B%22error%22%3A%7B%22code%22%3A%22ABDM-1027%3A%20%22%2C%22message%22%3A%22expired%22%7D%7D"));
  EXPECT_EQ(env.verdict, Verdict::kPermanent);
  EXPECT_EQ(env.error_code, "ABDM-1027");

  EXPECT_EQ(classify(get("/status/401")).verdict, Verdict::kAuth);

  const auto wso2 = classify(get("/status/403?body=%7B%22fault%22%3A%7B%22code%22%3A900901%2C%22message%22%3A%22Invalid%20Credentials%22%7D%7D"));
  EXPECT_EQ(wso2.verdict, Verdict::kAuth);

  const auto busy = classify(get("/status/429?retry_after=3"));
  EXPECT_EQ(busy.verdict, Verdict::kRetryable);
  EXPECT_EQ(busy.retry_after, std::chrono::seconds(3));

  EXPECT_EQ(classify(get("/ok")).verdict, Verdict::kSuccess);
}

TEST(HttpMulti, ResponseSizeCap) {
  LoopbackServer server;
  HttpMultiOptions o;
  o.max_response_bytes = 1000;
  HttpMulti m(o);
  const Result big = run_one(m, req(1, server.url("/big?bytes=5000")));
  EXPECT_TRUE(big.too_large);
  EXPECT_NE(big.curl_code, 0);
  EXPECT_LE(big.body.size(), 1000u);
  EXPECT_EQ(classify(big).verdict, Verdict::kPermanent);
  const Result fits = run_one(m, req(2, server.url("/big?bytes=1000")));
  EXPECT_TRUE(fits.transport_ok()) << fits.curl_error;
  EXPECT_EQ(fits.body.size(), 1000u);
}

TEST(HttpMulti, CancelHookAbortsTransfers) {
  LoopbackServer server;
  std::atomic<bool> cancel{false};
  HttpMultiOptions o;
  o.should_abort = [&] { return cancel.load(); };
  HttpMulti m(o);
  for (int i = 0; i < 3; ++i) m.submit(req(i, server.url("/slow?ms=5000")));
  const auto start = Clock::now();
  EXPECT_TRUE(m.poll(100).empty());
  cancel = true;
  const auto out = run(m, 3);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& r : out) {
    EXPECT_TRUE(r.aborted);
    EXPECT_EQ(r.curl_code, CURLE_ABORTED_BY_CALLBACK);
    EXPECT_EQ(r.curl_error, "transfer cancelled");
  }
  EXPECT_LT((std::chrono::duration<double>(Clock::now() - start).count()), 2.0);
  EXPECT_EQ(m.in_flight(), 0u);
}

TEST(HttpMulti, AbortAll) {
  LoopbackServer server;
  HttpMulti m;
  m.submit(req(5, server.url("/slow?ms=5000")));
  m.poll(50);
  m.abort_all();
  EXPECT_EQ(m.in_flight(), 1u);  // the result is still to be collected
  const auto out = m.poll(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 5);
  EXPECT_TRUE(out[0].aborted);
  EXPECT_EQ(m.in_flight(), 0u);
}

TEST(HttpMulti, WakeupEndsAWait) {
  LoopbackServer server;
  HttpMulti m;
  m.submit(req(1, server.url("/slow?ms=3000")));
  m.poll(0);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    m.wakeup();
  });
  const auto start = Clock::now();
  m.poll(2500);
  const double waited = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  t.join();
  EXPECT_LT(waited, 1000.0);
  m.abort_all();
}

// The worker's way: wait on wait_fd() (beside its latch) for at most timeout_ms(), then poll(0).
std::vector<Result> run_external_wait(HttpMulti& m, std::size_t n, int* waits, double* longest_ms) {
  std::vector<Result> out;
  const auto end = Clock::now() + std::chrono::seconds(20);
  while (out.size() < n && Clock::now() < end) {
    pollfd p{m.wait_fd(), POLLIN, 0};
    const long t = m.timeout_ms();
    const auto before = Clock::now();
    ::poll(&p, 1, t < 0 ? 5000 : static_cast<int>(t));
    *longest_ms = std::max(*longest_ms, std::chrono::duration<double, std::milli>(Clock::now() - before).count());
    ++*waits;
    for (auto& r : m.poll(0)) out.push_back(std::move(r));
  }
  return out;
}

TEST(HttpMulti, ExternalWaitOnWaitFd) {
  LoopbackServer server;
  HttpMulti m;
  for (int i = 0; i < 50; ++i) m.submit(req(i, server.url("/ok"), "{}"));
  EXPECT_EQ(m.timeout_ms(), 0);  // new transfers: poll(0) must run now
  int waits = 0;
  double longest = 0;
  const auto out = run_external_wait(m, 50, &waits, &longest);
  ASSERT_EQ(out.size(), 50u);
  for (const auto& r : out) EXPECT_EQ(r.http_status, 202);
  EXPECT_LT(longest, 1000.0);  // never stuck on a quiet descriptor
  EXPECT_EQ(m.timeout_ms(), -1);

  // A timeout is noticed through timeout_ms(), with no socket activity at all.
  Request slow = req(99, server.url("/slow?ms=3000"));
  slow.timeout_ms = 200;
  m.submit(slow);
  const auto start = Clock::now();
  waits = 0;
  const auto timed_out = run_external_wait(m, 1, &waits, &longest);
  ASSERT_EQ(timed_out.size(), 1u);
  EXPECT_EQ(timed_out[0].curl_code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_LT((std::chrono::duration<double, std::milli>(Clock::now() - start).count()), 1000.0);
}

TEST(HttpMulti, WakeupMakesWaitFdReadable) {
  LoopbackServer server;
  HttpMulti m;
  m.submit(req(1, server.url("/slow?ms=3000")));
  m.poll(20);
  pollfd p{m.wait_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 100), 0);  // the server is quiet for 3 s
  m.wakeup();
  EXPECT_EQ(::poll(&p, 1, 100), 1);
  EXPECT_TRUE(m.poll(0).empty());
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // drained
  m.abort_all();
}

TEST(HttpMulti, PollWithNothingInFlightReturnsAtOnce) {
  HttpMulti m;
  const auto start = Clock::now();
  EXPECT_TRUE(m.poll(2000).empty());
  EXPECT_LT((std::chrono::duration<double, std::milli>(Clock::now() - start).count()), 100.0);
}

TEST(HttpMulti, RejectsUnsendableRequests) {
  HttpMulti m;
  EXPECT_THROW(m.submit(req(1, "ftp://127.0.0.1/x")), Error);
  EXPECT_THROW(m.submit(req(1, "")), Error);
  EXPECT_THROW(m.submit(req(1, "http://127.0.0.1/a b")), Error);
  Request h = req(1, "http://127.0.0.1/x");
  h.headers = {{"X-HIP-ID", "a\r\nInjected: yes"}};
  EXPECT_THROW(m.submit(h), Error);
  h.headers = {{"Bad:Name", "v"}};
  EXPECT_THROW(m.submit(h), Error);
  EXPECT_EQ(m.in_flight(), 0u);
  HttpMultiOptions o;
  o.max_total_connections = 0;
  EXPECT_THROW(HttpMulti{o}, Error);
}

TEST(HttpMulti, DescribeRedacts) {
  Request r = req(1, "https://gw.example/api/hiecm/gateway/v3/sessions", R"({"clientSecret":"s3cr3t"})");
  r.headers = {{"REQUEST-ID", "3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01"}, {"Authorization", "Bearer tok"}};
  EXPECT_NE(describe(r).find("s3cr3t"), std::string::npos);
  EXPECT_EQ(describe(r).find("Bearer"), std::string::npos);
  r.redact = true;
  EXPECT_EQ(describe(r), "POST https://gw.example/api/hiecm/gateway/v3/sessions "
                         "(REQUEST-ID 3f9c1a8e-2b7d-4c1e-9a0f-5d6b7c8e9f01) [body redacted]");
}

class HttpMultiTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cert_ = new testing::SelfSigned(testing::make_self_signed_cert());
    // One file per process: ctest runs the suite's tests as parallel processes, and a shared path
    // would be rewritten (and cut short) under a running server.
    ca_path_ = ::testing::TempDir() + "abdm_net_test_ca_" + std::to_string(getpid()) + ".pem";
    std::ofstream(ca_path_) << cert_->cert_pem;
  }
  static void TearDownTestSuite() {
    std::remove(ca_path_.c_str());
    delete cert_;
  }
  static testing::SelfSigned* cert_;
  static std::string ca_path_;
};
testing::SelfSigned* HttpMultiTls::cert_ = nullptr;
std::string HttpMultiTls::ca_path_;

TEST_F(HttpMultiTls, VerificationIsOnByDefault) {
  LoopbackServer server({cert_, true, true});
  HttpMulti m;
  const Result res = run_one(m, req(1, server.url("/ok")));
  EXPECT_EQ(res.curl_code, CURLE_PEER_FAILED_VERIFICATION) << res.curl_error;
  EXPECT_EQ(res.http_status, 0);
  EXPECT_EQ(server.requests_served(), 0);  // nothing reached the server
}

TEST_F(HttpMultiTls, TrustedWithTheConfiguredCaFile) {
  LoopbackServer server({cert_, true, true});
  HttpMulti m;
  Request r = req(1, server.url("/echo"), "{\"x\":1}");
  r.ca_file = ca_path_;
  const Result res = run_one(m, r);
  EXPECT_TRUE(res.transport_ok()) << res.curl_error;
  EXPECT_EQ(res.http_status, 200);
  EXPECT_EQ(res.body, "{\"x\":1}");
  // HTTP/2 is asked for (CURL_HTTP_VERSION_2TLS); this server offers only HTTP/1.1 in ALPN,
  // so the engine must fall back to it.
  EXPECT_EQ(res.http_version, CURL_HTTP_VERSION_1_1);
  // Kept alive over TLS too.
  Request again = req(2, server.url("/ok"));
  again.ca_file = ca_path_;
  const Result second = run_one(m, again);
  EXPECT_EQ(second.http_status, 202);
  EXPECT_EQ(second.new_connections, 0);
}

TEST_F(HttpMultiTls, VerificationCanBeTurnedOffExplicitly) {
  LoopbackServer server({cert_, true, true});
  HttpMulti m;
  Request r = req(1, server.url("/ok"));
  r.verify_tls = false;
  EXPECT_EQ(run_one(m, r).http_status, 202);
}

// HTTP/2: libmicrohttpd speaks only HTTP/1.1, so this test runs nghttpd (Debian nghttp2-server)
// as a child process when it is installed, and is skipped otherwise.
TEST_F(HttpMultiTls, Http2MultiplexesOverOneConnection) {
  const char* nghttpd = "/usr/sbin/nghttpd";
  if (access(nghttpd, X_OK) != 0) GTEST_SKIP() << "nghttpd (Debian nghttp2-server) not installed";
  const std::string dir = ::testing::TempDir() + "abdm_net_h2_" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  std::ofstream(dir + "/ok") << "{}";
  std::ofstream(dir + "/key.pem") << cert_->key_pem;
  const std::string key = dir + "/key.pem";
  // Start nghttpd on a free port. Another test's server may take the port between the probe and
  // nghttpd's bind (ctest runs tests in parallel), so a server that exits or never listens is
  // replaced on a new port, a few times.
  std::string port;
  pid_t child = 0;
  bool listening = false;
  for (int attempt = 0; attempt < 5 && !listening; ++attempt) {
    port = std::to_string(unused_port());
    std::vector<std::string> args = {nghttpd, "-a", "127.0.0.1", "-d", dir, port, key, ca_path_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&child, nghttpd, nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 500 && !listening; ++i) {  // up to 5 s
      if (waitpid(child, nullptr, WNOHANG) == child) {  // exited: the port was taken
        child = 0;
        break;
      }
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      listening = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(fd);
      if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!listening && child != 0) {
      kill(child, SIGTERM);
      waitpid(child, nullptr, 0);
      child = 0;
    }
  }
  if (!listening) FAIL() << "nghttpd did not start listening (5 attempts)";

  HttpMulti m;  // defaults: HTTP/2 over TLS and PIPEWAIT
  for (int i = 0; i < 100; ++i) {
    Request r = req(i, "https://127.0.0.1:" + port + "/ok", R"({"n":1})");
    r.ca_file = ca_path_;
    m.submit(std::move(r));
  }
  const auto out = run(m, 100);
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  std::remove((dir + "/ok").c_str());
  std::remove(key.c_str());
  rmdir(dir.c_str());

  ASSERT_EQ(out.size(), 100u);
  for (const auto& r : out) {
    EXPECT_EQ(r.http_status, 200) << r.curl_error;
    EXPECT_EQ(r.http_version, CURL_HTTP_VERSION_2_0);
    EXPECT_EQ(r.body, "{}");
  }
  EXPECT_EQ(m.total_new_connections(), 1);  // 100 streams multiplexed on one TLS connection
}

}  // namespace
}  // namespace abdm::net
