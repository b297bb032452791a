// Which record fields feed which Composition section, per record type. The section codes, titles
// and admitted resource types come from record_types.cpp; the resources from resources.hpp.
#include "core/fhir/concept.hpp"
#include "core/fhir/fhir.hpp"
#include "core/fhir/resources.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

namespace {

using AddFn = std::string (*)(DocumentBuilder&, Item, const std::string&);

// Every element of record.<field> → a resource → an entry of section `slice`.
void fill(DocumentBuilder& b, std::string_view field, std::string_view slice, AddFn add, const char* resource_type) {
  b.each(field, [&](const json& v, const std::string& path) { b.section(slice, add(b, v, path), resource_type); });
}

// record.diagnoses → Conditions listed in Encounter.diagnosis (the NRCES Encounter profile's
// diagnosis.condition), since neither OPConsultRecord nor DischargeSummaryRecord has a diagnosis section.
void diagnoses(DocumentBuilder& b) {
  b.each("diagnoses", [&](const json& v, const std::string& path) {
    std::string ref = add_condition(b, v, path);
    json* enc = b.encounter_resource();
    (*enc)["diagnosis"].push_back(json{{"condition", reference(ref)}});
  });
}

void at_most_one(DocumentBuilder& b, std::string_view field, const char* rule) {
  if (b.root().values(field).size() > 1) throw Error(sqlstate::kInvalidParameter, b.root().at(field), std::string("at most one element (") + rule + ")");
}

// The history-and-examination sections OPConsultRecord and DischargeSummaryRecord share, in the
// profiles' order.
void history_and_examination(DocumentBuilder& b) {
  fill(b, "chief_complaints", "chief_complaints", add_condition, "Condition");
  fill(b, "physical_examination", "physical_examination", [](DocumentBuilder& d, Item v, const std::string& p) { return add_observation(d, v, p); }, "Observation");
  fill(b, "allergies", "allergies", add_allergy, "AllergyIntolerance");
  fill(b, "medical_history", "medical_history", add_condition, "Condition");
  fill(b, "family_history", "family_history", add_family_history, "FamilyMemberHistory");
}

json build_op_consult(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"diagnoses", "chief_complaints", "physical_examination", "allergies", "medical_history", "family_history",
                                "investigation_advice", "medications", "current_medications", "follow_up", "procedures", "referrals",
                                "other_observations", "attachments"});
  diagnoses(b);
  history_and_examination(b);
  fill(b, "investigation_advice", "investigation_advice", add_service_request, "ServiceRequest");
  fill(b, "medications", "medications", add_medication_request, "MedicationRequest");
  fill(b, "current_medications", "medications", add_medication_statement, "MedicationStatement");
  fill(b, "follow_up", "follow_up", add_appointment, "Appointment");
  fill(b, "procedures", "procedures", add_procedure, "Procedure");
  fill(b, "referrals", "referrals", add_service_request, "ServiceRequest");
  fill(b, "other_observations", "other_observations", [](DocumentBuilder& d, Item v, const std::string& p) { return add_observation(d, v, p); }, "Observation");
  fill(b, "attachments", "attachments", add_document_reference, "DocumentReference");
  return b.finish();
}

json build_prescription(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"medications", "attachments"});
  at_most_one(b, "attachments", "PrescriptionRecord: Binary 0..1");
  fill(b, "medications", "prescription", add_medication_request, "MedicationRequest");
  fill(b, "attachments", "prescription", add_binary, "Binary");
  if (b.section_empty("prescription")) throw Error(sqlstate::kNotNull, "record.medications", "required (a prescription needs medications or an attachment)");
  return b.finish();
}

json build_diagnostic_report(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"report_type", "report", "attachments"});
  at_most_one(b, "attachments", "DiagnosticReportRecord: DocumentReference 0..1");
  // Composition.type: any SNOMED CT coding (preferred ValueSet ndhm-diagnostic-report-type);
  // default 721981007 "Diagnostic studies report", as in the IG's examples. The single section
  // carries the same coding (its code is free but must be SNOMED CT).
  json type = concept_of(kSnomed, "721981007", "Diagnostic studies report");
  if (const json* rt = b.root().get("report_type")) {
    type = read_concept(*rt, b.root().at("report_type"), kAllowSnomed, "DiagnosticReportRecord fixes Composition.type.coding.system to SNOMED CT");
    if (!type.contains("coding")) throw Error(sqlstate::kNotNull, b.root().at("report_type") + ".code", "required (Composition.type needs a SNOMED CT code and display)");
  }
  b.set_composition_type(type);
  b.set_section_code(json{{"coding", type["coding"]}});
  std::string ref = add_diagnostic_report(b, b.root().need("report"), b.root().at("report"));
  b.section("report", ref, "DiagnosticReport");
  fill(b, "attachments", "report", add_document_reference, "DocumentReference");
  return b.finish();
}

