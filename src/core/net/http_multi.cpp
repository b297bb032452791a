// libcurl multi engine; see http_multi.hpp for why it is shaped this way.
#include "core/util/text.hpp"
#include "core/net/http_multi.hpp"

#include <cstdio>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "core/util/error.hpp"

namespace abdm::net {
namespace {

using abdm::text::iequals;

using Clock = std::chrono::steady_clock;


bool has_crlf(std::string_view s) noexcept {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// Response headers a caller acts on: Retry-After (429/503 backoff) and Content-Type.
bool kept_response_header(std::string_view name) noexcept {
  return iequals(name, "retry-after") || iequals(name, "content-type");
}

void global_init_once() {
  // curl_global_init must run once per process before any other libcurl call.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

const char* method_name(Method m) noexcept {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kDelete: return "DELETE";
  }
  return "POST";
}

std::optional<Method> method_from_name(std::string_view name) noexcept {
  for (Method m : {Method::kGet, Method::kPost, Method::kPut, Method::kPatch, Method::kDelete})
    if (name == method_name(m)) return m;
  return std::nullopt;
}

const std::string* Result::header(std::string_view name) const noexcept {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  Request request;
  Result result;
  Clock::time_point started;
  std::size_t cap = 0;
  const std::function<bool()>* should_abort = nullptr;
  FILE* body_file = nullptr;  // open while a file body is being uploaded
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// libcurl calls these as C functions: no exception may leave them.
extern "C" {

static size_t abdm_net_read_cb(char* buffer, size_t size, size_t nitems, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  size_t n = std::fread(buffer, 1, size * nitems, t->body_file);
  if (n == 0 && std::ferror(t->body_file)) return CURL_READFUNC_ABORT;
  return n;
}

static size_t abdm_net_write_cb(char* data, size_t size, size_t nmemb, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  try {
    if (t->result.body.size() + n > t->cap) {
      t->result.too_large = true;
      return 0;  // CURLE_WRITE_ERROR ends the transfer
    }
    t->result.body.append(data, n);
    return n;
  } catch (...) {
    return 0;
  }
}

static size_t abdm_net_header_cb(char* data, size_t size, size_t nmemb, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  try {
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
      t->result.headers.clear();  // a new response (after 100 Continue or a retry): forget the old
      return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    const auto name = text::trim(line.substr(0, colon));
    if (kept_response_header(name))
      t->result.headers.push_back({std::string(name), std::string(text::trim(line.substr(colon + 1)))});
    return n;
  } catch (...) {
    return 0;
  }
}

static int abdm_net_progress_cb(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  auto* t = static_cast<Transfer*>(user);
  try {
    if (t->should_abort && *t->should_abort && (*t->should_abort)()) {
      t->result.aborted = true;
      return 1;  // CURLE_ABORTED_BY_CALLBACK
    }
  } catch (...) {
    t->result.aborted = true;
    return 1;
  }
  return 0;
}

static int abdm_net_socket_cb(CURL*, curl_socket_t s, int what, void* user, void* socketp) noexcept;
static int abdm_net_timer_cb(CURLM*, long timeout_ms, void* user) noexcept;

}  // extern "C"

struct HttpMulti::Impl {
  HttpMultiOptions options;
  CURLM* multi = nullptr;
  // Sockets libcurl wants watched live in one epoll set; the set's own descriptor is what a caller
  // waits on (an epoll fd is readable while any socket in it is ready), beside its latch.
  int epoll_fd = -1;
  int wake_fd = -1;  // eventfd in the same set: wakeup() makes a waiting poll() return
  bool timer_armed = false;
  Clock::time_point timer_deadline{};
  std::unordered_set<Transfer*> active;
  std::vector<CURL*> idle_easies;  // reused handles keep their DNS and TLS session caches
  std::vector<Result> ready;       // finished outside curl (abort_all, add failures)
  long total_connects = 0;

  CURL* take_easy() {
    if (!idle_easies.empty()) {
      CURL* e = idle_easies.back();
      idle_easies.pop_back();
      curl_easy_reset(e);
      return e;
    }
    return curl_easy_init();
  }

  void give_back(CURL* e) {
    const auto keep = static_cast<std::size_t>(std::max(options.max_total_connections, 8L)) + 16;
    if (idle_easies.size() < keep)
      idle_easies.push_back(e);
    else
      curl_easy_cleanup(e);
  }

  // Detaches a transfer from curl and turns it into its Result.
  Result finish(Transfer* t, CURLcode code) {
    curl_multi_remove_handle(multi, t->easy);
    Result r = std::move(t->result);
    r.id = t->request.id;
    r.redact = t->request.redact;
    r.curl_code = static_cast<int>(code);
    if (code == CURLE_ABORTED_BY_CALLBACK) r.aborted = true;
    if (code == CURLE_FILESIZE_EXCEEDED) r.too_large = true;  // announced by Content-Length
    if (code != CURLE_OK) {
      if (r.too_large) {
        r.curl_error = "response larger than " + std::to_string(t->cap) + " bytes";
      } else if (r.aborted) {
        r.curl_error = "transfer cancelled";
      } else {
        r.curl_error = t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(code);
        while (!r.curl_error.empty() && r.curl_error.back() == '\n') r.curl_error.pop_back();
      }
    }
    long status = 0, connects = 0, version = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
    r.http_status = status;
    r.new_connections = connects;
    r.http_version = version;
    total_connects += connects;
    r.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - t->started).count();
    if (t->request.redact && !t->request.body.empty())
      OPENSSL_cleanse(t->request.body.data(), t->request.body.size());  // the client secret
    curl_slist_free_all(t->header_list);
    if (t->body_file) std::fclose(t->body_file);
    give_back(t->easy);
    active.erase(t);
    delete t;
    return r;
  }

  void collect(std::vector<Result>& out) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      const CURLcode code = msg->data.result;
      if (t && active.count(t)) out.push_back(finish(t, code));
    }
  }

