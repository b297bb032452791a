// What every record type must do: the complete and the minimal example record build a document
// Bundle that passes check(), with the DocumentBundle header, the Composition first, urn:uuid
// fullUrls that every reference resolves to, NRCES profiles on every entry, deterministic output;
// and bad input fails with the field's path.
#include <set>

#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

struct Case {
  std::string type;
  bool minimal;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.type << (c.minimal ? " minimal" : ""); }

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& t : hi_types())
    for (bool m : {false, true}) out.push_back({t, m});
  return out;
}

const std::map<std::string, std::string> kProfile{{"OPConsultation", "OPConsultRecord"},
                                                  {"Prescription", "PrescriptionRecord"},
                                                  {"DiagnosticReport", "DiagnosticReportRecord"},
                                                  {"DischargeSummary", "DischargeSummaryRecord"},
                                                  {"ImmunizationRecord", "ImmunizationRecord"},
                                                  {"HealthDocumentRecord", "HealthDocumentRecord"},
                                                  {"WellnessRecord", "WellnessRecord"},
                                                  {"Invoice", "InvoiceRecord"}};
const std::string kBase = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/";

class Build : public ::testing::TestWithParam<Case> {
 protected:
  json rec() const { return record(GetParam().type, GetParam().minimal); }
  json build(const json& r) const { return build_document(GetParam().type, r); }
};

TEST_P(Build, PassesCheckWithoutWarnings) {
  json b = build(rec());
  auto issues = check(b);
  EXPECT_TRUE(issues.empty()) << issues_text(issues);
}

TEST_P(Build, HasTheDocumentBundleHeader) {
  json r = rec();
  json b = build(r);
  EXPECT_EQ(b["resourceType"], "Bundle");
  EXPECT_EQ(b["type"], "document");
  EXPECT_EQ(b["meta"]["profile"], json::array({kBase + "DocumentBundle"}));
  EXPECT_EQ(b["meta"]["versionId"], "1");
  EXPECT_EQ(b["meta"]["lastUpdated"], r["document"]["date"]);
  EXPECT_EQ(b["timestamp"], r["document"]["date"]);  // from the record, not the clock
  EXPECT_EQ(b["identifier"]["system"], "urn:ietf:rfc:3986");
  EXPECT_EQ(b["identifier"]["value"], "urn:uuid:" + b["id"].get<std::string>());
  const json& c = b["entry"][0]["resource"];
  EXPECT_EQ(c["resourceType"], "Composition");
  EXPECT_EQ(c["meta"]["profile"], json::array({kBase + kProfile.at(GetParam().type)}));
  EXPECT_EQ(c["date"], r["document"]["date"]);
  EXPECT_EQ(c["status"], "final");
}

TEST_P(Build, EntriesAreUuidAddressedProfiledAndResolvable) {
  json b = build(rec());
  std::set<std::string> full;
  for (const auto& e : b["entry"]) {
    std::string url = e["fullUrl"];
    ASSERT_EQ(url.rfind("urn:uuid:", 0), 0u) << url;
    EXPECT_EQ(url.substr(9), e["resource"]["id"]) << "fullUrl and id agree";
    EXPECT_TRUE(full.insert(url).second) << "duplicate " << url;
    const json& profiles = e["resource"]["meta"]["profile"];
    ASSERT_EQ(profiles.size(), 1u);
    EXPECT_EQ(profiles[0].get<std::string>().rfind(kBase, 0), 0u);
  }
  // Every "reference" anywhere resolves to a fullUrl (checked here independently of check()).
  std::function<void(const json&)> walk = [&](const json& n) {
    if (n.is_object()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (it.key() == "reference") EXPECT_TRUE(full.count(it->get<std::string>())) << it->get<std::string>();
        else walk(*it);
      }
    } else if (n.is_array()) {
      for (const auto& x : n) walk(x);
    }
  };
  walk(b);
  // The Patient carries the HMIS reference (and ABHA identifiers in the complete records).
  auto patients = resources(b, "Patient");
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_EQ(patients[0]["identifier"][0]["value"], rec()["patient"]["ref"]);
  EXPECT_EQ(patients[0]["identifier"].size(), GetParam().minimal ? 1u : 3u);
  EXPECT_EQ(resources(b, "Organization")[0]["identifier"][0]["value"], "IN2910000012");
}

TEST_P(Build, IsDeterministic) {
  json r = rec();
  EXPECT_EQ(build(r).dump(), build(r).dump());
  json changed = r;
  changed["patient"]["name"] = "Ravi K.";
  json a = build(r), c = build(changed);
  EXPECT_NE(a["id"], c["id"]) << "ids derive from the whole record";
  EXPECT_NE(a["entry"][1]["fullUrl"], c["entry"][1]["fullUrl"]);
}

