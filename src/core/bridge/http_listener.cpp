#include "core/bridge/http_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <optional>
#include <unordered_map>

#include "core/util/error.hpp"

namespace abdm::bridge {

using Clock = std::chrono::steady_clock;

namespace {

// One request in progress on a connection (libmicrohttpd's per-request pointer).
struct RequestState {
  HttpRequest request;
  bool answered = false;  // a reply is queued; further body bytes are dropped
  // Refused while its body was arriving: libmicrohttpd queues no reply in the middle of a body,
  // so the rest is read and dropped and this is the reply at its end; but only up to another
  // max_body bytes: a body that goes on beyond that is cut off by closing the connection.
  std::optional<Refusal> refused_mid_body;
  std::size_t dropped = 0;
};

// One open connection: its socket and when its current request must be complete.
struct ConnectionState {
  int fd = -1;
  Clock::time_point deadline;
  bool shut = false;
};

}  // namespace

struct HttpListener::Impl {
  ListenerConfig config;
  Handler handler;
  Logger logger;
  MHD_Daemon* daemon = nullptr;
  std::unordered_map<MHD_Connection*, ConnectionState> connections;
  Clock::time_point next_deadline = Clock::time_point::max();
  ListenerCounters counters;
  bool quiesced = false;
  int port = 0;  // remembered when the listening socket is given up

  static MHD_Result on_access(void* cls, MHD_Connection* c, const char* url, const char* method,
                              const char* version, const char* upload_data, size_t* upload_data_size,
                              void** req_cls) noexcept;
  static void on_completed(void* cls, MHD_Connection* c, void** req_cls,
                           MHD_RequestTerminationCode) noexcept;
  static void on_connection(void* cls, MHD_Connection* c, void** socket_context,
                            MHD_ConnectionNotificationCode code) noexcept;
  static void on_log(void* cls, const char* fmt, va_list ap) noexcept;

  MHD_Result access(MHD_Connection* c, const char* url, const char* method, const char* version,
                    const char* upload_data, size_t* upload_data_size, void** req_cls);
  bool queue(MHD_Connection* c, const HttpReply& reply);
  void sweep_deadlines();
};

namespace {

// With their lengths, so that a NUL inside a value is seen (and refused) rather than cut off.
MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, size_t key_size, const char* value,
                          size_t value_size) noexcept {
  try {
    static_cast<std::vector<HttpHeader>*>(cls)->push_back(
        {key ? std::string(key, key_size) : std::string(), value ? std::string(value, value_size) : std::string()});
  } catch (...) {
    return MHD_NO;
  }
  return MHD_YES;
}

HttpReply refusal_reply(const Refusal& r) {
  HttpReply reply;
  reply.status = r.status;
  reply.body = error_body(r.message);
  reply.close = r.close;
  return reply;
}

}  // namespace

