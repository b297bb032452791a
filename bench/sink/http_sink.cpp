// abdm_http_sink: the loopback HTTP/1.1 sink for the sender benchmark (bench/e2e_bench.py).
//
// Same interface and counters as test/sim/sink.py, but in C++ on libmicrohttpd: the Python
// asyncio sink spends ~9 us of CPU per request (a whole core at ~110k req/s under wrk), and on
// the 2-core benchmark machine that CPU is taken from the sender being measured. This one spends
// ~3.5 us per request (about half a core at ~135k req/s, when wrk itself is the limit).
//
//   abdm_http_sink --port 0 --port-file FILE [--delay-ms N] [--status N]
//
// - Binds 127.0.0.1 only; the chosen port is written to FILE.tmp<pid> and renamed onto FILE, so
//   a reader polling FILE never sees a partial number.
// - POST .../gateway/v3/sessions (any path ending in /sessions) answers 200 with a session
//   (accessToken "sink-token") at once, so abdm_hip.gateway_url can point here unchanged.
// - Every other request: the body is read and discarded, the answer is --status (default 202,
//   empty body) after --delay-ms (default 0). HTTP/1.1 keep-alive; libmicrohttpd handles
//   Expect: 100-continue, Connection: close and HTTP/1.0 keep-alive.
// - GET /_sink/stats: JSON counters (field names as sink.py); POST /_sink/reset clears them.
// - SIGTERM / SIGINT: stop cleanly (exit status 0).
//
// Threads: libmicrohttpd's one internal poll() thread does all parsing, answering and counting
// (so the counters need no lock); a timer thread only resumes suspended connections when their
// delay is due. No PostgreSQL headers, not part of ctest.

#include <microhttpd.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  std::string port_file;
  double delay_ms = 0;
  unsigned status = 202;
};

// The counters of sink.py's Stats. Touched only by the daemon thread (handler and connection
// notifications both run there), so no lock.
struct Stats {
  // A benchmark run sends up to ~1M ids; growing the set step by step showed up in profiles.
  Stats() { request_ids.reserve(1 << 20); }

  uint64_t total = 0;
  std::map<std::string, uint64_t, std::less<>> by_path;  // less<>: look up by string_view, no copy
  std::unordered_set<std::string> request_ids;
  uint64_t duplicates = 0;
  std::optional<double> first, last;  // unix seconds of the first / last complete request
  uint64_t inflight = 0, peak_inflight = 0;
  uint64_t connections_total = 0, connections_open = 0;
  uint64_t bytes_in = 0;

  void reset() {
    // connections_open and inflight are live gauges, not counters: zeroing them while requests
    // are parked would make them wrap when those requests finish.
    const uint64_t open = connections_open, parked = inflight;
    *this = Stats{};
    connections_open = open;
    inflight = peak_inflight = parked;
  }

  std::string view() const {
    nlohmann::json j;
    j["total"] = total;
    j["byPath"] = by_path;
    j["distinctRequestIds"] = request_ids.size();
    j["duplicateRequestIds"] = duplicates;
    j["first"] = first ? nlohmann::json(*first) : nlohmann::json(nullptr);
    j["last"] = last ? nlohmann::json(*last) : nlohmann::json(nullptr);
    // As sink.py: (total - 1) requests arrived in the span between the first and the last.
    if (first && last && *last != *first)
      j["ratePerS"] = std::round((total - 1) / (*last - *first) * 10.0) / 10.0;
    else
      j["ratePerS"] = nullptr;
    j["peakInflight"] = peak_inflight;
    j["connectionsTotal"] = connections_total;
    j["connectionsOpen"] = connections_open;
    j["bytesIn"] = bytes_in;
    return j.dump();
  }
};

// Per-request state, kept in libmicrohttpd's *req_cls between the calls of one request.
struct Request {
  uint64_t bytes = 0;
  bool suspended = false;  // true once parked for --delay-ms; the next call answers
};

// Delayed answers. Every delay is the same --delay-ms, so due times arrive in order and a FIFO
// is a correct (and cheaper) priority queue.
class DelayQueue {
 public:
  void push(MHD_Connection* c, Clock::time_point due) {
    std::lock_guard lk(mu_);
    const bool was_empty = q_.empty();
    q_.push_back({c, due});
    // The timer waits forever on an empty queue: only then does it need waking.
    if (was_empty) cv_.notify_one();
  }

