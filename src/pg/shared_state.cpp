#include "pg/shared_state.hpp"

extern "C" {
#include "postgres.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
}

#include <algorithm>
#include <cstring>

#include "pg/guard.hpp"

namespace abdm_pg {
namespace {

constexpr size_t kTokenCapacity = 8192;  // gateway JWTs are ~1-2 KB
constexpr size_t kKindCapacity = 32;

struct SharedRate {
  char kind[kKindCapacity];
  double configured_per_s;
  double current_per_s;
  int64_t throttles;
  int64_t last_throttle_ms;
};

struct SharedState {
  slock_t mutex;
  Latch* worker_latch[static_cast<int>(WorkerKind::kCount)];
  char token[kTokenCapacity];
  int64_t token_obtained_at_ms;
  int64_t token_expires_in_s;
  uint64_t token_generation;
  int bridges_listening;  // listener workers with a database connection that are taking calls
  bool gate_listening;    // the gate holds the port (worker_bridge_gate.cpp)
  SharedRate rates[kMaxRateLimitKinds];
  int rate_count;
  int64_t rates_published_ms;
};

SharedState* shared = nullptr;
shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;
bool wake_registered = false;
bool wake_pending[static_cast<int>(WorkerKind::kCount)] = {false};
bool counted_as_listening = false;  // this process added itself to bridges_listening

void stop_counting_as_listening(int, Datum) { set_bridge_listening(false); }

void shmem_request() {
  if (prev_shmem_request_hook) prev_shmem_request_hook();
  RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
}

void shmem_startup() {
  if (prev_shmem_startup_hook) prev_shmem_startup_hook();
  bool found = false;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  shared = static_cast<SharedState*>(ShmemInitStruct("abdm_hip", sizeof(SharedState), &found));
  if (!found) {
    memset(shared, 0, sizeof(SharedState));
    SpinLockInit(&shared->mutex);
  }
  LWLockRelease(AddinShmemInitLock);
}

void at_xact_event(XactEvent event, void*) {
  if (event == XACT_EVENT_COMMIT) {
    for (int k = 0; k < static_cast<int>(WorkerKind::kCount); ++k)
      if (wake_pending[k]) wake_worker(static_cast<WorkerKind>(k));
  }
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
      event == XACT_EVENT_PARALLEL_ABORT) {
    for (bool& w : wake_pending) w = false;
  }
}

}  // namespace

void install_shared_state_hooks() {
  prev_shmem_request_hook = shmem_request_hook;
  shmem_request_hook = shmem_request;
  prev_shmem_startup_hook = shmem_startup_hook;
  shmem_startup_hook = shmem_startup;
}

bool shared_state_available() { return shared != nullptr; }

void advertise_worker_latch(WorkerKind kind) {
  if (!shared) return;
  SpinLockAcquire(&shared->mutex);
  shared->worker_latch[static_cast<int>(kind)] = MyLatch;
  SpinLockRelease(&shared->mutex);
}

void withdraw_worker_latch(WorkerKind kind) {
  if (!shared) return;
  SpinLockAcquire(&shared->mutex);
  if (shared->worker_latch[static_cast<int>(kind)] == MyLatch) shared->worker_latch[static_cast<int>(kind)] = nullptr;
  SpinLockRelease(&shared->mutex);
}

void wake_worker(WorkerKind kind) {
  if (!shared) return;
  SpinLockAcquire(&shared->mutex);
  Latch* latch = shared->worker_latch[static_cast<int>(kind)];
  SpinLockRelease(&shared->mutex);
  if (latch) SetLatch(latch);
}

void wake_worker_at_commit(WorkerKind kind) {
  if (!wake_registered) {
    RegisterXactCallback(at_xact_event, nullptr);
    wake_registered = true;
  }
  wake_pending[static_cast<int>(kind)] = true;
}

CachedToken load_cached_token() {
  CachedToken t;
  if (!shared) return t;
  char copy[kTokenCapacity];
  SpinLockAcquire(&shared->mutex);
  memcpy(copy, shared->token, kTokenCapacity);
  t.obtained_at_ms = shared->token_obtained_at_ms;
  t.expires_in_s = shared->token_expires_in_s;
  t.generation = shared->token_generation;
  SpinLockRelease(&shared->mutex);
  copy[kTokenCapacity - 1] = '\0';
  t.token = copy;
  explicit_bzero(copy, sizeof copy);
  return t;
}

