// Assembles one ABDM document Bundle (NRCES profile DocumentBundle) from the plain HMIS record:
// reads the parts every record type shares (patient, practitioner, facility, visit, document),
// derives deterministic resource ids, collects entries and section members, and writes the
// Composition and the Bundle. The per-type files (op_consult.cpp, ...) say which record fields feed
// which section.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/fhir/record_reader.hpp"
#include "core/fhir/record_types.hpp"

namespace abdm::fhir {

class DocumentBuilder {
 public:
  // Reads the common parts; `type_keys` are the record fields this type adds (anything else in
  // the record is an "unknown field" error).
  DocumentBuilder(const RecordType& type, const nlohmann::json& record, std::initializer_list<std::string_view> type_keys);

  const RecordType& type() const { return type_; }
  Fields& root() { return root_; }

  // Calls fn(value, path) for every element of the optional array record.<key>.
  void each(std::string_view key, const std::function<void(const nlohmann::json&, const std::string&)>& fn);

  // The resource id for the record object `item`: its "id" (a UUID) when given, else a UUIDv5 of
  // the record's digest and the item's path. Reads "id" from `item`.
  std::string id_for(Fields& item);
  // A derived id for a resource that has no record object of its own (Composition, Media, ...).
  std::string derived_id(const std::string& key) const;

  // Appends `resource` (which must carry "id") as a bundle entry; returns its "urn:uuid:" reference.
  // `id_path` names the record field to blame when a caller-given id is used twice.
  std::string add(nlohmann::json resource, const std::string& id_path);
  // Lists `ref` (a resource of `resource_type`) in the section slice `key`.
  void section(std::string_view key, const std::string& ref, const std::string& resource_type);
  bool section_empty(std::string_view key) const;
  // DiagnosticReportRecord: Composition.type and the section code come from the record.
  void set_composition_type(nlohmann::json type) { composition_type_ = std::move(type); }
  void set_section_code(nlohmann::json code) { section_code_ = std::move(code); }

  const std::string& patient() const { return patient_ref_; }
  const std::string& practitioner() const { return practitioner_ref_; }
  const std::string& organization() const { return organization_ref_; }
  const std::string& encounter() const { return encounter_ref_; }  // "" when there is no visit
  const std::string& date() const { return date_; }                // document.date
  // The Encounter resource (to add diagnoses) or nullptr.
  nlohmann::json* encounter_resource();

  // Writes the Composition and returns the Bundle.
  nlohmann::json finish();

 private:
  void read_document();
  void read_patient();
  void read_practitioner();
  void read_facility();
  void read_visit();

  const RecordType& type_;
  Fields root_;
  std::string seed_;
  std::vector<nlohmann::json> entries_;  // Composition is inserted first by finish()
  std::set<std::string> ids_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>, std::less<>> sections_;
  std::optional<nlohmann::json> composition_type_, section_code_;
  std::string bundle_id_, date_, title_, status_, version_;
  std::string patient_ref_, practitioner_ref_, organization_ref_, encounter_ref_;
  size_t encounter_index_ = 0;
};

// {"reference": ref}
nlohmann::json reference(const std::string& ref);

}  // namespace abdm::fhir