  // Resumes connections as they fall due until stop(); each resume makes libmicrohttpd call the
  // handler again on its own thread, which then queues the response.
  void run() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      if (q_.empty()) {
        cv_.wait(lk);
        continue;
      }
      const auto now = Clock::now();
      if (q_.front().due > now) {
        cv_.wait_until(lk, q_.front().due);
        continue;
      }
      while (!q_.empty() && q_.front().due <= now) {
        MHD_resume_connection(q_.front().c);  // thread-safe: takes MHD's lock, wakes its epoll
        q_.pop_front();
      }
    }
    // Shutting down: MHD_stop_daemon must not find suspended connections, so release them all.
    for (auto& e : q_) MHD_resume_connection(e.c);
    q_.clear();
  }

  void stop() {
    std::lock_guard lk(mu_);
    stopping_ = true;
    cv_.notify_one();
  }

 private:
  struct Entry {
    MHD_Connection* c;
    Clock::time_point due;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> q_;
  bool stopping_ = false;
};

struct Sink {
  Options opt;
  Stats stats;
  DelayQueue delays;
  Clock::duration delay{};
  // Shared, reference-counted responses: built once, queued on every request (MHD allows a
  // response to be queued many times), so the hot path allocates nothing for them.
  MHD_Response* empty = nullptr;
  MHD_Response* session = nullptr;
};

// libmicrohttpd zeroes a connection's whole memory pool between requests (default 32 KiB): at
// 8 KiB the sink's CPU per request dropped from ~5.4 to ~3.6 us. Headers of 7.5 KB still pass,
// and bodies stream through in chunks, so nothing the sender sends needs more.
constexpr size_t kConnectionPool = 8 * 1024;

const char kSession[] =
    R"({"accessToken":"sink-token","expiresIn":1200,"refreshExpiresIn":1800,)"
    R"("refreshToken":"sink-refresh","tokenType":"bearer"})";

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

MHD_Result queue_json(MHD_Connection* c, unsigned status, const std::string& body) {
  MHD_Response* r =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

void count(Stats& st, MHD_Connection* c, const char* url, uint64_t bytes) {
  const double now = unix_now();
  if (!st.first) st.first = now;
  st.last = now;
  ++st.total;
  st.bytes_in += bytes;
  const std::string_view path(url);
  if (auto it = st.by_path.find(path); it != st.by_path.end())
    ++it->second;
  else
    st.by_path.emplace(path, 1);
  // The sender puts a fresh REQUEST-ID on every call (ABDM V3 gateway headers); a repeat means it
  // delivered one outbox row twice, which is what the duplicate counter is there to catch.
  if (const char* rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "REQUEST-ID")) {
    if (!st.request_ids.emplace(rid).second) ++st.duplicates;
  }
}

// libmicrohttpd calls this once when the headers are in, once per body chunk, once when the body
// is complete (upload_data_size == 0), and once more after each resume.
MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                  const char* upload_data, size_t* upload_data_size, void** req_cls) {
  auto& sink = *static_cast<Sink*>(cls);
  auto* req = static_cast<Request*>(*req_cls);
  if (!req) {  // headers only; the body (if any) follows
    *req_cls = req = new Request;
    return MHD_YES;
  }
  if (*upload_data_size) {  // a body chunk: count and drop it
    (void)upload_data;
    req->bytes += *upload_data_size;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (req->suspended) {  // resumed by the timer: the delay is over
    --sink.stats.inflight;
    return MHD_queue_response(c, sink.opt.status, sink.empty);
  }

  const std::string_view path(url);  // MHD has already cut off the query string
  if (path.starts_with("/_sink/")) {
    if (path == "/_sink/reset" && std::strcmp(method, MHD_HTTP_METHOD_POST) == 0) sink.stats.reset();
    return queue_json(c, MHD_HTTP_OK, sink.stats.view());
  }
  count(sink.stats, c, url, req->bytes);
  if (path.ends_with("/sessions")) return MHD_queue_response(c, MHD_HTTP_OK, sink.session);
  if (sink.delay <= Clock::duration::zero()) return MHD_queue_response(c, sink.opt.status, sink.empty);

  // Park the connection instead of sleeping: the daemon thread goes on serving the others.
  req->suspended = true;
  if (++sink.stats.inflight > sink.stats.peak_inflight) sink.stats.peak_inflight = sink.stats.inflight;
  MHD_suspend_connection(c);
  sink.delays.push(c, Clock::now() + sink.delay);
  return MHD_YES;
}

void request_done(void*, MHD_Connection*, void** req_cls, MHD_RequestTerminationCode) {
  delete static_cast<Request*>(*req_cls);
  *req_cls = nullptr;
}

void on_connection(void* cls, MHD_Connection*, void**, MHD_ConnectionNotificationCode code) {
  auto& st = static_cast<Sink*>(cls)->stats;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    ++st.connections_total;
    ++st.connections_open;
  } else if (st.connections_open) {
    --st.connections_open;
  }
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "abdm_http_sink: %s\nusage: abdm_http_sink --port N --port-file FILE "
               "[--delay-ms N] [--status N]\n", why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (i + 1 >= argc) usage("missing value");
    const char* v = argv[++i];
    char* end = nullptr;
    if (a == "--port") {
      o.port = static_cast<int>(std::strtol(v, &end, 10));
      if (*end || o.port < 0 || o.port > 65535) usage("bad --port");
    } else if (a == "--port-file") {
      o.port_file = v;
    } else if (a == "--delay-ms") {
      o.delay_ms = std::strtod(v, &end);
      if (*end || o.delay_ms < 0) usage("bad --delay-ms");
    } else if (a == "--status") {
      o.status = static_cast<unsigned>(std::strtoul(v, &end, 10));
      if (*end || o.status < 100 || o.status > 599) usage("bad --status");
    } else {
      usage("unknown option");
    }
  }
  return o;
}

