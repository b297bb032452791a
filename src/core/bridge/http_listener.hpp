// The bridge's HTTP/1.1 server: libmicrohttpd driven from the caller's own event loop, so that a
// PostgreSQL background worker can serve the gateway from its main thread (no thread of ours or
// the library's ever calls PostgreSQL).
//
// Shape: libmicrohttpd in "external select" mode with epoll. The caller waits on wait_fd() (one
// epoll descriptor holding the listening socket and every connection) beside its latch, for at
// most timeout_ms(), then calls run(). run() accepts, reads, and calls the handler once per
// complete request, synchronously, with the whole body; the handler's reply is queued at once.
//
// Bounds, all from ListenerConfig: connections (beyond the limit new ones are refused at accept),
// memory per connection (the request line and headers must fit: libmicrohttpd answers 431
// otherwise), header count and body size (request_rules), idle keep-alive time (libmicrohttpd),
// and the whole time a request may take from its first byte to its last (our own deadline: a
// connection that trickles one byte at a time resets an idle timer forever, so slowloris is
// stopped by a deadline per request, enforced by shutting the socket down, which libmicrohttpd
// then sees as a closed connection and cleans up).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bridge/request_rules.hpp"

namespace abdm::bridge {

struct ListenerConfig {
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6, "*" (every IPv4 address) or "localhost"
  int port = 0;                       // 0: a free port (tests); port() tells which
  bool reuse_port = false;            // SO_REUSEPORT: several workers share the port
  unsigned max_connections = 1000;
  std::size_t max_header_bytes = 16 * 1024;  // per connection: request line + headers
  std::chrono::seconds idle_timeout{15};     // a kept-alive connection with nothing to do
  std::chrono::milliseconds request_timeout{30000};  // first byte to last of one request
  RequestLimits limits;
};

struct HttpRequest {
  std::string method;
  std::string path;  // without the query string
  std::string version;
  std::vector<HttpHeader> headers;
  std::string body;
  const std::string* header(std::string_view name) const noexcept {
    const HttpHeader* h = find_header(headers, name);
    return h ? &h->value : nullptr;
  }
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON text (Content-Type: application/json), may be empty
  std::vector<HttpHeader> headers;
  bool close = false;  // Connection: close
};

struct ListenerCounters {
  std::uint64_t requests = 0;          // handed to the handler
  std::uint64_t refused = 0;           // answered by request_rules (framing, size, method)
  std::uint64_t deadline_closed = 0;   // shut down by the per-request deadline
  std::uint64_t handler_failures = 0;  // the handler threw (answered 500)
  std::size_t open_connections = 0;
};

class HttpListener {
 public:
  // Must not throw; if it does, the client gets 500 and the failure is counted.
  using Handler = std::function<HttpReply(HttpRequest&)>;
  // For the library's own complaints (malformed requests, accept failures). Called from run().
  using Logger = std::function<void(const std::string&)>;

  // Binds and listens. Throws abdm::Error naming the address when it cannot (port in use, bad
  // address, not allowed).
  HttpListener(ListenerConfig config, Handler handler, Logger logger = {});
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Readable whenever run() has something to do.
  int wait_fd() const noexcept;
  // How long the caller may wait before run() must be called anyway (timeouts, deadlines,
  // connections with data already read); at most max_ms.
  long timeout_ms(long max_ms) const noexcept;
  // Does all that can be done now, calling the handler for each complete request.
  void run();

  int port() const noexcept;
  // Stops accepting (closes the listening socket) while the open connections are served on;
  // for handing the port to another process without cutting a request off.
  void stop_accepting() noexcept;
  std::size_t open_connections() const noexcept;
  // Limits that may change on a configuration reload (the rest needs a new listener).
  void set_limits(const RequestLimits& limits, std::chrono::milliseconds request_timeout) noexcept;
  ListenerCounters counters() const noexcept;

  struct Impl;  // public only so libmicrohttpd's C callbacks can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace abdm::bridge
