// What the sender does between deliveries, apart from delivering: turning the HMIS's link
// requests into gateway calls, the hourly housekeeping, and telling the DBA when gateway calls
// wait for a client id. Each runs in a short transaction of its own.
#pragma once

#include <chrono>

namespace abdm_pg {

// Link requests the HMIS's inserts recorded become gateway calls here, after their commit,
// batched per patient (abdm_hip_internal.dispatch_links), so the HMIS's transaction stays short. Returns
// true when it took a full batch (more are probably waiting).
bool dispatch_link_requests();

class SenderChores {
 public:
  // Hourly: history past abdm_hip.retention_days goes, consents past dataEraseAt end as EXPIRED
  // even when no notice arrives (abdm-docs "Store consent artefacts").
  void housekeeping();
  // Without a client id, gateway calls stay queued untouched (the claim skips them); the log says
  // so every five minutes while any are due, since nothing else would tell the DBA.
  void warn_unconfigured();
  // Every second: calls whose callback is overdue are sent again or given up
  // (abdm_hip_internal.follow_up_unanswered). Returns true when it found any.
  bool follow_up_unanswered();
  // The hospital's history (abdm_hip.announce_history) becomes link calls here, at history
  // priority, while fewer than max_backlog of them wait in the outbox: checked when woken (an
  // announcement's commit) and every two seconds, and every kHistoryEveryMs while work is queued.
  void dispatch_history(bool woken, int max_backlog);
  bool history_active() const noexcept { return history_active_; }
  static constexpr long kHistoryEveryMs = 200;

 private:
  std::chrono::steady_clock::time_point next_follow_up_{};
  std::chrono::steady_clock::time_point next_housekeeping_{};
  std::chrono::steady_clock::time_point next_unconfigured_warning_{};
  std::chrono::steady_clock::time_point next_history_{};
  bool history_active_ = true;  // unknown at start: look
};

}  // namespace abdm_pg