json build_discharge_summary(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"diagnoses", "chief_complaints", "physical_examination", "allergies", "medical_history", "family_history",
                                "investigations", "medications", "procedures", "care_plan", "attachments"});
  diagnoses(b);
  history_and_examination(b);
  fill(b, "investigations", "investigations", add_diagnostic_report, "DiagnosticReport");
  fill(b, "medications", "medications", add_medication_request, "MedicationRequest");
  fill(b, "procedures", "procedures", add_procedure, "Procedure");
  fill(b, "care_plan", "care_plan", add_care_plan, "CarePlan");
  fill(b, "attachments", "attachments", add_document_reference, "DocumentReference");
  return b.finish();
}

json build_immunization_record(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"immunizations", "attachments"});
  fill(b, "immunizations", "immunizations", add_immunization, "Immunization");
  fill(b, "attachments", "immunizations", add_document_reference, "DocumentReference");
  if (b.section_empty("immunizations")) throw Error(sqlstate::kNotNull, "record.immunizations", "required (an immunization record needs immunizations or an attachment)");
  return b.finish();
}

json build_health_document(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"attachments"});
  fill(b, "attachments", "attachments", add_document_reference, "DocumentReference");
  if (b.section_empty("attachments")) throw Error(sqlstate::kNotNull, "record.attachments", "required (HealthDocumentRecord: DocumentReference 1..*)");
  return b.finish();
}

json build_wellness(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"vital_signs", "body_measurements", "physical_activities", "general_assessments", "women_health", "lifestyle",
                                "other_observations", "attachments"});
  // Each WellnessRecord section slice admits one Observation profile.
  static const std::pair<const char*, const char*> kSlices[] = {
      {"vital_signs", "ObservationVitalSigns"},           {"body_measurements", "ObservationBodyMeasurement"},
      {"physical_activities", "ObservationPhysicalActivity"}, {"general_assessments", "ObservationGeneralAssessment"},
      {"women_health", "ObservationWomenHealth"},         {"lifestyle", "ObservationLifestyle"},
      {"other_observations", "Observation"}};
  // (Not a structured binding: clang before 16 cannot capture one in a lambda, and the fuzz
  // build is clang 14.)
  for (const auto& slice : kSlices) {
    const char* field = slice.first;
    std::string prof = slice.second;
    b.each(field, [&](const json& v, const std::string& path) { b.section(field, add_observation(b, v, path, prof), "Observation"); });
  }
  fill(b, "attachments", "attachments", add_document_reference, "DocumentReference");
  return b.finish();
}

json build_invoice(const RecordType& t, const json& record) {
  DocumentBuilder b(t, record, {"invoice"});
  b.section("invoice", add_invoice(b, b.root().need("invoice"), b.root().at("invoice")), "Invoice");
  return b.finish();
}

}  // namespace

std::vector<std::string> hi_types() {
  std::vector<std::string> out;
  for (const auto& t : record_types()) out.push_back(t.hi_type);
  return out;
}

json build_document(std::string_view hi_type, const json& record) {
  const RecordType* t = record_type_by_hi_type(hi_type);
  if (!t) {
    std::string list;
    for (const auto& n : hi_types()) list += (list.empty() ? "" : ", ") + n;
    throw Error(sqlstate::kInvalidParameter, "hi_type", "must be one of " + list + " (got \"" + std::string(hi_type) + "\")");
  }
  using Builder = json (*)(const RecordType&, const json&);
  static const std::map<std::string, Builder, std::less<>> kBuilders{
      {"OPConsultation", build_op_consult},         {"Prescription", build_prescription},
      {"DiagnosticReport", build_diagnostic_report}, {"DischargeSummary", build_discharge_summary},
      {"ImmunizationRecord", build_immunization_record}, {"HealthDocumentRecord", build_health_document},
      {"WellnessRecord", build_wellness},           {"Invoice", build_invoice}};
  json bundle = kBuilders.find(hi_type)->second(*t, record);
  // The builder's output must pass the same checks a stored bundle must; a failure is our bug.
  for (const Issue& i : check(bundle))
    if (i.severity == "error") throw Error(sqlstate::kInternal, i.path, "built bundle fails its own check: " + i.message);
  return bundle;
}

}  // namespace abdm::fhir
