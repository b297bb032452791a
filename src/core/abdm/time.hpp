// ISO-8601 instants as ABDM writes them: UTC, milliseconds, trailing `Z`
// (e.g. 2024-05-20T11:29:27.358Z — NHA "Sandbox Documentation (ABDM Milestone 2)" v2.8, header
// tables of every V3 API; v0.5 `TimestampSchema` in ndhm-hip.yml).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <chrono>
#include <string>
#include <string_view>

namespace abdm::proto {

// Millisecond precision is all the protocol carries.
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

enum class TimestampMode {
  // V3 TIMESTAMP header: `YYYY-MM-DDTHH:MM:SS[.fff]Z` — UTC designator required, fraction of
  // 1..9 digits optional (kept to milliseconds).
  kStrictUtc,
  // Body fields (dateRange, expiry, dataEraseAt, createdAt): as strict, but an explicit offset
  // (`+05:30`) is honoured, a missing zone is read as UTC (the reference gateway parses them as
  // local date-times without offset), and a bare date `YYYY-MM-DD` means 00:00 UTC.
  kLenient,
};

// Parses `text`; throws abdm::Error(22007-ish invalid parameter, field, reason) when malformed.
TimePoint parse_timestamp(std::string_view text, const std::string& field,
                          TimestampMode mode = TimestampMode::kLenient);

// `2024-05-20T11:29:27.358Z` — always three fraction digits and `Z`.
std::string format_timestamp(TimePoint t);

// The current time truncated to milliseconds.
TimePoint now_utc();

}  // namespace abdm::proto