bool write_port_file(const std::string& file, unsigned port) {
  const std::string tmp = file + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), file.c_str()) == 0;  // atomic on one file system
}

}  // namespace

int main(int argc, char** argv) {
  Sink sink;
  sink.opt = parse(argc, argv);
  sink.delay = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(sink.opt.delay_ms));

  // Block the stop signals before any thread starts, so every thread inherits the mask and only
  // sigwait() below receives them: no async-signal-safety puzzles.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-answer must not kill the sink

  sink.empty = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
  sink.session = MHD_create_response_from_buffer(sizeof kSession - 1, const_cast<char*>(kSession),
                                                 MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(sink.session, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(sink.opt.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only: this is a test double

  // No Date header (sink.py sends none): formatting it per answer showed up in profiles.
  // One internal thread on poll(): it leaves the second core to the sender under test and
  // outruns wrk (>120k req/s). Not epoll: libmicrohttpd 0.9.75's epoll mode stalled (a few req/s, CPU
  // idle) whenever >= 128 connections arrived at once, with or without suspend/resume or TURBO;
  // poll() over a few hundred sockets costs little. Not a thread per connection: that cannot use
  // suspend/resume here and would need locks on every counter. SUSPEND_RESUME is the delay.
  MHD_Daemon* d = MHD_start_daemon(
      MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_SUPPRESS_DATE_NO_CLOCK, 0,
      nullptr, nullptr, &handle, &sink,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr),
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      MHD_OPTION_CONNECTION_LIMIT, 4096u,
      MHD_OPTION_CONNECTION_TIMEOUT, 0u,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionPool,
      MHD_OPTION_NOTIFY_COMPLETED, &request_done, nullptr,
      MHD_OPTION_NOTIFY_CONNECTION, &on_connection, &sink,
      MHD_OPTION_END);
  if (!d) {
    std::fprintf(stderr, "abdm_http_sink: cannot listen on 127.0.0.1:%d\n", sink.opt.port);
    return 1;
  }
  const unsigned port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
  std::thread timer([&] { sink.delays.run(); });

  if (!sink.opt.port_file.empty() && !write_port_file(sink.opt.port_file, port)) {
    std::fprintf(stderr, "abdm_http_sink: cannot write %s\n", sink.opt.port_file.c_str());
    sink.delays.stop();
    timer.join();
    MHD_stop_daemon(d);
    return 1;
  }
  std::printf("abdm sink listening port=%u status=%u delay_ms=%g\n", port, sink.opt.status,
              sink.opt.delay_ms);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);

  // Stop accepting, release every parked connection, then let MHD close the rest.
  MHD_quiesce_daemon(d);
  sink.delays.stop();
  timer.join();
  MHD_stop_daemon(d);
  MHD_destroy_response(sink.empty);
  MHD_destroy_response(sink.session);
  return 0;
}