  // Runs libcurl for the ready sockets and an expired timer. libcurl starts its resolver threads
  // from here; a thread inherits its creator's signal mask, so every signal is blocked around the
  // calls and those threads never run a PostgreSQL signal handler (a signal sent to the process may
  // be taken by any thread that does not block it). A signal arriving meanwhile stays pending and
  // is handled when the mask is restored, microseconds later.
  void drive(const epoll_event* events, int n) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int running = 0;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd) {
        std::uint64_t v;
        while (read(wake_fd, &v, sizeof v) > 0) {
        }
        continue;
      }
      int flags = 0;
      if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi, fd, flags, &running);
    }
    if (timer_armed && Clock::now() >= timer_deadline) {
      timer_armed = false;  // the call below may re-arm it
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  // Milliseconds until libcurl's timer fires: -1 = no timer, 0 = due now.
  long timer_ms() const {
    if (!timer_armed) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(timer_deadline - Clock::now());
    return std::max<long>(0, static_cast<long>(left.count()));
  }

  int on_socket(curl_socket_t s, int what, void* socketp) {
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s, nullptr);  // ENOENT/EBADF: already gone, fine
      curl_multi_assign(multi, s, nullptr);
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = s;
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epoll_fd, op, s, &ev) != 0) {
      op = (errno == EEXIST) ? EPOLL_CTL_MOD : (errno == ENOENT ? EPOLL_CTL_ADD : -1);
      if (op < 0 || epoll_ctl(epoll_fd, op, s, &ev) != 0) return -1;  // libcurl fails the transfer
    }
    if (!socketp) curl_multi_assign(multi, s, this);  // any non-null mark: "registered"
    return 0;
  }

  void on_timer(long timeout_ms) {
    if (timeout_ms < 0) {
      timer_armed = false;
    } else {
      timer_armed = true;
      timer_deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    }
  }

  bool abort_requested() {
    try {
      return options.should_abort && options.should_abort();
    } catch (...) {
      return true;
    }
  }

  void abort_everything() {
    std::vector<Transfer*> all(active.begin(), active.end());
    for (Transfer* t : all) {
      t->result.aborted = true;
      ready.push_back(finish(t, CURLE_ABORTED_BY_CALLBACK));
    }
  }
};

