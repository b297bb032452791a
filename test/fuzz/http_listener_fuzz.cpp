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

#include <chrono>
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

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) abdm::fuzz::fail("connect to the listener");
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  HttpListener& l = listener();
  const int fd = connect_to(l.port());
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
