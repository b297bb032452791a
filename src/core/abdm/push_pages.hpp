// How a transfer's records are split into data pushes (pages). Each page is one POST to the HIU
// with its own pageNumber / pageCount and, in the transfer worker, its own Fidelius key pair and
// nonce: Fidelius has no per-entry nonce, so every entry of one page is encrypted under the same
// AES-GCM key and IV, and two such entries leak the XOR of their plaintexts and the GCM
// authentication key. One entry per page (the default of abdm_hip.push_entries_per_page) never
// uses a (key, IV) pair twice; more per page trades that for fewer pushes.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <cstdint>
#include <vector>

namespace abdm::proto {

struct PageLimits {
  std::size_t max_entries = 1;      // at least 1
  std::uint64_t max_bytes = 0;      // a page's records' stored bytes; 0: no byte limit
};

struct PlannedPage {
  std::size_t first = 0;            // index of the page's first record in the transfer's list
  std::size_t count = 0;            // records on the page (0 only for the one page of an empty transfer)
  std::uint64_t bytes = 0;          // their stored bytes
  bool oversized = false;           // one record alone above max_bytes: sent alone, and logged
};

// Consecutive records, in list order, up to max_entries and max_bytes a page; a record larger than
// max_bytes goes alone on its own page. An empty transfer is one empty page: the HIU still gets
// its push (pageCount 1, no entries) and the gateway its notification.
std::vector<PlannedPage> plan_pages(const std::vector<std::uint64_t>& record_bytes, PageLimits limits);

}  // namespace abdm::proto
