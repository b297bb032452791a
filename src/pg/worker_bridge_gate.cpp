// The gate ("abdm_hip bridge gate"): holds the listener's port while no listener worker can, and
// answers every call there with 503 and Retry-After, so that the gateway meets a "try again"
// rather than a refused or dropped connection while the server starts, recovers from a crash, or
// restarts a listener.
//
// Why a process of its own: the listener workers need a database connection, and PostgreSQL
// starts no such worker before the server is consistent (after a crash, not before crash recovery
// has finished). A worker that starts with the postmaster may not connect to a database, but it
// may listen: this one does, on the same port (SO_REUSEPORT), whenever the shared count of
// listening workers is 0, and closes its socket as soon as one is listening again (it looks every
// 200 ms; meanwhile both answer, the gate with 503). It touches no database and calls nothing
// of PostgreSQL but its latch and its log.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/wait_event.h"
}

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/bridge/http_listener.hpp"
#include "pg/gucs.hpp"
#include "pg/shared_state.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {
namespace {

namespace bridge = abdm::bridge;

constexpr long kLookEveryMs = 200;

std::unique_ptr<bridge::HttpListener> open_gate() {
  bridge::ListenerConfig c;
  c.address = abdm_listen_address ? abdm_listen_address : "";
  c.port = abdm_listen_port;
  c.reuse_port = true;
  c.max_connections = static_cast<unsigned>(abdm_listen_max_connections);
  c.max_header_bytes = static_cast<std::size_t>(abdm_listen_max_header_size);
  c.idle_timeout = std::chrono::seconds(abdm_listen_idle_timeout_s);
  c.request_timeout = std::chrono::milliseconds(abdm_listen_request_timeout_ms);
  c.limits.max_body = static_cast<std::size_t>(abdm_listen_max_body);
  c.limits.max_headers = static_cast<unsigned>(abdm_listen_max_headers);
  return std::make_unique<bridge::HttpListener>(c, [](bridge::HttpRequest&) {
    bridge::HttpReply r;
    r.status = 503;
    r.body = bridge::error_body("the HIP's database is starting or recovering; try again shortly");
    r.headers.push_back({"Retry-After", "5"});
    // No kept-alive connection outlives the gate: when it steps aside, nothing is cut off but a
    // request in the middle of being answered.
    r.close = true;
    return r;
  });
}

void run_gate() {
  advertise_worker_latch(WorkerKind::kBridgeGate);  // a listener that leaves wakes the gate
  std::unique_ptr<bridge::HttpListener> gate;
  std::optional<std::chrono::steady_clock::time_point> stepping_aside;
  long backoff_ms = 0;
  while (!ShutdownRequestPending) {
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    const bool listeners_up = bridges_listening() > 0;
    if (listeners_up && gate) {
      // Stop taking connections, answer the ones open (each is closed after its answer), then
      // let go; a client that never finishes its request is not waited for beyond a second.
      if (!stepping_aside) {
        gate->stop_accepting();
        set_gate_listening(false);
        stepping_aside = std::chrono::steady_clock::now();
      }
      if (gate->open_connections() == 0 || std::chrono::steady_clock::now() - *stepping_aside > std::chrono::seconds(1)) {
        gate.reset();
        stepping_aside.reset();
      }
      backoff_ms = 0;
    } else if (!listeners_up && gate && stepping_aside) {
      gate.reset();  // the listeners left again while we were stepping aside: open afresh
      stepping_aside.reset();
      continue;
    } else if (!listeners_up && !gate) {
      try {
        gate = open_gate();
        set_gate_listening(true);
        backoff_ms = 0;
      } catch (...) {
        // The port may still be held by a listener that is shutting down: try again soon.
        log_current_exception("abdm_hip bridge gate");
        backoff_ms = std::min(5000L, backoff_ms == 0 ? 200L : backoff_ms * 2);
      }
    }
    long wait = backoff_ms > 0 ? backoff_ms : stepping_aside ? 20 : kLookEveryMs;
    int rc;
    if (gate) {
      wait = gate->timeout_ms(wait);
      const int fd = gate->wait_fd();
      rc = pg_call([&] {
        return WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, fd,
                                 wait, PG_WAIT_EXTENSION);
      });
    } else {
      rc = pg_call([&] { return WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait, PG_WAIT_EXTENSION); });
    }
    if (rc & WL_LATCH_SET) pg_call([] { ResetLatch(MyLatch); });
    if (gate) gate->run();
  }
  set_gate_listening(false);
  withdraw_worker_latch(WorkerKind::kBridgeGate);
}

}  // namespace
}  // namespace abdm_pg

extern "C" {
PGDLLEXPORT void abdm_bridge_gate_main(Datum) noexcept;
}

void abdm_bridge_gate_main(Datum) noexcept {
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
  abdm_pg::guarded_void([] { abdm_pg::run_gate(); });
  proc_exit(1);  // restarted by the postmaster if terminated; nothing is restarted at shutdown
}
