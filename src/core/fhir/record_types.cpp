#include "core/fhir/record_types.hpp"

#include "core/util/error.hpp"

namespace abdm::fhir {

std::string profile_url(std::string_view name) { return std::string(kProfileBase) + std::string(name); }

namespace {

Coding sct(const char* code, const char* display) { return {kSnomed, code, display}; }

std::vector<RecordType> make_table() {
  std::vector<RecordType> t;
  // OPConsultRecord.fsh / StructureDefinition-OPConsultRecord.json (6.x): Composition.type fixed to
  // SNOMED 371530004; section sliced by code.coding.code, openAtEnd, every slice 0..1.
  t.push_back({"OPConsultation", "OPConsultRecord", "Consultation Report", sct("371530004", "Clinical consultation report"), "", false, true,
               SectionRule::kSlicedByCode,
               {
                   {"chief_complaints", "Chief complaints", sct("422843007", "Chief complaint section"), {"Condition"}},
                   {"physical_examination", "Physical examination", sct("425044008", "Physical exam section"), {"Observation"}},
                   {"allergies", "Allergies", sct("722446000", "Allergy record"), {"AllergyIntolerance"}},
                   {"medical_history", "Medical history", sct("371529009", "History and physical report"), {"Condition", "Procedure"}},
                   {"family_history", "Family history", sct("422432008", "Family history section"), {"FamilyMemberHistory"}},
                   {"investigation_advice", "Investigation advice", sct("721963009", "Order document"), {"ServiceRequest"}},
                   {"medications", "Medications", sct("721912009", "Medication summary document"), {"MedicationStatement", "MedicationRequest"}},
                   // 6.x FollowUp slice; IG 2.0.1 used 736271009 "Outpatient care plan" (outside the 6.x slices).
                   {"follow_up", "Follow up", sct("390906007", "Follow-up encounter"), {"Appointment"}},
                   {"procedures", "Procedure", sct("371525003", "Clinical procedure report"), {"Procedure"}},
                   {"referrals", "Referral", sct("306206005", "Referral to service"), {"ServiceRequest"}},
                   {"other_observations", "Other observations", sct("404684003", "Clinical finding"), {"Observation"}},
                   {"attachments", "Document reference", sct("371530004", "Clinical consultation report"), {"DocumentReference"}},
               },
               {}, -1});
  // PrescriptionRecord: one section fixed to 440545006; entries closed-sliced by type:
  // MedicationRequest 0..*, Binary 0..1.
  t.push_back({"Prescription", "PrescriptionRecord", "Prescription", sct("440545006", "Prescription record"), "", false, false,
               SectionRule::kSingle,
               {{"prescription", "Prescription", sct("440545006", "Prescription record"), {"MedicationRequest", "Binary"}}},
               {{"MedicationRequest", -1}, {"Binary", 1}}, -1});
  // DiagnosticReportRecord: type is any SNOMED coding (preferred ValueSet ndhm-diagnostic-report-type);
  // one section, any SNOMED code; entries 1..2 sliced by type: DiagnosticReport 0..1, DocumentReference 0..1.
  t.push_back({"DiagnosticReport", "DiagnosticReportRecord", "Diagnostic Report", {}, "", true, false, SectionRule::kSingle,
               {{"report", "Diagnostic report", {}, {"DiagnosticReport", "DocumentReference"}}},
               {{"DiagnosticReport", 1}, {"DocumentReference", 1}}, 2});
  // DischargeSummaryRecord: type 373942005, sections sliced by code, every slice 0..1 in 6.x.
  t.push_back({"DischargeSummary", "DischargeSummaryRecord", "Discharge Summary", sct("373942005", "Discharge summary"), "", false, true,
               SectionRule::kSlicedByCode,
               {
                   {"chief_complaints", "Chief complaints", sct("422843007", "Chief complaint section"), {"Condition"}},
                   {"physical_examination", "Physical examination", sct("425044008", "Physical exam section"), {"Observation"}},
                   {"allergies", "Allergies", sct("722446000", "Allergy record"), {"AllergyIntolerance"}},
                   {"medical_history", "Medical history", sct("1003642006", "Past medical history section"), {"Condition", "Procedure"}},
                   {"family_history", "Family history", sct("422432008", "Family history section"), {"FamilyMemberHistory"}},
                   {"investigations", "Investigations", sct("721981007", "Diagnostic studies report"), {"DiagnosticReport"}},
                   {"medications", "Medications", sct("1003606003", "Medication history section"), {"MedicationRequest"}},
                   {"procedures", "Procedures", sct("1003640003", "History of past procedure section"), {"Procedure"}},
                   {"care_plan", "Care plan", sct("734163000", "Care plan"), {"CarePlan"}},
                   {"attachments", "Document reference", sct("373942005", "Discharge summary"), {"DocumentReference"}},
               },
               {}, -1});
  // ImmunizationRecord: one section fixed to 41000179103; entries closed-sliced by type.
  t.push_back({"ImmunizationRecord", "ImmunizationRecord", "Immunization Record", sct("41000179103", "Immunization record"), "", false, false,
               SectionRule::kSingle,
               {{"immunizations", "Immunization record", sct("41000179103", "Immunization record"),
                 {"Immunization", "ImmunizationRecommendation", "DocumentReference"}}},
               {{"Immunization", -1}, {"ImmunizationRecommendation", 1}, {"DocumentReference", -1}}, -1});
  // HealthDocumentRecord: one section fixed to 419891008, entries 1..* DocumentReference (not sliced).
  t.push_back({"HealthDocumentRecord", "HealthDocumentRecord", "Health Document", sct("419891008", "Record artifact"), "", false, false,
               SectionRule::kSingle,
               {{"attachments", "Health document", sct("419891008", "Record artifact"), {"DocumentReference"}}}, {}, -1});
  // WellnessRecord: type.text fixed "Wellness Record"; sections sliced by exact title.
  t.push_back({"WellnessRecord", "WellnessRecord", "Wellness Record", {}, "Wellness Record", false, false, SectionRule::kSlicedByTitle,
               {
                   {"vital_signs", "Vital Signs", {}, {"Observation"}},
                   {"body_measurements", "Body Measurement", {}, {"Observation"}},
                   {"physical_activities", "Physical Activity", {}, {"Observation"}},
                   {"general_assessments", "General Assessment", {}, {"Observation"}},
                   {"women_health", "Women Health", {}, {"Observation"}},
                   {"lifestyle", "Lifestyle", {}, {"Observation"}},
                   {"other_observations", "Other Observations", {}, {"Observation", "Condition"}},
                   {"attachments", "Document Reference", {}, {"DocumentReference"}},
               },
               {}, -1});
  // InvoiceRecord (6.x only): type.text fixed "Invoice Record"; one uncoded section whose entries
  // are closed-sliced by type with a single Invoice slice 0..1 (so exactly one Invoice).
  t.push_back({"Invoice", "InvoiceRecord", "Invoice", {}, "Invoice Record", false, false, SectionRule::kSingle,
               {{"invoice", "Invoice", {}, {"Invoice"}}}, {{"Invoice", 1}}, -1});
  return t;
}

}  // namespace

const std::vector<RecordType>& record_types() {
  static const std::vector<RecordType> table = make_table();
  return table;
}

const RecordType* record_type_by_hi_type(std::string_view hi_type) {
  for (const auto& t : record_types())
    if (t.hi_type == hi_type) return &t;
  return nullptr;
}

const RecordType* record_type_by_profile(std::string_view url) {
  url = url.substr(0, url.find('|'));
  for (const auto& t : record_types())
    if (profile_url(t.profile) == url) return &t;
  return nullptr;
}

const SectionSlice& section_slice(const RecordType& t, std::string_view key) {
  for (const auto& s : t.sections)
    if (s.key == key) return s;
  throw Error(sqlstate::kInternal, std::string(key), "no such section in " + t.profile);
}

}  // namespace abdm::fhir
