// DischargeSummary → NRCES DischargeSummaryRecord: type 373942005, code-sliced sections, Encounter.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(DischargeSummary, CompositionTypeAndSections) {
  json b = build_document("DischargeSummary", record("DischargeSummary"));
  const json& c = b["entry"][0]["resource"];
  EXPECT_EQ(c["type"], json::parse(R"({"coding":[{"system":"http://snomed.info/sct","code":"373942005","display":"Discharge summary"}]})"));
  const std::vector<std::pair<std::string, std::string>> want{
      {"422843007", "Chief complaint section"},   {"425044008", "Physical exam section"},
      {"722446000", "Allergy record"},            {"1003642006", "Past medical history section"},
      {"422432008", "Family history section"},    {"721981007", "Diagnostic studies report"},
      {"1003606003", "Medication history section"}, {"1003640003", "History of past procedure section"},
      {"734163000", "Care plan"},                 {"373942005", "Discharge summary"}};
  ASSERT_EQ(c["section"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(c["section"][i]["code"]["coding"][0]["code"], want[i].first);
    EXPECT_EQ(c["section"][i]["code"]["coding"][0]["display"], want[i].second);
  }
  // Investigations: one imaging and one lab DiagnosticReport.
  ASSERT_EQ(c["section"][5]["entry"].size(), 2u);
  auto dr = resources(b, "DiagnosticReport");
  ASSERT_EQ(dr.size(), 2u);
  EXPECT_EQ(dr[0]["meta"]["profile"][0], "https://nrces.in/ndhm/fhir/r4/StructureDefinition/DiagnosticReportImaging");
  EXPECT_EQ(dr[1]["meta"]["profile"][0], "https://nrces.in/ndhm/fhir/r4/StructureDefinition/DiagnosticReportLab");
  EXPECT_EQ(dr[0]["conclusionCode"][0]["coding"][0]["code"], "233604007");
}

TEST(DischargeSummary, InpatientEncounterAndIcd10Diagnosis) {
  json b = build_document("DischargeSummary", record("DischargeSummary"));
  auto enc = resources(b, "Encounter");
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(enc[0]["class"], json::parse(R"({"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP","display":"inpatient encounter"})"));
  EXPECT_EQ(enc[0]["period"]["end"], "2024-03-14T12:00:00+05:30");
  std::string diag = enc[0]["diagnosis"][0]["condition"]["reference"];
  bool found = false;
  for (const auto& cond : resources(b, "Condition"))
    if ("urn:uuid:" + cond["id"].get<std::string>() == diag) {
      found = true;
      EXPECT_EQ(cond["code"]["coding"][0]["system"], "http://hl7.org/fhir/sid/icd-10");
      EXPECT_EQ(cond["code"]["coding"][0]["code"], "J18.9");
    }
  EXPECT_TRUE(found);
  auto plan = resources(b, "CarePlan");
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0]["period"]["end"], "2024-04-11");
  EXPECT_EQ(plan[0]["intent"], "plan");
}

TEST(DischargeSummary, Errors) {
  json r = record("DischargeSummary");
  r.erase("visit");
  EXPECT_EQ(error_of([&] { build_document("DischargeSummary", r); }),
            "record.visit: required (the DischargeSummaryRecord profile requires Composition.encounter)");
  r = record("DischargeSummary");
  r["care_plan"][0].erase("description");
  EXPECT_EQ(error_of([&] { build_document("DischargeSummary", r); }), "record.care_plan[0].description: required");
  r = record("DischargeSummary");
  r["family_history"][0]["conditions"] = json::array();
  EXPECT_EQ(error_of([&] { build_document("DischargeSummary", r); }), "record.family_history[0].conditions: required (at least one condition)");
  r = record("DischargeSummary");
  r["diagnoses"][0]["code"]["system"] = "http://example.org/codes";
  EXPECT_EQ(error_of([&] { build_document("DischargeSummary", r); }).rfind("record.diagnoses[0].code.system: must be http://snomed.info/sct or http://hl7.org/fhir/sid/icd-10", 0), 0u);
  r = record("DischargeSummary");
  r["visit"]["end"] = "2024-03-14 12:00";
  EXPECT_EQ(error_of([&] { build_document("DischargeSummary", r); }).rfind("record.visit.end: must be a date", 0), 0u);
  r = record("DischargeSummary");
  r["allergies"][0].erase("clinical_status");
  EXPECT_EQ(error_of([&] { build_document("DischargeSummary", r); }), "record.allergies[0].clinical_status: required");
}

}  // namespace
}  // namespace abdm::fhir::testing