extern "C" {
static int abdm_net_socket_cb(CURL*, curl_socket_t s, int what, void* user, void* socketp) noexcept {
  try {
    return static_cast<HttpMulti::Impl*>(user)->on_socket(s, what, socketp);
  } catch (...) {
    return -1;
  }
}
static int abdm_net_timer_cb(CURLM*, long timeout_ms, void* user) noexcept {
  static_cast<HttpMulti::Impl*>(user)->on_timer(timeout_ms);
  return 0;
}
}  // extern "C"

HttpMulti::HttpMulti(HttpMultiOptions options) : impl_(std::make_unique<Impl>()) {
  global_init_once();
  if (options.max_total_connections < 1 || options.max_host_connections < 1 ||
      options.max_connects_cached < 1)
    throw Error(sqlstate::kInvalidParameter, "max_connections", "must be at least 1");
  if (options.max_response_bytes == 0)
    throw Error(sqlstate::kInvalidParameter, "max_response_bytes", "must be at least 1");
  impl_->options = std::move(options);
  impl_->multi = curl_multi_init();
  if (!impl_->multi) throw Error(sqlstate::kInternal, "", "curl_multi_init failed");
  CURLM* m = impl_->multi;
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, impl_->options.max_total_connections);
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, impl_->options.max_host_connections);
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, impl_->options.max_connects_cached);
  curl_multi_setopt(m, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = impl_->wake_fd;
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0 ||
      epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev) != 0) {
    const int err = errno;
    if (impl_->epoll_fd >= 0) close(impl_->epoll_fd);
    if (impl_->wake_fd >= 0) close(impl_->wake_fd);
    curl_multi_cleanup(m);
    impl_->multi = nullptr;
    throw Error(sqlstate::kInternal, "", std::string("epoll/eventfd: ") + std::strerror(err));
  }
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, abdm_net_socket_cb);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(impl_.get()));
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, abdm_net_timer_cb);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(impl_.get()));
}

HttpMulti::~HttpMulti() {
  if (!impl_) return;
  for (Transfer* t : std::vector<Transfer*>(impl_->active.begin(), impl_->active.end()))
    impl_->finish(t, CURLE_ABORTED_BY_CALLBACK);
  for (CURL* e : impl_->idle_easies) curl_easy_cleanup(e);
  curl_multi_cleanup(impl_->multi);  // closes cached connections (socket callbacks still valid)
  close(impl_->epoll_fd);
  close(impl_->wake_fd);
}

void HttpMulti::submit(Request request) {
  if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0)
    throw Error(sqlstate::kInvalidParameter, "url", "must start with http:// or https://");
  if (has_crlf(request.url) || request.url.find(' ') != std::string::npos)
    throw Error(sqlstate::kInvalidParameter, "url", "must not contain spaces or line breaks");
  if (request.timeout_ms < 0 || request.connect_timeout_ms < 0)
    throw Error(sqlstate::kInvalidParameter, "timeout_ms", "must not be negative");
  for (const auto& h : request.headers) {
    if (h.name.empty() || has_crlf(h.name) || h.name.find(':') != std::string::npos)
      throw Error(sqlstate::kInvalidParameter, "headers", "invalid header name '" + h.name + "'");
    if (has_crlf(h.value))
      throw Error(sqlstate::kInvalidParameter, "headers." + h.name, "value contains a line break");
  }

  auto owned = std::make_unique<Transfer>();
  Transfer* t = owned.get();
  t->request = std::move(request);
  t->cap = impl_->options.max_response_bytes;
  t->should_abort = &impl_->options.should_abort;
  t->started = Clock::now();
  t->easy = impl_->take_easy();
  if (!t->easy) throw Error(sqlstate::kInternal, "", "curl_easy_init failed");

  for (const auto& h : t->request.headers) {
    // "Name;" is libcurl's way to send a header with an empty value.
    std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
    curl_slist* next = curl_slist_append(t->header_list, line.c_str());
    if (!next) {
      curl_slist_free_all(t->header_list);
      impl_->give_back(t->easy);
      throw Error(sqlstate::kInternal, "", "out of memory building headers");
    }
    t->header_list = next;
  }
  // No "Expect: 100-continue" round trip before larger bodies.
  t->header_list = curl_slist_append(t->header_list, "Expect:");

  CURL* e = t->easy;
  const Request& r = t->request;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // never install signal handlers (PostgreSQL owns them)
  curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(t));
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
  if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   impl_->options.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, impl_->options.pipewait ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t->cap));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, abdm_net_write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(t));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, abdm_net_header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void*>(t));
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, abdm_net_progress_cb);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, static_cast<void*>(t));
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  switch (r.method) {
    case Method::kGet:
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
      break;
    case Method::kPost:
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      break;
    default:
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method_name(r.method));
      break;
  }
  if (!r.body_file.empty()) {
    t->body_file = std::fopen(r.body_file.c_str(), "rb");
    if (!t->body_file) {
      curl_slist_free_all(t->header_list);
      impl_->give_back(t->easy);
      throw Error(sqlstate::kInvalidParameter, "body_file", "cannot open " + r.body_file);
    }
    curl_easy_setopt(e, CURLOPT_READFUNCTION, abdm_net_read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, static_cast<void*>(t));
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body_file_size));
  } else if (r.method != Method::kGet && (r.method == Method::kPost || !r.body.empty())) {
    // The body stays owned by the Transfer until the transfer ends (no copy by libcurl).
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
  }

  const CURLMcode mc = curl_multi_add_handle(impl_->multi, e);
  impl_->active.insert(owned.release());
  if (mc != CURLM_OK) {
    Result failed = impl_->finish(t, CURLE_FAILED_INIT);
    failed.curl_error = std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc);
    impl_->ready.push_back(std::move(failed));
  }
}

