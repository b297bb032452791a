// A non-blocking HTTP client engine for a single-threaded caller: one libcurl multi handle that
// carries many requests at once over kept-alive (HTTP/2 where the server offers it) connections.
//
// Why this shape: a PostgreSQL background worker may call PostgreSQL only from its main thread, so
// the engine starts no threads of its own and is driven from the worker's loop — submit() queues,
// poll() makes progress for at most `max_wait_ms` and hands back what finished. Internally it is
// libcurl's event-driven interface (curl_multi_socket_action) over one epoll set, so the cost of a
// poll() is proportional to the sockets that are ready, not to the transfers in flight, and a
// caller can wait on that set and its own latch at once (wait_fd()). libcurl's threaded
// resolver is the only thread involved and it calls nothing of ours. Every handle gets
// CURLOPT_NOSIGNAL so libcurl never touches signal handlers (PostgreSQL owns them).
//
// One HttpMulti per process; it owns process-local resources (sockets, the connection cache) and
// must never be placed in shared memory. Not thread-safe: use it from one thread.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace abdm::net {

// One HTTP header; order is kept as given.
struct Header {
  std::string name;
  std::string value;
};
using Headers = std::vector<Header>;

enum class Method { kGet, kPost, kPut, kPatch, kDelete };

const char* method_name(Method m) noexcept;
// The method of that name ("PATCH"), or nullopt for one we do not send.
std::optional<Method> method_from_name(std::string_view name) noexcept;

struct Request {
  std::int64_t id = 0;              // the caller's key (e.g. the outbox row id), echoed in Result
  Method method = Method::kPost;
  std::string url;                  // http:// or https:// only
  Headers headers;
  std::string body;
  // Alternatively the body is streamed from this file (body_file_size bytes), so a large upload —
  // a HIU data push — never sits in memory. Used when non-empty; `body` must then be empty.
  std::string body_file;
  std::uint64_t body_file_size = 0;
  long timeout_ms = 30000;          // whole transfer, connect included
  long connect_timeout_ms = 10000;
  std::string ca_file;              // PEM CA bundle; empty = the system's default store
  bool verify_tls = true;           // peer and host name verification; on unless said otherwise
  // The body (and the response body) hold secrets — the gateway session call carries the client
  // secret and returns a bearer token. A redacted request's bodies never appear in describe(),
  // error texts or failure reasons, and its request body is wiped from memory once sent.
  bool redact = false;
};

struct Result {
  std::int64_t id = 0;
  long http_status = 0;             // 0 when no HTTP response arrived
  std::string body;                 // response body (at most HttpMultiOptions::max_response_bytes)
  Headers headers;                  // the few response headers worth keeping (Retry-After, Content-Type)
  int curl_code = 0;                // CURLcode; 0 = the transfer completed
  std::string curl_error;           // libcurl's message, "" on success; never contains a body
  double elapsed_ms = 0;            // submit() to completion, queueing included
  long new_connections = 0;         // CURLINFO_NUM_CONNECTS: 0 when a kept-alive connection was reused
  long http_version = 0;            // CURLINFO_HTTP_VERSION (CURL_HTTP_VERSION_1_1, _2_0, ...)
  bool too_large = false;           // the response exceeded max_response_bytes and was cut off
  bool aborted = false;             // should_abort() said stop
  bool redact = false;              // copied from the Request

  bool transport_ok() const noexcept { return curl_code == 0; }
  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const noexcept;
};

struct HttpMultiOptions {
  long max_total_connections = 64;  // CURLMOPT_MAX_TOTAL_CONNECTIONS (transfers beyond it queue)
  long max_host_connections = 64;   // CURLMOPT_MAX_HOST_CONNECTIONS
  long max_connects_cached = 64;    // CURLMOPT_MAXCONNECTS: idle kept-alive connections kept
  std::size_t max_response_bytes = 1 << 20;
  bool http2 = true;                // CURL_HTTP_VERSION_2TLS: h2 over TLS when ALPN offers it
  // CURLOPT_PIPEWAIT: a new transfer to a host whose first connection is still being set up waits
  // to learn whether it can multiplex (h2) instead of opening a connection of its own.
  bool pipewait = true;
  // Checked from libcurl's progress callback (and at every poll()): returning true aborts every
  // transfer in flight with aborted = true. A SQL backend passes a check of its cancel/die flags.
  std::function<bool()> should_abort;
};

class HttpMulti {
 public:
  explicit HttpMulti(HttpMultiOptions options = {});
  ~HttpMulti();
  HttpMulti(const HttpMulti&) = delete;
  HttpMulti& operator=(const HttpMulti&) = delete;

  // Queues a request and returns at once; nothing is sent before the next poll(). Throws
  // abdm::Error for a request that can never be sent (empty or non-http(s) URL, a header name or
  // value with CR/LF, negative timeouts) — such a request is not queued.
  void submit(Request request);

  // Drives every transfer: waits up to max_wait_ms (0 = don't wait) for network activity and
  // returns as soon as at least one transfer finished, or the time is up, or wakeup() was called.
  // Returns at once when nothing is in flight. Never throws for a network failure — that is a
  // Result with curl_code != 0.
  std::vector<Result> poll(int max_wait_ms);

  // To wait somewhere else (a PostgreSQL WaitEventSet / WaitLatchOrSocket beside the latch):
  // wait_fd() is readable whenever poll(0) has work to do (it is an epoll descriptor holding every
  // socket libcurl watches); timeout_ms() is how long that wait may last before poll(0) must run
  // anyway (libcurl's timers: connect and transfer timeouts, retries); -1 = no limit. Recompute
  // timeout_ms() after every submit() and poll().
  int wait_fd() const noexcept;
  long timeout_ms() const noexcept;

  // Makes a waiting poll() return now (and wait_fd() readable). Async-signal-safe and thread-safe:
  // one write() to an eventfd.
  void wakeup() noexcept;

  // Aborts every transfer in flight; they come back from the next poll() with aborted = true.
  void abort_all() noexcept;

  std::size_t in_flight() const noexcept;          // submitted and not yet returned by poll()
  long total_new_connections() const noexcept;     // connections opened so far, all transfers

  struct Impl;  // opaque; public only so libcurl's C callbacks can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

// One line for logs: "POST https://host/path (REQUEST-ID …)" plus the body (cut to max_body_chars)
// unless redacted. No other header is printed, so bearer and link tokens never reach a log.
std::string describe(const Request& request, std::size_t max_body_chars = 200);

}  // namespace abdm::net
