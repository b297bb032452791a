// The eight health-information types of ABDM V3: the seven of the v0.5 `HITypeEnum`
// (ndhm-hip.yml) plus Invoice (NHA integrator FAQ v1.4: "all 8 HI types are mandatory").
// V3 validation messages spell them upper-case (PRESCRIPTION, OPCONSULTATION, ...) while examples
// use CamelCase (NHA M2 v2.8 §4.3.3, §6.3.1); we accept any case and always send CamelCase.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace abdm::proto {

inline constexpr std::array<std::string_view, 8> kHiTypes = {
    "OPConsultation", "Prescription",        "DischargeSummary", "DiagnosticReport",
    "ImmunizationRecord", "HealthDocumentRecord", "WellnessRecord", "Invoice"};

// The CamelCase name for `text` compared case-insensitively, ignoring '_', '-' and spaces
// ("OPCONSULTATION", "op_consultation" → "OPConsultation"); nullopt when unknown.
std::optional<std::string_view> canonical_hi_type(std::string_view text);

// As above, but throws abdm::Error(22023, field, ...) for an unknown type.
std::string require_hi_type(std::string_view text, const std::string& field);

// Position in kHiTypes (the order in which grouped answers list HI types).
std::size_t hi_type_rank(std::string_view canonical);

}  // namespace abdm::proto
