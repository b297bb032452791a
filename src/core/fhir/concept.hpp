// Coded values of the record. An HMIS often has only text, sometimes a code: a concept is either a
// string (→ CodeableConcept.text) or {"system", "code", "display", "text"?}. `system` may be an
// alias ("snomed", "loinc", "icd10") or a URI. Where an NRCES profile fixes or slices the coding
// system (e.g. MedicationRequest.medication[x].coding.system = SNOMED CT, Condition.code.coding
// closed-sliced to ICD-10 | SNOMED CT), the builder passes the allowed systems and a coding from
// any other system is refused with the field's path, instead of producing a non-conformant resource.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>

#include <string>

namespace abdm::fhir {

enum AllowedSystems : unsigned {
  kAllowSnomed = 1,
  kAllowLoinc = 2,
  kAllowIcd10 = 4,
  kAllowAny = 0xFFFFu,
};

// CodeableConcept from a concept value at `path`; `why` names the profile rule for the error text.
nlohmann::json read_concept(const nlohmann::json& v, const std::string& path, unsigned allowed = kAllowAny,
                            const char* why = "");

// A Coding object.
nlohmann::json coding(const std::string& system, const std::string& code, const std::string& display);
// A CodeableConcept with one coding (and optional text).
nlohmann::json concept_of(const std::string& system, const std::string& code, const std::string& display,
                          const std::string& text = "");

}  // namespace abdm::fhir