bool HttpListener::Impl::queue(MHD_Connection* c, const HttpReply& reply) {
  MHD_Response* response = MHD_create_response_from_buffer(
      reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return false;
  if (!reply.body.empty()) MHD_add_response_header(response, "Content-Type", "application/json");
  for (const HttpHeader& h : reply.headers) MHD_add_response_header(response, h.name.c_str(), h.value.c_str());
  if (reply.close) MHD_add_response_header(response, "Connection", "close");
  const MHD_Result queued = MHD_queue_response(c, static_cast<unsigned>(reply.status), response);
  MHD_destroy_response(response);
  return queued == MHD_YES;
}

MHD_Result HttpListener::Impl::access(MHD_Connection* c, const char* url, const char* method,
                                      const char* version, const char* upload_data,
                                      size_t* upload_data_size, void** req_cls) {
  auto* state = static_cast<RequestState*>(*req_cls);
  if (state == nullptr) {
    // The head is complete: check its framing before any body byte is read.
    auto owned = std::make_unique<RequestState>();
    HttpRequest& req = owned->request;
    req.method = method ? method : "";
    req.path = url ? url : "";
    req.version = version ? version : "";
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &req.headers);
    *req_cls = state = owned.release();
    if (auto refusal = check_request_head(req.method, req.headers, config.limits)) {
      ++counters.refused;
      state->answered = true;
      return queue(c, refusal_reply(*refusal)) ? MHD_YES : MHD_NO;
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    const std::size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (state->answered) return MHD_YES;
    if (state->refused_mid_body) {
      state->dropped += n;
      return state->dropped > config.limits.max_body ? MHD_NO : MHD_YES;
    }
    if (auto refusal = check_body_size(state->request.body.size() + n, config.limits)) {
      ++counters.refused;
      state->refused_mid_body = std::move(refusal);
      std::string().swap(state->request.body);
      return MHD_YES;
    }
    state->request.body.append(upload_data, n);
    return MHD_YES;
  }
  if (state->answered) return MHD_YES;
  if (state->refused_mid_body) {
    state->answered = true;
    return queue(c, refusal_reply(*state->refused_mid_body)) ? MHD_YES : MHD_NO;
  }
  // The whole request is here.
  state->answered = true;
  ++counters.requests;
  HttpReply reply;
  try {
    reply = handler(state->request);
  } catch (...) {
    ++counters.handler_failures;
    reply = HttpReply{500, error_body("internal error at the HIP; the message may be re-delivered"), {}, false};
  }
  return queue(c, reply) ? MHD_YES : MHD_NO;
}

MHD_Result HttpListener::Impl::on_access(void* cls, MHD_Connection* c, const char* url, const char* method,
                                         const char* version, const char* upload_data,
                                         size_t* upload_data_size, void** req_cls) noexcept {
  try {
    return static_cast<Impl*>(cls)->access(c, url, method, version, upload_data, upload_data_size, req_cls);
  } catch (...) {
    return MHD_NO;  // closes the connection; nothing of ours is left half-done
  }
}

void HttpListener::Impl::on_completed(void* cls, MHD_Connection* c, void** req_cls,
                                      MHD_RequestTerminationCode) noexcept {
  delete static_cast<RequestState*>(*req_cls);
  *req_cls = nullptr;
  // The next request on a kept-alive connection gets a deadline of its own.
  auto* self = static_cast<Impl*>(cls);
  auto it = self->connections.find(c);
  if (it != self->connections.end() && !it->second.shut) {
    it->second.deadline = Clock::now() + self->config.request_timeout;
    self->next_deadline = std::min(self->next_deadline, it->second.deadline);
  }
}

void HttpListener::Impl::on_connection(void* cls, MHD_Connection* c, void**,
                                       MHD_ConnectionNotificationCode code) noexcept {
  auto* self = static_cast<Impl*>(cls);
  try {
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
      ConnectionState s;
      s.fd = info ? info->connect_fd : -1;
      s.deadline = Clock::now() + self->config.request_timeout;
      self->next_deadline = std::min(self->next_deadline, s.deadline);
      self->connections[c] = s;
    } else {
      self->connections.erase(c);
    }
  } catch (...) {
    // Out of memory for the map: the connection lives without a deadline (the idle timeout and
    // the connection limit still bound it).
  }
}

void HttpListener::Impl::on_log(void* cls, const char* fmt, va_list ap) noexcept {
  auto* self = static_cast<Impl*>(cls);
  if (!self->logger) return;
  try {
    char line[512];
    std::vsnprintf(line, sizeof line, fmt, ap);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    self->logger(text);
  } catch (...) {
  }
}

void HttpListener::Impl::sweep_deadlines() {
  const auto now = Clock::now();
  if (now < next_deadline) return;
  next_deadline = Clock::time_point::max();
  for (auto& [conn, s] : connections) {
    if (s.shut) continue;
    if (s.deadline <= now) {
      // shutdown(), not close(): the descriptor stays libmicrohttpd's, which now reads EOF and
      // closes it the usual way (no descriptor number is freed under it).
      if (s.fd >= 0) ::shutdown(s.fd, SHUT_RDWR);
      s.shut = true;
      ++counters.deadline_closed;
    } else {
      next_deadline = std::min(next_deadline, s.deadline);
    }
  }
}

