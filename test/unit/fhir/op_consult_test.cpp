// OPConsultation → NRCES OPConsultRecord: type 371530004, code-sliced sections, Encounter required.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

const json& composition(const json& b) { return b["entry"][0]["resource"]; }

TEST(OpConsult, CompositionTypeAndSectionsFollowTheProfile) {
  json b = build_document("OPConsultation", record("OPConsultation"));
  const json& c = composition(b);
  EXPECT_EQ(c["type"], json::parse(R"({"coding":[{"system":"http://snomed.info/sct","code":"371530004","display":"Clinical consultation report"}]})"));
  EXPECT_EQ(c["title"], "OP Consultation - General Medicine");
  // Section code + display per slice of StructureDefinition-OPConsultRecord (6.x), in slice order.
  const std::vector<std::pair<std::string, std::string>> want{
      {"422843007", "Chief complaint section"}, {"425044008", "Physical exam section"},
      {"722446000", "Allergy record"},          {"371529009", "History and physical report"},
      {"422432008", "Family history section"},  {"721963009", "Order document"},
      {"721912009", "Medication summary document"}, {"390906007", "Follow-up encounter"},
      {"371525003", "Clinical procedure report"}, {"306206005", "Referral to service"},
      {"404684003", "Clinical finding"},        {"371530004", "Clinical consultation report"}};
  ASSERT_EQ(c["section"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const json& coding = c["section"][i]["code"]["coding"];
    ASSERT_EQ(coding.size(), 1u);
    EXPECT_EQ(coding[0]["system"], "http://snomed.info/sct");
    EXPECT_EQ(coding[0]["code"], want[i].first);
    EXPECT_EQ(coding[0]["display"], want[i].second);
  }
  // Medications holds the prescribed MedicationRequest and the current MedicationStatement.
  EXPECT_EQ(c["section"][6]["entry"][0]["type"], "MedicationRequest");
  EXPECT_EQ(c["section"][6]["entry"][1]["type"], "MedicationStatement");
  EXPECT_EQ(c["section"][0]["entry"].size(), 2u);
}

TEST(OpConsult, EncounterAndDiagnoses) {
  json b = build_document("OPConsultation", record("OPConsultation"));
  auto enc = resources(b, "Encounter");
  ASSERT_EQ(enc.size(), 1u);
  EXPECT_EQ(composition(b)["encounter"]["reference"], "urn:uuid:" + enc[0]["id"].get<std::string>());
  EXPECT_EQ(enc[0]["class"]["code"], "AMB");
  EXPECT_EQ(enc[0]["status"], "finished");
  EXPECT_EQ(enc[0]["identifier"][0]["value"], "OPD-2024-000871");
  ASSERT_EQ(enc[0]["diagnosis"].size(), 1u);
  // the diagnosis Condition is in the bundle but in no section (OPConsultRecord has no diagnosis slice)
  std::string diag = enc[0]["diagnosis"][0]["condition"]["reference"];
  for (const auto& s : composition(b)["section"])
    for (const auto& e : s["entry"]) EXPECT_NE(e["reference"], diag);
}

TEST(OpConsult, ClinicalContent) {
  json b = build_document("OPConsultation", record("OPConsultation"));
  auto obs = resources(b, "Observation");
  ASSERT_EQ(obs.size(), 3u);
  EXPECT_EQ(obs[0]["valueQuantity"], json::parse(R"({"value":38.6,"unit":"degC","system":"http://unitsofmeasure.org","code":"Cel"})"));
  EXPECT_EQ(obs[0]["interpretation"][0]["coding"][0]["code"], "H");
  EXPECT_EQ(obs[1]["referenceRange"][0]["low"]["value"], 60);
  auto mr = resources(b, "MedicationRequest");
  ASSERT_EQ(mr.size(), 1u);
  EXPECT_EQ(mr[0]["dosageInstruction"][0]["text"], "1 tablet three times a day after food for 3 days");
  EXPECT_EQ(mr[0]["authoredOn"], "2024-03-14T10:35:00+05:30");
  auto appt = resources(b, "Appointment");
  ASSERT_EQ(appt.size(), 1u);
  EXPECT_EQ(appt[0]["start"], "2024-03-21T10:00:00+05:30");
  auto allergy = resources(b, "AllergyIntolerance");
  EXPECT_EQ(allergy[0]["reaction"][0]["manifestation"][0]["coding"][0]["code"], "126485001");
}

TEST(OpConsult, VisitIsRequired) {
  json r = record("OPConsultation");
  r.erase("visit");
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }),
            "record.visit: required (the OPConsultRecord profile requires Composition.encounter)");
}

TEST(OpConsult, NeedsSomeSection) {
  json r = record("OPConsultation", true);
  r.erase("chief_complaints");
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }).rfind("record: the OPConsultRecord profile needs at least one section entry", 0), 0u);
}

TEST(OpConsult, ItemErrorsNameTheItem) {
  json r = record("OPConsultation");
  r["medications"][0]["code"]["system"] = "loinc";
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }).rfind("record.medications[0].code.system: must be http://snomed.info/sct", 0), 0u);
  r = record("OPConsultation");
  r["chief_complaints"][1].erase("code");
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }), "record.chief_complaints[1].code: required");
  r = record("OPConsultation");
  r["allergies"][0]["severity"] = "high";
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }), "record.allergies[0].severity: unknown field");
  r = record("OPConsultation");
  r["follow_up"][0].erase("end");
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }), "record.follow_up[0].end: required");
  r = record("OPConsultation");
  r["visit"]["class"] = "OPD";
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }).rfind("record.visit.class: must be a v3-ActCode", 0), 0u);
  r = record("OPConsultation");
  r["physical_examination"][0]["value"] = "38.6";  // a string value cannot carry a unit
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }), "record.physical_examination[0].unit: only a numeric value has a unit");
  r = record("OPConsultation");
  r["attachments"][0]["data"] = "QUJD";  // base64 of "ABC": not a PDF
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }).rfind("record.attachments[0].data: is not a PDF", 0), 0u);
  r = record("OPConsultation");
  r["attachments"][0]["data"] = "%PDF-1.4";
  EXPECT_EQ(error_of([&] { build_document("OPConsultation", r); }).rfind("record.attachments[0].data: is not base64", 0), 0u);
}

}  // namespace
}  // namespace abdm::fhir::testing
