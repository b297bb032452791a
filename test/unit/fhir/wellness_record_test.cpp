// WellnessRecord → NRCES WellnessRecord: type.text "Wellness Record", sections sliced by title,
// each with its Observation profile.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

TEST(WellnessRecord, CompositionTypeAndSections) {
  json b = build_document("WellnessRecord", record("WellnessRecord"));
  const json& c = b["entry"][0]["resource"];
  EXPECT_EQ(c["type"], json::parse(R"({"text":"Wellness Record"})"));
  std::vector<std::string> titles;
  for (const auto& s : c["section"]) {
    titles.push_back(s["title"]);
    EXPECT_FALSE(s.contains("code"));
  }
  EXPECT_EQ(titles, (std::vector<std::string>{"Vital Signs", "Body Measurement", "Physical Activity", "General Assessment", "Women Health", "Lifestyle",
                                              "Other Observations", "Document Reference"}));
  // Each slice's observations carry that slice's profile.
  std::map<std::string, std::string> profile_of;
  for (const auto& e : b["entry"]) profile_of[e["fullUrl"]] = e["resource"]["meta"]["profile"][0];
  const std::string base = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/";
  EXPECT_EQ(profile_of[c["section"][0]["entry"][0]["reference"]], base + "ObservationVitalSigns");
  EXPECT_EQ(profile_of[c["section"][1]["entry"][2]["reference"]], base + "ObservationBodyMeasurement");
  EXPECT_EQ(profile_of[c["section"][2]["entry"][0]["reference"]], base + "ObservationPhysicalActivity");
  EXPECT_EQ(profile_of[c["section"][3]["entry"][0]["reference"]], base + "ObservationGeneralAssessment");
  EXPECT_EQ(profile_of[c["section"][4]["entry"][0]["reference"]], base + "ObservationWomenHealth");
  EXPECT_EQ(profile_of[c["section"][5]["entry"][0]["reference"]], base + "ObservationLifestyle");
  EXPECT_EQ(profile_of[c["section"][6]["entry"][0]["reference"]], base + "Observation");
}

TEST(WellnessRecord, ValueKinds) {
  json b = build_document("WellnessRecord", record("WellnessRecord"));
  auto obs = resources(b, "Observation");
  bool coded = false, text = false;
  for (const auto& o : obs) {
    if (o.contains("valueCodeableConcept")) coded = o["valueCodeableConcept"]["coding"][0]["code"] == "266919005";
    if (o.contains("valueString")) text = o["valueString"] == "Good";
  }
  EXPECT_TRUE(coded);
  EXPECT_TRUE(text);
}

TEST(WellnessRecord, Errors) {
  json r = record("WellnessRecord");
  r["vital_signs"][0].erase("value");
  EXPECT_EQ(error_of([&] { build_document("WellnessRecord", r); }), "record.vital_signs[0].value: required");
  r = record("WellnessRecord");
  r["vital_signs"][0]["value"] = json::array({72});
  EXPECT_EQ(error_of([&] { build_document("WellnessRecord", r); }), "record.vital_signs[0].value: must be a number, string, boolean or coded concept");
  r = record("WellnessRecord");
  r["body_measurements"][0]["reference_range"] = json::object();
  EXPECT_EQ(error_of([&] { build_document("WellnessRecord", r); }), "record.body_measurements[0].reference_range: needs low, high or text");
  r = record("WellnessRecord");
  r["vital_signs"][0]["interpretation"] = "HIGH";
  EXPECT_EQ(error_of([&] { build_document("WellnessRecord", r); }).rfind("record.vital_signs[0].interpretation: must be one of N, A", 0), 0u);
}

}  // namespace
}  // namespace abdm::fhir::testing