HttpListener::HttpListener(ListenerConfig config, Handler handler, Logger logger)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.config = std::move(config);
  d.handler = std::move(handler);
  d.logger = std::move(logger);
  const std::string& address = d.config.address;
  const std::string where = "abdm_hip.listen_address";
  if (d.config.port < 0 || d.config.port > 65535) throw Error(sqlstate::kInvalidParameter, "abdm_hip.listen_port", "out of range");

  sockaddr_in v4{};
  sockaddr_in6 v6{};
  const sockaddr* addr = nullptr;
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
  const auto port = static_cast<uint16_t>(d.config.port);
  if (address == "*" || address == "0.0.0.0" || address == "localhost" ||
      inet_pton(AF_INET, address.c_str(), &v4.sin_addr) == 1) {
    if (address == "*" || address == "0.0.0.0") v4.sin_addr.s_addr = htonl(INADDR_ANY);
    if (address == "localhost") v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    addr = reinterpret_cast<const sockaddr*>(&v4);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    addr = reinterpret_cast<const sockaddr*>(&v6);
    flags |= MHD_USE_IPv6;
  } else {
    throw Error(sqlstate::kInvalidParameter, where,
                "'" + address + "' is not a numeric IPv4/IPv6 address, '*' or 'localhost'");
  }

  d.daemon = MHD_start_daemon(
      flags, port, nullptr, nullptr, &Impl::on_access, &d,
      MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_log, &d,  // first, or the library logs to stderr before it
      MHD_OPTION_SOCK_ADDR, addr,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, static_cast<unsigned>(d.config.reuse_port ? 1 : 0),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(d.config.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(d.config.idle_timeout.count()),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(d.config.max_header_bytes),
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      // Reject what two parsers could read differently: spaces in header names, HTTP/1.1 without Host.
      MHD_OPTION_STRICT_FOR_CLIENT, 1,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, &d,
      MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, &d,
      MHD_OPTION_END);
  if (d.daemon == nullptr)
    throw Error(sqlstate::kInvalidParameter, where,
                "cannot listen on " + address + ":" + std::to_string(d.config.port) + ": " + std::strerror(errno));
}

HttpListener::~HttpListener() {
  if (impl_ && impl_->daemon) MHD_stop_daemon(impl_->daemon);
}

int HttpListener::wait_fd() const noexcept {
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_EPOLL_FD);
  return info ? info->epoll_fd : -1;
}

long HttpListener::timeout_ms(long max_ms) const noexcept {
  long wait = max_ms;
  MHD_UNSIGNED_LONG_LONG t = 0;
  if (MHD_get_timeout(impl_->daemon, &t) == MHD_YES) wait = std::min<long>(wait, static_cast<long>(std::min<MHD_UNSIGNED_LONG_LONG>(t, max_ms)));
  if (impl_->next_deadline != Clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(impl_->next_deadline - Clock::now()).count();
    wait = std::min<long>(wait, std::max<long>(0, static_cast<long>(left) + 1));
  }
  return std::max<long>(0, wait);
}

void HttpListener::run() {
  MHD_run(impl_->daemon);
  impl_->sweep_deadlines();
}

void HttpListener::stop_accepting() noexcept {
  if (impl_->quiesced) return;
  const int port_before = port();
  const MHD_socket fd = MHD_quiesce_daemon(impl_->daemon);
  if (fd != MHD_INVALID_SOCKET) {
    // Connections the kernel has already accepted on this socket would be reset when it closes
    // (with SO_REUSEPORT each socket has its own queue): take them over first, so they are
    // answered like the open ones. The socket is then ours to close.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);  // an empty queue must not block us
    for (;;) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      const int c = ::accept4(fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) break;
      if (MHD_add_connection(impl_->daemon, c, reinterpret_cast<sockaddr*>(&peer), len) != MHD_YES) {
        // The library closes the socket itself when it refuses it.
      }
    }
    ::close(fd);
  }
  impl_->quiesced = true;
  impl_->port = port_before;
}

std::size_t HttpListener::open_connections() const noexcept { return impl_->connections.size(); }

int HttpListener::port() const noexcept {
  if (impl_->quiesced) return impl_->port;
  const MHD_DaemonInfo* info = MHD_get_daemon_info(impl_->daemon, MHD_DAEMON_INFO_BIND_PORT);
  return info ? info->port : impl_->config.port;
}

void HttpListener::set_limits(const RequestLimits& limits, std::chrono::milliseconds request_timeout) noexcept {
  impl_->config.limits = limits;
  impl_->config.request_timeout = request_timeout;
}

ListenerCounters HttpListener::counters() const noexcept {
  ListenerCounters c = impl_->counters;
  c.open_connections = impl_->connections.size();
  return c;
}

}  // namespace abdm::bridge
