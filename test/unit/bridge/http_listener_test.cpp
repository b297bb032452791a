// The listener against real loopback sockets: a server thread runs the listener's loop (as the
// bridge worker's main thread does), the test speaks raw HTTP so it can send what no client
// library would.
#include "core/bridge/http_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <thread>

#include "core/util/error.hpp"

namespace abdm::bridge {
namespace {

using namespace std::chrono_literals;

class Server {
 public:
  explicit Server(ListenerConfig config = {}) {
    config.port = 0;
    listener_ = std::make_unique<HttpListener>(config, [this](HttpRequest& r) {
      ++calls;
      last_body = r.body;
      last_path = r.path;
      return HttpReply{202, "", {{"X-Seen", std::to_string(calls.load())}}, false};
    }, [](const std::string& line) { std::fprintf(stderr, "listener: %s\n", line.c_str()); });
    port = listener_->port();
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listener_->wait_fd(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(listener_->timeout_ms(50)));
        listener_->run();
      }
    });
  }
  ~Server() {
    stop_ = true;
    thread_.join();
  }
  ListenerCounters counters() {
    stop_ = true;
    thread_.join();
    auto c = listener_->counters();
    stop_ = false;
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{listener_->wait_fd(), POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(listener_->timeout_ms(50)));
        listener_->run();
      }
    });
    return c;
  }
  int port = 0;
  std::atomic<int> calls{0};
  std::string last_body, last_path;

 private:
  std::unique_ptr<HttpListener> listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early; that is what some tests expect
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Everything the server sends until it closes the connection or `quiet` passes with no data.
std::string read_until_closed(int fd, std::chrono::milliseconds quiet = 2000ms, bool* closed = nullptr) {
  std::string out;
  char buf[4096];
  if (closed) *closed = false;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) return out;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string post(std::string_view body, std::string_view extra = "") {
  return "POST /api/v3/hip/x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

int count(std::string_view hay, std::string_view needle) {
  int n = 0;
  for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

TEST(HttpListener, HandsAWholeRequestToTheHandler) {
  Server s;
  int fd = connect_to(s.port);
  send_all(fd, post(R"({"a":1})"));
  std::string r = read_until_closed(fd, 500ms);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 202", 0), 0u) << r;
  EXPECT_EQ(s.calls, 1);
  EXPECT_EQ(s.last_body, R"({"a":1})");
  EXPECT_EQ(s.last_path, "/api/v3/hip/x");
}

TEST(HttpListener, KeepAliveServesSeveralRequests) {
  Server s;
  int fd = connect_to(s.port);
  send_all(fd, post("{}") + post("[]"));  // pipelined
  std::string r = read_until_closed(fd, 500ms);
  ::close(fd);
  EXPECT_EQ(count(r, "HTTP/1.1 202"), 2) << r;
  EXPECT_EQ(s.calls, 2);
}

TEST(HttpListener, SmuggledRequestNeverReachesTheHandler) {
  Server s;
  // CL+TE: a front end that honours Content-Length sees one request; one that honours chunked
  // sees a second (the "GET /smuggled"). We answer 400 and close before either body is read.
  const std::string smuggle =
      "POST /api/v3/hip/x HTTP/1.1\r\nHost: h\r\nContent-Length: 35\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nPOST /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
  int fd = connect_to(s.port);
  send_all(fd, smuggle);
  bool closed = false;
  std::string r = read_until_closed(fd, 2000ms, &closed);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  EXPECT_TRUE(closed);
  EXPECT_EQ(count(r, "HTTP/1.1"), 1) << r;
  EXPECT_EQ(s.calls, 0);

  fd = connect_to(s.port);
  send_all(fd, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}"
               "POST /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
  r = read_until_closed(fd, 2000ms, &closed);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  EXPECT_TRUE(closed);
  EXPECT_EQ(s.calls, 0);
}

TEST(HttpListener, DeclaredHugeBodyIsRefusedWithoutReadingIt) {
  ListenerConfig c;
  c.limits.max_body = 1 << 20;
  Server s(c);
  int fd = connect_to(s.port);
  send_all(fd, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 104857600\r\n\r\n");
  bool closed = false;
  std::string r = read_until_closed(fd, 2000ms, &closed);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
  EXPECT_TRUE(closed);
  EXPECT_EQ(s.calls, 0);
}

TEST(HttpListener, ChunkedBodyPastTheLimitIsCut) {
  ListenerConfig c;
  c.limits.max_body = 1000;
  Server s(c);
  int fd = connect_to(s.port);
  std::string chunk(600, 'x');
  send_all(fd, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk + "\r\n258\r\n" +
                   chunk + "\r\n0\r\n\r\n");
  bool closed = false;
  std::string r = read_until_closed(fd, 2000ms, &closed);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r << " closed " << closed;
  EXPECT_EQ(s.calls, 0);
}

TEST(HttpListener, EndlessChunkedBodyIsCutOff) {
  ListenerConfig c;
  c.limits.max_body = 64 * 1024;
  Server s(c);
  int fd = connect_to(s.port);
  send_all(fd, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk(16 * 1024, 'x');
  const std::string frame = "4000\r\n" + chunk + "\r\n";
  std::size_t sent = 0;
  bool cut = false;
  while (sent < (64u << 20) && !cut) {
    ssize_t n = ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      cut = (p.revents & (POLLERR | POLLHUP)) != 0;
    } else {
      cut = true;
    }
  }
  ::close(fd);
  EXPECT_TRUE(cut) << sent << " bytes sent and the connection still open";
  EXPECT_LT(sent, 32u << 20);  // the limit twice, and what the kernel's buffers took
  EXPECT_EQ(s.calls, 0);
}

TEST(HttpListener, TooManyHeadersAndTooLargeHeadersAreRefused) {
  ListenerConfig c;
  c.limits.max_headers = 20;
  c.max_header_bytes = 8 * 1024;
  Server s(c);
  std::string many = "POST /a HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 30; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  int fd = connect_to(s.port);
  send_all(fd, many + "Content-Length: 0\r\n\r\n");
  std::string r = read_until_closed(fd, 2000ms);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r;

  std::string huge = "POST /a HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 10000; ++i) huge += "X-" + std::to_string(i) + ": v\r\n";
  fd = connect_to(s.port);
  send_all(fd, huge + "\r\n");
  bool closed = false;
  r = read_until_closed(fd, 2000ms, &closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(r.rfind("HTTP/1.1 4", 0), 0u) << r.substr(0, 100);
  EXPECT_EQ(s.calls, 0);
}

TEST(HttpListener, TricklingConnectionIsShutAtTheRequestDeadline) {
  ListenerConfig c;
  c.request_timeout = 400ms;
  c.idle_timeout = 30s;  // the idle timer alone would never fire: every byte resets it
  Server s(c);
  int slow = connect_to(s.port);
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  const std::string head = "POST /a HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 0; i < head.size() && !closed; ++i) {
    send_all(slow, head.substr(i, 1));
    pollfd p{slow, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char b;
      closed = ::recv(slow, &b, 1, 0) <= 0;
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(slow);
  EXPECT_TRUE(closed);
  EXPECT_LT(took, 2500ms);
  EXPECT_EQ(s.counters().deadline_closed, 1u);
}

TEST(HttpListener, MalformedRequestsLeaveTheListenerServing) {
  Server s;
  for (std::string junk : {std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n"), std::string("\r\n\r\n"),
                           std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), std::string("POST /a\r\n\r\n"),
                           std::string("POST /a HTTP/1.1\r\nHost h\r\n\r\n"),
                           std::string("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
                           std::string("POST /a HTTP/9.9\r\nHost: h\r\n\r\n"), std::string("POST /a HTTP/1.1\r\n\r\n")}) {
    int fd = connect_to(s.port);
    send_all(fd, junk);
    ::shutdown(fd, SHUT_WR);
    std::string r = read_until_closed(fd, 1000ms);
    ::close(fd);
    EXPECT_TRUE(r.empty() || r.rfind("HTTP/1.1 4", 0) == 0 || r.rfind("HTTP/1.1 5", 0) == 0)
        << junk << " → " << r.substr(0, 80);
  }
  int fd = connect_to(s.port);
  send_all(fd, post("{}"));
  std::string r = read_until_closed(fd, 500ms);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 202", 0), 0u) << r;
}

TEST(HttpListener, ConnectionLimitRefusesNewConnectionsOnly) {
  ListenerConfig c;
  c.max_connections = 5;
  Server s(c);
  std::vector<int> held;
  for (int i = 0; i < 5; ++i) held.push_back(connect_to(s.port));
  std::this_thread::sleep_for(200ms);
  // Past the limit a connection waits in the kernel's queue, unserved, until a slot is free.
  int extra = connect_to(s.port);
  send_all(extra, post("{}"));
  EXPECT_EQ(read_until_closed(extra, 500ms), "");
  send_all(held[0], post("{}"));
  std::string r = read_until_closed(held[0], 500ms);
  EXPECT_EQ(r.rfind("HTTP/1.1 202", 0), 0u) << r;
  for (int fd : held) ::close(fd);
  r = read_until_closed(extra, 1000ms);
  ::close(extra);
  EXPECT_EQ(r.rfind("HTTP/1.1 202", 0), 0u) << r;
}

TEST(HttpListener, StopAcceptingServesTheOpenConnectionsOnly) {
  ListenerConfig c;
  c.port = 0;
  HttpListener l(c, [](HttpRequest&) { return HttpReply{202, "", {}, false}; });
  const int port = l.port();
  int open = connect_to(port);
  for (int i = 0; i < 5; ++i) l.run();  // accepted
  EXPECT_EQ(l.open_connections(), 1u);
  l.stop_accepting();
  EXPECT_EQ(l.port(), port);
  // A new connection is refused by the kernel: nobody listens any more.
  int fresh = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::connect(fresh, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::close(fresh);
  // The open one is still answered.
  send_all(open, post("{}"));
  std::string r;
  for (int i = 0; i < 50 && r.empty(); ++i) {
    pollfd p{l.wait_fd(), POLLIN, 0};
    ::poll(&p, 1, 20);
    l.run();
    pollfd q{open, POLLIN, 0};
    if (::poll(&q, 1, 0) > 0) r = read_until_closed(open, 100ms);
  }
  ::close(open);
  EXPECT_EQ(r.rfind("HTTP/1.1 202", 0), 0u) << r;
}

TEST(HttpListener, BadAddressIsAnErrorNamingTheSetting) {
  ListenerConfig c;
  c.address = "not-an-address";
  try {
    HttpListener l(c, [](HttpRequest&) { return HttpReply{}; });
    FAIL() << "no error";
  } catch (const abdm::Error& e) {
    EXPECT_EQ(e.field(), "abdm_hip.listen_address");
  }
}

TEST(HttpListener, PortInUseIsAnErrorUnlessShared) {
  ListenerConfig c;
  c.reuse_port = false;
  HttpListener a(c, [](HttpRequest&) { return HttpReply{}; });
  c.port = a.port();
  EXPECT_THROW(HttpListener(c, [](HttpRequest&) { return HttpReply{}; }), abdm::Error);
  ListenerConfig shared;
  shared.reuse_port = true;
  HttpListener b(shared, [](HttpRequest&) { return HttpReply{}; });
  shared.port = b.port();
  EXPECT_NO_THROW(HttpListener(shared, [](HttpRequest&) { return HttpReply{}; }));
}

}  // namespace
}  // namespace abdm::bridge