TEST_P(Build, UsesCallerGivenIds) {
  json r = rec();
  r["document"]["id"] = "0C8F3C52-4B7B-4E3A-9C36-1B1D2E3F4A5B";
  r["patient"]["id"] = "1d4a6e2c-9b0f-4c1e-8a57-3e2f1d0c9b8a";
  json b = build(r);
  EXPECT_EQ(b["id"], "0c8f3c52-4b7b-4e3a-9c36-1b1d2e3f4a5b");
  EXPECT_EQ(b["entry"][1]["fullUrl"], "urn:uuid:1d4a6e2c-9b0f-4c1e-8a57-3e2f1d0c9b8a");
  EXPECT_TRUE(check(b).empty());
  r["practitioner"]["id"] = r["patient"]["id"];
  EXPECT_EQ(error_of([&] { build(r); }), "record.practitioner.id: id 1d4a6e2c-9b0f-4c1e-8a57-3e2f1d0c9b8a is used by another resource of this document");
  r["practitioner"]["id"] = "P-1";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.practitioner.id: must be a UUID", 0), 0u);
}

TEST_P(Build, UnknownFieldsAreNamed) {
  json r = rec();
  r["diagnosis"] = json::array();
  EXPECT_EQ(error_of([&] { build(r); }), "record.diagnosis: unknown field");
  r = rec();
  r["patient"]["nmae"] = "x";
  EXPECT_EQ(error_of([&] { build(r); }), "record.patient.nmae: unknown field");
  r = rec();
  r["document"]["timestamp"] = "2024-01-01T00:00:00Z";
  EXPECT_EQ(error_of([&] { build(r); }), "record.document.timestamp: unknown field");
}

TEST_P(Build, MissingFieldsAreNamed) {
  for (const char* path : {"patient.name", "patient.ref", "patient.gender", "practitioner.registration", "practitioner.name", "facility.hfr_id",
                           "facility.name", "document.date"}) {
    json r = rec();
    std::string p = path;
    r[p.substr(0, p.find('.'))].erase(p.substr(p.find('.') + 1));
    EXPECT_EQ(error_of([&] { build(r); }), "record." + p + ": required");
  }
  for (const char* part : {"patient", "practitioner", "facility", "document"}) {
    json r = rec();
    r.erase(part);
    EXPECT_EQ(error_of([&] { build(r); }), std::string("record.") + part + ": required");
  }
  json r = rec();
  r["patient"]["name"] = nullptr;  // a NULL column is absent
  EXPECT_EQ(error_of([&] { build(r); }), "record.patient.name: required");
}

TEST_P(Build, BadValuesAreNamed) {
  json r = rec();
  r["patient"]["gender"] = "x";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.patient.gender: must be", 0), 0u);
  r = rec();
  r["document"]["date"] = "2024-03-14";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.document.date: must be a date-time", 0), 0u);
  r = rec();
  r["patient"]["birth_date"] = "12/01/1981";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.patient.birth_date: must be a date", 0), 0u);
  r = rec();
  r["patient"]["abha_number"] = "1234";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.patient.abha_number: must be", 0), 0u);
  r = rec();
  r["document"]["status"] = "done";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.document.status: must be one of preliminary, final", 0), 0u);
  r = rec();
  r["patient"]["birth_date"] = "0000-01-01";  // passed the builder and check(), refused by the R4 schema
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.patient.birth_date: must be a date", 0), 0u);
  r = rec();
  r["patient"]["name"] = "   ";
  EXPECT_EQ(error_of([&] { build(r); }), "record.patient.name: must not be blank (only whitespace)");
  r = rec();
  r["patient"]["name"] = "Ravi\x01";
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.patient.name: holds control character U+0001", 0), 0u);
  r = rec();
  r["patient"]["name"] = std::string(5 * 1024 * 1024, 'R');
  EXPECT_EQ(error_of([&] { build(r); }).rfind("record.patient.name: is longer than", 0), 0u);
  r = rec();
  r["patient"] = "Ravi";
  EXPECT_EQ(error_of([&] { build(r); }), "record.patient: must be an object, not a string");
}

TEST_P(Build, AbdmGenderLettersAreAccepted) {
  json r = rec();
  r["patient"]["gender"] = "F";
  EXPECT_EQ(resources(build(r), "Patient")[0]["gender"], "female");
}

INSTANTIATE_TEST_SUITE_P(AllTypes, Build, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.type + (info.param.minimal ? "_minimal" : "_complete"); });

TEST(BuildDocument, UnknownHiTypeIsNamed) {
  EXPECT_EQ(error_of([] { build_document("LabReport", json::object()); }).rfind("hi_type: must be one of OPConsultation, Prescription", 0), 0u);
  EXPECT_EQ(hi_types().size(), 8u);
}

TEST(BuildDocument, RecordMustBeAnObject) {
  EXPECT_EQ(error_of([] { build_document("Prescription", json::array()); }), "record: must be an object, not an array");
}

}  // namespace
}  // namespace abdm::fhir::testing
