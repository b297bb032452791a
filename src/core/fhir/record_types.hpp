// The eight ABDM record types as the NRCES "FHIR Implementation Guide for ABDM" 6.x profiles them
// (StructureDefinition-<Profile>.json, canonical https://nrces.in/ndhm/fhir/r4/StructureDefinition/):
// the Composition.type each fixes, and its section slices with their fixed SNOMED CT codes and
// displays (or, for WellnessRecord, fixed titles) and the resource types each slice admits.
// One table serves the builders and the checker, so both follow the same reading of the profiles;
// the tests pin the literal codes and run the checker over the IG's own example bundles.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>
#include <vector>

namespace abdm::fhir {

inline constexpr std::string_view kProfileBase = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/";
inline constexpr const char* kSnomed = "http://snomed.info/sct";
inline constexpr const char* kLoinc = "http://loinc.org";
inline constexpr const char* kIcd10 = "http://hl7.org/fhir/sid/icd-10";
inline constexpr const char* kUcum = "http://unitsofmeasure.org";
inline constexpr const char* kV2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203";
inline constexpr const char* kNdhmIdentifierType = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-identifier-type-code";
inline constexpr const char* kNdhmBillingCodes = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes";
inline constexpr const char* kNdhmPriceComponents = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components";

// "https://nrces.in/ndhm/fhir/r4/StructureDefinition/" + name
std::string profile_url(std::string_view name);

struct Coding {
  std::string system, code, display;
};

// One entry slice of a single-section profile (closed slicing on entry.type in 6.x).
struct EntrySlice {
  std::string type;  // entry.type and the resourceType of the target
  int max;           // -1 = unbounded
};

struct SectionSlice {
  std::string key;    // the record field(s) feeding it, and the slice name in the profile
  std::string title;  // title the builders use (WellnessRecord: the fixed title)
  Coding code;        // fixed section code (empty code for WellnessRecord)
  std::vector<std::string> resources;  // allowed entry resource types
};

enum class SectionRule {
  kSlicedByCode,   // OPConsultRecord, DischargeSummaryRecord: 1..* sections, each slice 0..1
  kSlicedByTitle,  // WellnessRecord
  kSingle,         // exactly one section
};

struct RecordType {
  std::string hi_type;    // ABDM hiType: "OPConsultation", ...
  std::string profile;    // Composition profile name: "OPConsultRecord", ...
  std::string title;      // default Composition.title
  Coding type;            // fixed Composition.type coding (empty code: none fixed)
  std::string type_text;  // fixed Composition.type.text (WellnessRecord, InvoiceRecord)
  bool type_snomed_any;   // DiagnosticReportRecord: any SNOMED CT coding with code+display
  bool encounter_required;
  SectionRule rule;
  std::vector<SectionSlice> sections;  // kSliced*: the slices; kSingle: one entry (code may be empty)
  std::vector<EntrySlice> entry_slices;  // kSingle with closed entry.type slicing; else empty
  int max_entries;                       // kSingle: -1 or the profile's entry max (DiagnosticReport: 2)
};

const std::vector<RecordType>& record_types();
// By ABDM hiType ("OPConsultation"); nullptr when unknown.
const RecordType* record_type_by_hi_type(std::string_view hi_type);
// By Composition profile URL (version suffix "|x" ignored); nullptr when none of the eight.
const RecordType* record_type_by_profile(std::string_view url);
// The slice with this key; throws when absent (a builder bug).
const SectionSlice& section_slice(const RecordType& t, std::string_view key);

}  // namespace abdm::fhir
