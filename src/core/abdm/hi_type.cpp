#include "core/abdm/hi_type.hpp"
#include "core/abdm/text.hpp"

#include <cctype>

#include "core/util/error.hpp"

namespace abdm::proto {
namespace {
std::string squash(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '_' || c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}
}  // namespace

std::optional<std::string_view> canonical_hi_type(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  const std::string key = squash(text);
  for (std::string_view t : kHiTypes)
    if (squash(t) == key) return t;
  return std::nullopt;
}

std::string require_hi_type(std::string_view text, const std::string& field) {
  if (auto t = canonical_hi_type(text)) return std::string(*t);
  throw Error(sqlstate::kInvalidParameter, field,
              "unknown HI type \"" + utf8_clip(text, 64) +
                  "\" (expected one of OPConsultation, Prescription, DischargeSummary, "
                  "DiagnosticReport, ImmunizationRecord, HealthDocumentRecord, WellnessRecord, Invoice)");
}

std::size_t hi_type_rank(std::string_view canonical) {
  for (std::size_t i = 0; i < kHiTypes.size(); ++i)
    if (kHiTypes[i] == canonical) return i;
  return kHiTypes.size();
}

}  // namespace abdm::proto
