// ImmunizationRecord → NRCES ImmunizationRecord: type and single section 41000179103.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(ImmunizationRecord, CompositionTypeAndSection) {
  json b = build_document("ImmunizationRecord", record("ImmunizationRecord"));
  const json& c = b["entry"][0]["resource"];
  const json code = json::parse(R"({"coding":[{"system":"http://snomed.info/sct","code":"41000179103","display":"Immunization record"}]})");
  EXPECT_EQ(c["type"], code);
  ASSERT_EQ(c["section"].size(), 1u);
  EXPECT_EQ(c["section"][0]["code"], code);
  std::vector<std::string> types;
  for (const auto& e : c["section"][0]["entry"]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"Immunization", "Immunization", "DocumentReference"}));
}

TEST(ImmunizationRecord, Immunizations) {
  json b = build_document("ImmunizationRecord", record("ImmunizationRecord"));
  auto imm = resources(b, "Immunization");
  ASSERT_EQ(imm.size(), 2u);
  EXPECT_EQ(imm[0]["vaccineCode"]["coding"][0]["code"], "1119305005");
  EXPECT_EQ(imm[0]["occurrenceDateTime"], "2021-06-12T10:20:00+05:30");
  EXPECT_EQ(imm[0]["lotNumber"], "4121Z021");
  EXPECT_EQ(imm[0]["protocolApplied"][0]["doseNumberPositiveInt"], 1);
  EXPECT_EQ(imm[1]["protocolApplied"][0]["doseNumberPositiveInt"], 2);
  EXPECT_EQ(imm[1]["expirationDate"], "2022-03-31");
  EXPECT_EQ(imm[0]["status"], "completed");
}

TEST(ImmunizationRecord, Errors) {
  json r = record("ImmunizationRecord");
  r["immunizations"][0].erase("date");
  EXPECT_EQ(error_of([&] { build_document("ImmunizationRecord", r); }), "record.immunizations[0].date: required");
  r = record("ImmunizationRecord");
  r["immunizations"][0]["dose_number"] = 0;
  EXPECT_EQ(error_of([&] { build_document("ImmunizationRecord", r); }), "record.immunizations[0].dose_number: must be a positive integer or a string");
  r = record("ImmunizationRecord");
  r["immunizations"][1].erase("dose_number");
  EXPECT_EQ(error_of([&] { build_document("ImmunizationRecord", r); }).rfind("record.immunizations[1].dose_number: required with series", 0), 0u);
  r = record("ImmunizationRecord", true);
  r.erase("immunizations");
  EXPECT_EQ(error_of([&] { build_document("ImmunizationRecord", r); }), "record.immunizations: required (an immunization record needs immunizations or an attachment)");
  r = record("ImmunizationRecord");
  r["immunizations"][0]["vaccine"] = "";
  EXPECT_EQ(error_of([&] { build_document("ImmunizationRecord", r); }), "record.immunizations[0].vaccine: must not be empty");
}

}  // namespace
}  // namespace abdm::fhir::testing
