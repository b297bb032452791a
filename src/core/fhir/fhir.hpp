// FHIR R4 document bundles for ABDM health-information types, built from a plain HMIS record
// (docs/fhir-record.md), and the structural checks a bundle must pass before it is stored or sent.
// Profiles: NRCES "FHIR Implementation Guide for ABDM" 6.x, https://nrces.in/ndhm/fhir/r4.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace abdm::fhir {

// The ABDM hiTypes this builds: OPConsultation, Prescription, DiagnosticReport, DischargeSummary,
// ImmunizationRecord, HealthDocumentRecord, WellnessRecord, Invoice.
std::vector<std::string> hi_types();

// The document Bundle for `record`. Deterministic: the same (hi_type, record) gives the same bundle
// (ids are UUIDv5 of the record's digest unless the record gives them; timestamps come from
// record.document.date). Throws abdm::Error naming the field for a missing, unknown or bad field.
nlohmann::json build_document(std::string_view hi_type, const nlohmann::json& record);

struct Issue {
  std::string severity;  // "error" or "warning"
  std::string path;      // FHIRPath-like location, e.g. "Bundle.entry[0].resource.section[2].code"
  std::string message;
};

// ABDM document rules a bundle must meet (see check.cpp for the list and their sources).
std::vector<Issue> check(const nlohmann::json& bundle);
bool has_errors(const std::vector<Issue>& issues);

// The ABDM hiType whose record profile the bundle's first entry (a Composition) names, or "" when
// it names none of the eight. Lets a store check that a bundle is filed under the right HI type.
std::string hi_type_of(const nlohmann::json& bundle);

}  // namespace abdm::fhir
