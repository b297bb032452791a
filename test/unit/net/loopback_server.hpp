// A real HTTP(S) server on 127.0.0.1 for the net tests and benchmark: libmicrohttpd in its own
// threads (only the code under test must be single-threaded). Routes:
//   /status/<code>[?body=..&retry_after=..]  answer <code> with that body (and Retry-After)
//   /slow?ms=N                               wait N ms, then 202
//   /big?bytes=N                             200 with N bytes
//   /echo                                    200 with the request body
//   /bearer/<token>                          202 when sent "Authorization: Bearer <token>", else 401
//   /sessions                                the gateway session call (see session_* below)
//   anything else                            202, empty body
// Every request is recorded (method, path, headers, body) for assertions.
#pragma once

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace abdm::net::testing {

struct SelfSigned {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed P-256 certificate for 127.0.0.1 (CN and subjectAltName IP), valid for one day.
inline SelfSigned make_self_signed_cert() {
  SelfSigned out;
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* x = X509_new();
  if (!key || !x) throw std::runtime_error("keygen failed");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (!X509_sign(x, key, EVP_sha256())) throw std::runtime_error("sign failed");
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  out.cert_pem.assign(p, n);
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(b, &p);
  out.key_pem.assign(p, n);
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct LoopbackOptions {
  const SelfSigned* tls = nullptr;    // serve HTTPS with this certificate
  bool thread_per_connection = true;  // needed for /slow; false = one epoll thread (benchmark)
  bool record = true;                 // keep every request (off for the benchmark)
};

class LoopbackServer {
 public:
  using Options = LoopbackOptions;

  LoopbackServer() : LoopbackServer(Options{}) {}
  explicit LoopbackServer(Options o) : opts_(o) {
    unsigned flags = MHD_USE_ERROR_LOG;
    flags |= o.thread_per_connection ? (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD)
                                     : (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY);
    if (o.tls) flags |= MHD_USE_TLS;
    struct sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (o.tls) {
      daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &LoopbackServer::handle, this,
                                 MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT, 2000u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_CONNECTION,
                                 &LoopbackServer::notify, this, MHD_OPTION_NOTIFY_COMPLETED,
                                 &LoopbackServer::completed, this, MHD_OPTION_HTTPS_MEM_KEY,
                                 o.tls->key_pem.c_str(), MHD_OPTION_HTTPS_MEM_CERT,
                                 o.tls->cert_pem.c_str(), MHD_OPTION_END);
    } else {
      daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &LoopbackServer::handle, this,
                                 MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT, 2000u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_CONNECTION,
                                 &LoopbackServer::notify, this, MHD_OPTION_NOTIFY_COMPLETED,
                                 &LoopbackServer::completed, this, MHD_OPTION_END);
    }
    if (!daemon_) throw std::runtime_error("MHD_start_daemon failed");
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }

  ~LoopbackServer() {
    stopping_ = true;
    MHD_stop_daemon(daemon_);
  }

  std::string url(const std::string& path) const {
    return std::string(opts_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections_opened() const { return connections_.load(); }
  int requests_served() const { return requests_.load(); }
  std::vector<RecordedRequest> recorded() const {
    std::lock_guard<std::mutex> g(mu_);
    return recorded_;
  }

  // What /sessions answers: the next token is "token-<n>" with this expiresIn, or this status.
  std::atomic<int> session_status{200};
  std::atomic<int> session_expires_in{1200};
  std::atomic<int> sessions_issued{0};

 private:
  struct Pending {
    std::string body;
  };

  static MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* m = static_cast<std::map<std::string, std::string>*>(cls);
    std::string k(key);
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    (*m)[k] = value ? value : "";
    return MHD_YES;
  }

  static void notify(void* cls, MHD_Connection*, void**, MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_STARTED) static_cast<LoopbackServer*>(cls)->connections_++;
  }

  static void completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    delete static_cast<Pending*>(*con_cls);
    *con_cls = nullptr;
  }

  static MHD_Result reply(MHD_Connection* c, int status, const std::string& body,
                          const char* retry_after = nullptr) {
    MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),
                                                      MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after) MHD_add_response_header(r, "Retry-After", retry_after);
    MHD_Result ret = MHD_queue_response(c, static_cast<unsigned>(status), r);
    MHD_destroy_response(r);
    return ret;
  }

  static const char* arg(MHD_Connection* c, const char* name) {
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
  }

  static MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method,
                           const char*, const char* upload, size_t* upload_size, void** con_cls) {
    auto* self = static_cast<LoopbackServer*>(cls);
    if (!*con_cls) {
      *con_cls = new Pending;
      return MHD_YES;
    }
    auto* p = static_cast<Pending*>(*con_cls);
    if (*upload_size) {
      p->body.append(upload, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    self->requests_++;
    const std::string path(url);
    if (self->opts_.record) {
      RecordedRequest rec{method, path, {}, p->body};
      MHD_get_connection_values(c, MHD_HEADER_KIND, &LoopbackServer::collect_header, &rec.headers);
      std::lock_guard<std::mutex> g(self->mu_);
      self->recorded_.push_back(std::move(rec));
    }
    if (path.rfind("/status/", 0) == 0) {
      const char* body = arg(c, "body");
      return reply(c, std::atoi(path.c_str() + 8), body ? body : "", arg(c, "retry_after"));
    }
    if (path == "/slow") {
      const char* ms = arg(c, "ms");
      const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms ? std::atoi(ms) : 1000);
      // Short slices so a stopping server is not held up; the last one ends exactly on time.
      for (auto now = std::chrono::steady_clock::now(); !self->stopping_ && now < until;
           now = std::chrono::steady_clock::now())
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            std::chrono::milliseconds(5), until - now));
      return reply(c, 202, "");
    }
    if (path == "/big") {
      const char* n = arg(c, "bytes");
      return reply(c, 200, std::string(n ? std::atoi(n) : 0, 'x'));
    }
    if (path == "/echo") return reply(c, 200, p->body);
    if (path.rfind("/bearer/", 0) == 0) {
      const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
      const bool ok = auth && std::string(auth) == "Bearer " + path.substr(8);
      return reply(c, ok ? 202 : 401, ok ? "" : R"({"error":{"code":"900901","message":"Invalid Credentials"}})");
    }
    if (path.size() >= 9 && path.compare(path.size() - 9, 9, "/sessions") == 0) {
      const int status = self->session_status.load();
      if (status != 200) return reply(c, status, R"({"error":{"code":"ABDM-1001","message":"bad credentials"}})");
      const int n = ++self->sessions_issued;
      return reply(c, 200, R"({"accessToken":"token-)" + std::to_string(n) + R"(","expiresIn":)" +
                               std::to_string(self->session_expires_in.load()) +
                               R"(,"refreshExpiresIn":1800,"tokenType":"bearer"})");
    }
    return reply(c, 202, "");
  }

  Options opts_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<RecordedRequest> recorded_;
};

}  // namespace abdm::net::testing
