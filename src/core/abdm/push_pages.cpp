#include "core/abdm/push_pages.hpp"

#include <algorithm>

namespace abdm::proto {

std::vector<PlannedPage> plan_pages(const std::vector<std::uint64_t>& record_bytes, PageLimits limits) {
  const std::size_t per_page = std::max<std::size_t>(1, limits.max_entries);
  std::vector<PlannedPage> pages;
  PlannedPage open;
  for (std::size_t i = 0; i < record_bytes.size(); ++i) {
    const std::uint64_t size = record_bytes[i];
    const bool over = limits.max_bytes > 0 && size > limits.max_bytes;
    const bool full = open.count == per_page ||
                      (limits.max_bytes > 0 && open.count > 0 && open.bytes + size > limits.max_bytes);
    if (open.count > 0 && (full || over)) {
      pages.push_back(open);
      open = PlannedPage{};
    }
    if (open.count == 0) open.first = i;
    open.count++;
    open.bytes += size;
    if (over) {
      open.oversized = true;
      pages.push_back(open);
      open = PlannedPage{};
    }
  }
  if (open.count > 0 || pages.empty()) pages.push_back(open);
  return pages;
}

}  // namespace abdm::proto
