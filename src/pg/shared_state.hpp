// The little state the extension's processes share: where each worker's latch is (so a commit
// that queued work can wake it) and the gateway session token (so every worker uses one session
// instead of creating its own). Per-process handles — curl, sockets — never live here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abdm_pg {

enum class WorkerKind : int { kSender = 0, kTransfer = 1, kBridge = 2, kBridgeGate = 3, kCount = 4 };

// Called from _PG_init while shared_preload_libraries is being processed.
void install_shared_state_hooks();

// This process is worker `kind`: commits that queue its work set this process's latch.
void advertise_worker_latch(WorkerKind kind);
void withdraw_worker_latch(WorkerKind kind);
// Sets the latch of worker `kind` if it is running (cheap; safe from any backend).
void wake_worker(WorkerKind kind);
// Arranges wake_worker(kind) at the commit of the current transaction (once per transaction).
void wake_worker_at_commit(WorkerKind kind);
// Whether the library was preloaded (shared state exists).
bool shared_state_available();

// Listener workers that are taking the gateway's calls (worker_bridge.cpp). While there are none
// (the server is starting or recovering, a listener is restarting), the gate answers 503 on the
// port (worker_bridge_gate.cpp). A process counts itself at most once; it stops counting when it
// exits.
void set_bridge_listening(bool listening);
int bridges_listening();
void set_gate_listening(bool listening);
bool gate_listening();

// The cached gateway session token. Empty token = none cached.
struct CachedToken {
  std::string token;
  int64_t obtained_at_ms = 0;
  int64_t expires_in_s = 0;
  uint64_t generation = 0;
};
CachedToken load_cached_token();
void store_cached_token(const CachedToken& t);
void clear_cached_token(uint64_t generation);

// The sender's outbound rate limits as it last published them (the view abdm_hip.rate_limits):
// its token buckets live in its own memory, so a DBA watching a history backfill could otherwise
// see a halved rate only in the server log. Times are Unix milliseconds, 0 = never.
struct RateLimitState {
  std::string kind;  // the outbox kind of the endpoint (generate_token, ...)
  double configured_per_s = 0;  // 0 = unlimited
  double current_per_s = 0;
  int64_t throttles = 0;  // throttle answers (429, ABDM-1022) since the sender started
  int64_t last_throttle_ms = 0;
};
constexpr int kMaxRateLimitKinds = 8;
// At most kMaxRateLimitKinds kinds, names cut at 31 bytes.
void publish_rate_limits(const std::vector<RateLimitState>& kinds, int64_t now_ms);
// What was last published and when (*published_ms 0: nothing since the server started).
std::vector<RateLimitState> load_rate_limits(int64_t* published_ms);

}  // namespace abdm_pg
