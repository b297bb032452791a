// The bridge listener end to end (core/bridge/http_listener): libmicrohttpd's HTTP/1.1 parser
// and our callbacks around it (head checks before the body, body size while it arrives, the
// handler once per complete request). Each input is written as it is to a fresh loopback
// connection; the listener runs in this process, driven as worker_bridge drives it.
// Asserts: whatever arrives, every answer is an HTTP/1.x status line; the handler only ever sees
// a POST whose head passes check_request_head and whose body is within the limit; no crash, leak
// or overflow in our callbacks (ASan) for any byte sequence.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/bridge/http_listener.hpp"
#include "fuzz_support.hpp"

using namespace abdm::bridge;

namespace {

RequestLimits limits() {
  RequestLimits l;
  l.max_body = 4096;  // small, so the fuzzer meets the limit
  l.max_headers = 32;
  return l;
}

HttpListener& listener() {
  static HttpListener* l = [] {
    ListenerConfig c;
    c.port = 0;
    c.limits = limits();
    c.request_timeout = std::chrono::milliseconds(2000);
    return new HttpListener(
        c,
        [](HttpRequest& req) {
          FUZZ_ASSERT(req.method == "POST", "the handler only sees POST");
          FUZZ_ASSERT(req.body.size() <= limits().max_body, "the handler only sees bodies within the limit");
          FUZZ_ASSERT(!check_request_head(req.method, req.headers, limits()), "the handler only sees heads that pass");
          return HttpReply{202, R"({"ok":true})", {}, false};
        },
        [](const std::string&) {});
  }();
  return *l;
}

// A connection to the listener, made without blocking: a blocking connect() can be cut short by
// libFuzzer's SIGALRM (its handler has no SA_RESTART), a loaded machine can delay the loopback
// handshake, and a test run beside this one can hold every ephemeral port for a moment
// (EADDRNOTAVAIL). The listener is driven meanwhile, so a full accept queue drains. A connection
// not made in 2 s, or any other error (the listener refusing, say), breaks the run, naming errno.
[[noreturn]] void fail_with(const char* step, int err) {
  abdm::fuzz::fail(std::string("connect to the listener: ") + step + ": " + std::strerror(err));
}

int connect_to(HttpListener& l) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(l.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int last = ETIMEDOUT;
  while (std::chrono::steady_clock::now() < give_up) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) fail_with("socket", errno);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    if (errno == EADDRNOTAVAIL || errno == EAGAIN) {  // no local port free just now
      last = errno;
      ::close(fd);
      l.run();
      ::poll(nullptr, 0, 10);
      continue;
    }
    if (errno != EINPROGRESS && errno != EINTR) fail_with("connect", errno);
    while (std::chrono::steady_clock::now() < give_up) {
      pollfd p[2] = {{fd, POLLOUT, 0}, {l.wait_fd(), POLLIN, 0}};
      ::poll(p, 2, 10);  // EINTR: look again
      l.run();
      if (p[0].revents == 0) continue;
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) fail_with("handshake", err);
      return fd;
    }
    ::close(fd);
  }
  fail_with("not connected within 2 s, last error", last);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  HttpListener& l = listener();
  const int fd = connect_to(l);
  size_t sent = 0;
  std::string reply;
  int quiet = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < give_up) {
    if (sent < size) {
      const ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;  // the listener closed on us
    }
    pollfd p[2] = {{l.wait_fd(), POLLIN, 0}, {fd, POLLIN, 0}};
    ::poll(p, 2, 1);
    l.run();
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      reply.append(buf, static_cast<size_t>(n));
      quiet = 0;
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      break;  // closed by the listener
    } else if (sent == size && ++quiet > (reply.empty() ? 6 : 2)) {
      break;  // all written, nothing more coming: an incomplete request waits for its deadline
    }
  }
  ::close(fd);
  l.run();  // lets the listener see the close
  if (!reply.empty()) {
    FUZZ_ASSERT(reply.size() >= 12 && reply.compare(0, 7, "HTTP/1.") == 0 && reply[8] == ' ' &&
                    std::isdigit(static_cast<unsigned char>(reply[9])) && std::isdigit(static_cast<unsigned char>(reply[10])) &&
                    std::isdigit(static_cast<unsigned char>(reply[11])),
                "an answer starts with an HTTP/1.x status line: " + reply.substr(0, 40));
  }
  return 0;
}
