#include "pg/sender_chores.hpp"

#include <string>

#include "pg/spi.hpp"
#include "pg/worker.hpp"

namespace abdm_pg {

bool dispatch_link_requests() {
  constexpr int kBatch = 500;
  int taken = 0;
  in_transaction("abdm_hip sender: dispatch links", [&] {
    auto rows = spi_query("SELECT abdm_hip_internal.dispatch_links($1::int)", {std::to_string(kBatch)});
    if (!rows.empty() && rows[0][0]) taken = std::stoi(*rows[0][0]);
  });
  return taken == kBatch;
}

void SenderChores::housekeeping() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_housekeeping_) return;
  next_housekeeping_ = now + std::chrono::hours(1);
  in_transaction("abdm_hip sender: housekeeping", [&] {
    spi_query("SELECT abdm_hip.purge_history(), abdm_hip.expire_consents()");
  });
}

bool SenderChores::follow_up_unanswered() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_follow_up_) return false;
  next_follow_up_ = now + std::chrono::seconds(1);
  long handled = 0;
  in_transaction("abdm_hip sender: follow up unanswered calls", [&] {
    auto rows = spi_query_kept("SELECT abdm_hip_internal.follow_up_unanswered(500)");
    if (!rows.empty() && rows[0][0]) handled = std::stol(*rows[0][0]);
  });
  return handled > 0;
}

void SenderChores::dispatch_history(bool woken, int max_backlog) {
  const auto now = std::chrono::steady_clock::now();
  // While history is queued, every kHistoryEveryMs; otherwise only when something woke the sender
  // (an announcement's commit does) or every two seconds.
  if (history_active_ ? now < next_history_ : !woken) return;
  next_history_ = now + std::chrono::milliseconds(kHistoryEveryMs);
  int taken = 0;
  in_transaction("abdm_hip sender: dispatch history", [&] {
    auto rows = spi_query_kept("SELECT abdm_hip_internal.dispatch_history($1::int)", {std::to_string(max_backlog)});
    if (!rows.empty() && rows[0][0]) taken = std::stoi(*rows[0][0]);
  });
  history_active_ = taken >= 0;
}

void SenderChores::warn_unconfigured() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_unconfigured_warning_) return;
  long due = 0;
  in_transaction("abdm_hip sender: check configuration", [&] {
    auto rows = spi_query(
        "SELECT count(*) FROM abdm_hip.outbox WHERE status = 'pending' AND left(target, 1) = '/' "
        "AND next_attempt_at <= now()", {}, true);
    if (!rows.empty() && rows[0][0]) due = std::stol(*rows[0][0]);
  });
  if (due == 0) return;
  next_unconfigured_warning_ = now + std::chrono::minutes(5);
  log_warning("abdm_hip sender: " + std::to_string(due) + " gateway calls are waiting: abdm_hip.client_id is not set");
}

}  // namespace abdm_pg