void set_bridge_listening(bool listening) {
  if (!shared || listening == counted_as_listening) return;
  static bool exit_hook = false;
  if (listening && !exit_hook) {
    // However the process ends short of a crash (which resets shared memory), it stops counting.
    on_shmem_exit(stop_counting_as_listening, 0);
    exit_hook = true;
  }
  SpinLockAcquire(&shared->mutex);
  shared->bridges_listening += listening ? 1 : -1;
  SpinLockRelease(&shared->mutex);
  counted_as_listening = listening;
  // The gate takes the port at once, not at its next look (a listener leaving closes its socket
  // only after this).
  if (!listening) wake_worker(WorkerKind::kBridgeGate);
}

int bridges_listening() {
  if (!shared) return 0;
  SpinLockAcquire(&shared->mutex);
  const int n = shared->bridges_listening;
  SpinLockRelease(&shared->mutex);
  return n;
}

void set_gate_listening(bool listening) {
  if (!shared) return;
  SpinLockAcquire(&shared->mutex);
  shared->gate_listening = listening;
  SpinLockRelease(&shared->mutex);
}

bool gate_listening() {
  if (!shared) return false;
  SpinLockAcquire(&shared->mutex);
  const bool g = shared->gate_listening;
  SpinLockRelease(&shared->mutex);
  return g;
}

void store_cached_token(const CachedToken& t) {
  if (!shared || t.token.size() >= kTokenCapacity) return;
  SpinLockAcquire(&shared->mutex);
  memset(shared->token, 0, kTokenCapacity);
  memcpy(shared->token, t.token.data(), t.token.size());
  shared->token_obtained_at_ms = t.obtained_at_ms;
  shared->token_expires_in_s = t.expires_in_s;
  shared->token_generation = t.generation;
  SpinLockRelease(&shared->mutex);
}

void publish_rate_limits(const std::vector<RateLimitState>& kinds, int64_t now_ms) {
  if (!shared) return;
  SharedRate copy[kMaxRateLimitKinds] = {};
  const int n = static_cast<int>(std::min<size_t>(kinds.size(), kMaxRateLimitKinds));
  for (int i = 0; i < n; ++i) {
    const RateLimitState& k = kinds[static_cast<size_t>(i)];
    strlcpy(copy[i].kind, k.kind.c_str(), kKindCapacity);
    copy[i].configured_per_s = k.configured_per_s;
    copy[i].current_per_s = k.current_per_s;
    copy[i].throttles = k.throttles;
    copy[i].last_throttle_ms = k.last_throttle_ms;
  }
  SpinLockAcquire(&shared->mutex);
  memcpy(shared->rates, copy, sizeof copy);
  shared->rate_count = n;
  shared->rates_published_ms = now_ms;
  SpinLockRelease(&shared->mutex);
}

std::vector<RateLimitState> load_rate_limits(int64_t* published_ms) {
  *published_ms = 0;
  std::vector<RateLimitState> out;
  if (!shared) return out;
  SharedRate copy[kMaxRateLimitKinds];
  SpinLockAcquire(&shared->mutex);
  memcpy(copy, shared->rates, sizeof copy);
  const int n = shared->rate_count;
  *published_ms = shared->rates_published_ms;
  SpinLockRelease(&shared->mutex);
  for (int i = 0; i < n; ++i) {
    copy[i].kind[kKindCapacity - 1] = '\0';
    out.push_back({copy[i].kind, copy[i].configured_per_s, copy[i].current_per_s, copy[i].throttles,
                   copy[i].last_throttle_ms});
  }
  return out;
}

void clear_cached_token(uint64_t generation) {
  if (!shared) return;
  SpinLockAcquire(&shared->mutex);
  if (shared->token_generation == generation) {
    memset(shared->token, 0, kTokenCapacity);
    shared->token_expires_in_s = 0;
  }
  SpinLockRelease(&shared->mutex);
}

}  // namespace abdm_pg
