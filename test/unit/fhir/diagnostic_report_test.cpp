// DiagnosticReport → NRCES DiagnosticReportRecord with DiagnosticReportLab / DiagnosticReportImaging.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(DiagnosticReport, LabRecord) {
  json b = build_document("DiagnosticReport", record("DiagnosticReport"));
  const json& c = b["entry"][0]["resource"];
  const json hematology = json::parse(R"({"coding":[{"system":"http://snomed.info/sct","code":"4321000179101","display":"Hematology report"}]})");
  EXPECT_EQ(c["type"], hematology);
  ASSERT_EQ(c["section"].size(), 1u);
  EXPECT_EQ(c["section"][0]["code"], hematology);
  ASSERT_EQ(c["section"][0]["entry"].size(), 2u);
  EXPECT_EQ(c["section"][0]["entry"][0]["type"], "DiagnosticReport");
  EXPECT_EQ(c["section"][0]["entry"][1]["type"], "DocumentReference");
  auto dr = resources(b, "DiagnosticReport");
  ASSERT_EQ(dr.size(), 1u);
  EXPECT_EQ(dr[0]["meta"]["profile"][0], "https://nrces.in/ndhm/fhir/r4/StructureDefinition/DiagnosticReportLab");
  EXPECT_EQ(dr[0]["code"]["coding"][0]["system"], "http://loinc.org");
  EXPECT_EQ(dr[0]["result"].size(), 3u);
  EXPECT_EQ(dr[0]["conclusion"], "Mild anaemia; leukocytosis.");
  EXPECT_EQ(dr[0]["issued"], "2024-03-15T17:00:00+05:30");
  auto obs = resources(b, "Observation");
  ASSERT_EQ(obs.size(), 3u);
  EXPECT_EQ(obs[0]["referenceRange"][0], json::parse(R"({"low":{"value":13,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"},
                                                          "high":{"value":17,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"}})"));
  EXPECT_EQ(obs[0]["interpretation"][0]["coding"][0]["display"], "Low");
}

TEST(DiagnosticReport, ImagingRecordDefaultsToDiagnosticStudiesReport) {
  json b = build_document("DiagnosticReport", record("DiagnosticReport", true));
  const json& c = b["entry"][0]["resource"];
  EXPECT_EQ(c["type"]["coding"][0]["code"], "721981007");
  EXPECT_EQ(c["type"]["coding"][0]["display"], "Diagnostic studies report");
  auto dr = resources(b, "DiagnosticReport");
  EXPECT_EQ(dr[0]["meta"]["profile"][0], "https://nrces.in/ndhm/fhir/r4/StructureDefinition/DiagnosticReportImaging");
  auto media = resources(b, "Media");
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(dr[0]["media"][0]["link"]["reference"], "urn:uuid:" + media[0]["id"].get<std::string>());
  EXPECT_EQ(dr[0]["issued"], "2024-03-15T17:20:00+05:30");  // the document date when not given
}

TEST(DiagnosticReport, Errors) {
  json r = record("DiagnosticReport");
  r["report"].erase("results");
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }), "record.report.results: required for a lab report (DiagnosticReportLab: result 1..*)");
  r = record("DiagnosticReport", true);
  r["report"].erase("media");
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }), "record.report.media: required for an imaging report (DiagnosticReportImaging: media 1..*)");
  r = record("DiagnosticReport");
  r["report"].erase("conclusion");
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }), "record.report.conclusion: required");
  r = record("DiagnosticReport");
  r["report"]["kind"] = "pathology";
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }), "record.report.kind: must be one of lab, imaging (got \"pathology\")");
  r = record("DiagnosticReport");
  r["report"]["code"]["system"] = "snomed";
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }).rfind("record.report.code.system: must be http://loinc.org", 0), 0u);
  r = record("DiagnosticReport");
  r["report"]["results"][1]["code"]["system"] = "icd10";
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }).rfind("record.report.results[1].code.system: must be http://snomed.info/sct or http://loinc.org", 0), 0u);
  r = record("DiagnosticReport");
  r["report_type"] = "Haematology";
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }).rfind("record.report_type.code: required", 0), 0u);
  r = record("DiagnosticReport");
  r.erase("report");
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }), "record.report: required");
  r = record("DiagnosticReport");
  r["attachments"].push_back(r["attachments"][0]);
  EXPECT_EQ(error_of([&] { build_document("DiagnosticReport", r); }), "record.attachments: at most one element (DiagnosticReportRecord: DocumentReference 0..1)");
}

}  // namespace
}  // namespace abdm::fhir::testing
