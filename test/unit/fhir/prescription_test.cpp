// Prescription → NRCES PrescriptionRecord: type and single section 440545006, entries
// MedicationRequest 0..* and Binary 0..1 with entry.type.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(Prescription, CompositionTypeAndSection) {
  json b = build_document("Prescription", record("Prescription"));
  const json& c = b["entry"][0]["resource"];
  const json code = json::parse(R"({"coding":[{"system":"http://snomed.info/sct","code":"440545006","display":"Prescription record"}]})");
  EXPECT_EQ(c["type"], code);
  ASSERT_EQ(c["section"].size(), 1u);
  EXPECT_EQ(c["section"][0]["code"], code);
  std::vector<std::string> types;
  for (const auto& e : c["section"][0]["entry"]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"MedicationRequest", "MedicationRequest", "Binary"}));
  EXPECT_FALSE(c.contains("encounter") && resources(b, "Encounter").empty());
}

TEST(Prescription, MedicationRequests) {
  json b = build_document("Prescription", record("Prescription"));
  auto mr = resources(b, "MedicationRequest");
  ASSERT_EQ(mr.size(), 2u);
  EXPECT_EQ(mr[0]["medicationCodeableConcept"]["coding"][0]["code"], "322236009");
  EXPECT_EQ(mr[0]["intent"], "order");
  EXPECT_EQ(mr[0]["requester"]["reference"], b["entry"][2]["fullUrl"]);
  EXPECT_EQ(mr[1]["medicationCodeableConcept"], json::parse(R"({"text":"Azithromycin 500 mg tablet"})"));
  EXPECT_EQ(mr[1]["authoredOn"], "2024-03-14T10:38:00+05:30");
  EXPECT_EQ(mr[1]["note"][0]["text"], "Complete the course");
  auto bin = resources(b, "Binary");
  ASSERT_EQ(bin.size(), 1u);
  EXPECT_EQ(bin[0]["contentType"], "application/pdf");
}

TEST(Prescription, Errors) {
  json r = record("Prescription", true);
  r.erase("medications");
  EXPECT_EQ(error_of([&] { build_document("Prescription", r); }), "record.medications: required (a prescription needs medications or an attachment)");
  r = record("Prescription");
  r["attachments"].push_back(r["attachments"][0]);
  EXPECT_EQ(error_of([&] { build_document("Prescription", r); }), "record.attachments: at most one element (PrescriptionRecord: Binary 0..1)");
  r = record("Prescription");
  r["attachments"][0]["title"] = "Rx";
  EXPECT_EQ(error_of([&] { build_document("Prescription", r); }), "record.attachments[0].title: unknown field");
  r = record("Prescription");
  r["medications"][1].erase("dosage");
  EXPECT_EQ(error_of([&] { build_document("Prescription", r); }), "record.medications[1].dosage: required");
}

}  // namespace
}  // namespace abdm::fhir::testing