std::vector<Result> HttpMulti::poll(int max_wait_ms) {
  std::vector<Result> out = std::move(impl_->ready);
  impl_->ready.clear();
  if (impl_->active.empty()) return out;
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(0, max_wait_ms));
  epoll_event events[64];
  for (;;) {
    if (impl_->abort_requested()) {
      impl_->abort_everything();
      for (auto& r : impl_->ready) out.push_back(std::move(r));
      impl_->ready.clear();
      return out;
    }
    // Wait for a socket, the wake-up eventfd, or libcurl's timer — whichever comes first.
    long wait = std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - Clock::now()).count());
    const long timer = impl_->timer_ms();
    if (timer >= 0) wait = std::min(wait, timer);
    int n = epoll_wait(impl_->epoll_fd, events, 64, static_cast<int>(wait));
    if (n < 0) n = 0;  // EINTR: a signal arrived; process what is due and let the caller look
    bool woken = false;
    for (int i = 0; i < n; ++i) woken |= events[i].data.fd == impl_->wake_fd;
    impl_->drive(events, n);
    impl_->collect(out);
    if (!out.empty() || woken || impl_->active.empty() || Clock::now() >= deadline) return out;
  }
}

int HttpMulti::wait_fd() const noexcept { return impl_->epoll_fd; }

long HttpMulti::timeout_ms() const noexcept {
  if (!impl_->ready.empty()) return 0;
  if (impl_->active.empty()) return -1;
  return impl_->timer_ms();
}

void HttpMulti::wakeup() noexcept {
  const std::uint64_t one = 1;
  ssize_t ignored = write(impl_->wake_fd, &one, sizeof one);  // async-signal-safe
  (void)ignored;
}

void HttpMulti::abort_all() noexcept {
  try {
    impl_->abort_everything();
  } catch (...) {
  }
}

std::size_t HttpMulti::in_flight() const noexcept { return impl_->active.size() + impl_->ready.size(); }

long HttpMulti::total_new_connections() const noexcept { return impl_->total_connects; }

std::string describe(const Request& request, std::size_t max_body_chars) {
  std::string out = std::string(method_name(request.method)) + " " + request.url;
  for (const auto& h : request.headers) {
    if (iequals(h.name, "REQUEST-ID")) out += " (REQUEST-ID " + h.value + ")";
  }
  if (request.redact) {
    out += " [body redacted]";
  } else if (!request.body.empty()) {
    out += " body=";
    if (request.body.size() > max_body_chars) {
      out.append(request.body, 0, max_body_chars);
      out += "…";
    } else {
      out += request.body;
    }
  }
  return out;
}

}  // namespace abdm::net
