// check() against the NRCES IG's own example bundles (they must pass) and against broken copies
// of them and of our bundles (each break must be reported, at the right place).
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

// IG 2.0.1 examples (verbatim) and the 6.x InvoiceRecord example (converted from FSH): see
// test/data/fhir/SOURCE.md.
const char* kExamples[] = {
    "examples/Bundle-OPConsultNote-example-05.json",        "examples/Bundle-Prescription-example-06.json",
    "examples/Bundle-DiagnosticReport-Lab-example-03.json", "examples/Bundle-DiagnosticReport-Imaging-DCM-example-01.json",
    "examples/Bundle-DiagnosticReport-Imaging-Media-example-02.json", "examples/Bundle-DischargeSummary-example-04.json",
    "examples/Bundle-ImmunizationRecord-example-07.json",   "examples/Bundle-HealthDocumentRecord-example-01.json",
    "examples/Bundle-WellnessRecord-example-01.json",       "examples-6.x/Bundle-InvoiceRecord-example-01.json",
};

class IgExample : public ::testing::TestWithParam<const char*> {};

TEST_P(IgExample, PassesCheck) {
  json b = load_json(GetParam());
  auto issues = check(b);
  EXPECT_EQ(error_count(issues), 0u) << issues_text(issues);
}

INSTANTIATE_TEST_SUITE_P(Nrces, IgExample, ::testing::ValuesIn(kExamples),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// The 2.0.1 OPConsult example files its follow-up under 736271009 "Outpatient care plan", the
// 2.0.1 FollowUp code; 6.x moved the slice to 390906007, so check() warns (open slicing) but passes.
TEST(IgExampleNotes, OldFollowUpCodeIsAWarning) {
  auto issues = check(load_json("examples/Bundle-OPConsultNote-example-05.json"));
  ASSERT_EQ(issues.size(), 1u) << issues_text(issues);
  EXPECT_EQ(issues[0].severity, "warning");
  EXPECT_EQ(issues[0].path, "Bundle.entry[0].resource.section[6]");
}

// One mutation → at least one error whose path starts with `path` and message contains `words`.
struct Mutation {
  const char* name;
  const char* example;
  std::function<void(json&)> mutate;
  const char* path;
  const char* words;
};

json& comp(json& b) { return b["entry"][0]["resource"]; }

std::vector<Mutation> mutations() {
  const char* op = "Bundle-OPConsultNote-example-05.json";
  const char* rx = "Bundle-Prescription-example-06.json";
  const char* lab = "Bundle-DiagnosticReport-Lab-example-03.json";
  const char* well = "Bundle-WellnessRecord-example-01.json";
  const char* imm = "Bundle-ImmunizationRecord-example-07.json";
  const char* inv = "examples-6.x/Bundle-InvoiceRecord-example-01.json";
  return {
      {"TwoInvoices", inv, [](json& b) { comp(b)["section"][0]["entry"].push_back(comp(b)["section"][0]["entry"][0]); },
       "Bundle.entry[0].resource.section[0].entry", "at most 1 Invoice"},
      {"InvoiceTypeText", inv, [](json& b) { comp(b)["type"]["text"] = "Invoice"; }, "Bundle.entry[0].resource.type.text", "Invoice Record"},
      {"InvoiceSectionHoldsPatient", inv, [](json& b) { comp(b)["section"][0]["entry"][0]["reference"] = comp(b)["subject"]["reference"]; },
       "Bundle.entry[0].resource.section[0].entry[0]", "admits Invoice"},
      {"NotABundle", op, [](json& b) { b["resourceType"] = "Composition"; }, "Bundle", "not a FHIR Bundle"},
      {"TypeCollection", op, [](json& b) { b["type"] = "collection"; }, "Bundle.type", "document"},
      {"NoIdentifierSystem", op, [](json& b) { b["identifier"].erase("system"); }, "Bundle.identifier", "bdl-9"},
      {"NoTimestamp", op, [](json& b) { b.erase("timestamp"); }, "Bundle.timestamp", "bdl-10"},
      {"BadTimestamp", op, [](json& b) { b["timestamp"] = "2020-07-09"; }, "Bundle.timestamp", "instant"},
      {"NoVersionId", op, [](json& b) { b["meta"].erase("versionId"); }, "Bundle.meta.versionId", "required"},
      {"NoLastUpdated", op, [](json& b) { b["meta"].erase("lastUpdated"); }, "Bundle.meta.lastUpdated", "required"},
      {"NoBundleProfile", op, [](json& b) { b["meta"]["profile"] = json::array(); }, "Bundle.meta.profile", "DocumentBundle"},
      {"DuplicateFullUrl", op, [](json& b) { b["entry"][2]["fullUrl"] = b["entry"][1]["fullUrl"]; }, "Bundle.entry[2].fullUrl", "bdl-7"},
      {"CompositionNotFirst", op, [](json& b) { std::swap(b["entry"][0], b["entry"][1]); }, "Bundle.entry[0].resource", "bdl-11"},
      {"UnknownRecordProfile", op, [](json& b) { comp(b)["meta"]["profile"][0] = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/Foo"; },
       "Bundle.entry[0].resource.meta.profile", "record profiles"},
      {"WrongTypeCode", op, [](json& b) { comp(b)["type"]["coding"][0]["code"] = "371531000"; }, "Bundle.entry[0].resource.type.coding", "371530004"},
      {"WrongTypeDisplay", rx, [](json& b) { comp(b)["type"]["coding"][0]["display"] = "Prescription"; }, "Bundle.entry[0].resource.type.coding", "Prescription record"},
      {"WrongSectionDisplay", op, [](json& b) { comp(b)["section"][0]["code"]["coding"][0]["display"] = "Chief complaint"; },
       "Bundle.entry[0].resource.section[0].code", "Chief complaint section"},
      {"DuplicateSlice", op, [](json& b) { comp(b)["section"].push_back(comp(b)["section"][0]); }, "Bundle.entry[0].resource.section[8]", "at most once"},
      {"SectionEntryWrongType", op, [](json& b) { comp(b)["section"][1]["entry"][0]["reference"] = "Condition/1"; },
       "Bundle.entry[0].resource.section[1].entry[0]", "AllergyIntolerance"},
      {"DanglingReference", op, [](json& b) { comp(b)["section"][0]["entry"][0]["reference"] = "Condition/404"; },
       "Bundle.entry[0].resource.section[0].entry[0].reference", "does not resolve"},
      {"DanglingNestedReference", lab, [](json& b) {
         for (auto& e : b["entry"]) if (e["resource"]["resourceType"] == "DiagnosticReport") e["resource"]["result"][0]["reference"] = "Observation/gone";
       }, "Bundle.entry[4].resource.result[0].reference", "does not resolve"},
      {"SubjectNotPatient", op, [](json& b) { comp(b)["subject"]["reference"] = "Practitioner/1"; }, "Bundle.entry[0].resource.subject", "Patient"},
      {"PatientWithoutIdentifier", op, [](json& b) {
         for (auto& e : b["entry"]) if (e["resource"]["resourceType"] == "Patient") e["resource"].erase("identifier");
       }, "Bundle.entry[0].resource.subject", "identifier"},
      {"MissingEncounter", op, [](json& b) { comp(b).erase("encounter"); }, "Bundle.entry[0].resource.encounter", "requires"},
      {"NoAuthor", op, [](json& b) { comp(b).erase("author"); }, "Bundle.entry[0].resource.author", "required"},
      {"BadStatus", op, [](json& b) { comp(b)["status"] = "done"; }, "Bundle.entry[0].resource.status", "final"},
      {"NoSections", op, [](json& b) { comp(b).erase("section"); }, "Bundle.entry[0].resource.section", "at least one"},
      {"EmptySection", op, [](json& b) { comp(b)["section"][0].erase("entry"); }, "Bundle.entry[0].resource.section[0]", "cmp-2"},
      {"TwoPrescriptionSections", rx, [](json& b) { comp(b)["section"].push_back(comp(b)["section"][0]); }, "Bundle.entry[0].resource.section[1]", "exactly one"},
      {"PrescriptionEntryWithoutType", rx, [](json& b) { comp(b)["section"][0]["entry"][0].erase("type"); },
       "Bundle.entry[0].resource.section[0].entry[0].type", "closed"},
      {"PrescriptionEntryTypeLies", rx, [](json& b) { comp(b)["section"][0]["entry"][0]["type"] = "Binary"; },
       "Bundle.entry[0].resource.section[0].entry[0].type", "MedicationRequest"},
      {"TwoBinaries", rx, [](json& b) { comp(b)["section"][0]["entry"][0] = comp(b)["section"][0]["entry"][2]; },
       "Bundle.entry[0].resource.section[0].entry", "at most 1 Binary"},
      {"ThreeDiagnosticEntries", lab, [](json& b) { comp(b)["section"][0]["entry"].push_back(comp(b)["section"][0]["entry"][1]); },
       "Bundle.entry[0].resource.section[0].entry", "at most 2"},
      {"DiagnosticTypeNotSnomed", lab, [](json& b) { comp(b)["type"]["coding"][0]["system"] = "http://loinc.org"; },
       "Bundle.entry[0].resource.type.coding", "SNOMED"},
      {"ImmunizationSectionCode", imm, [](json& b) { comp(b)["section"][0]["code"]["coding"][0]["code"] = "41000179104"; },
       "Bundle.entry[0].resource.section[0].code", "41000179103"},
      {"WellnessTypeText", well, [](json& b) { comp(b)["type"]["text"] = "Wellness"; }, "Bundle.entry[0].resource.type.text", "Wellness Record"},
      {"WellnessSectionEntryType", well, [](json& b) { comp(b)["section"][0]["entry"][0]["reference"] = "DocumentReference/1"; },
       "Bundle.entry[0].resource.section[0].entry[0]", "Observation"},
      {"OrganizationWithoutSystem", op, [](json& b) {
         for (auto& e : b["entry"]) if (e["resource"]["resourceType"] == "Organization") e["resource"]["identifier"][0].erase("system");
       }, "Bundle.entry[2].resource.identifier[0].system", "HFR"},
      {"PatientIdentifierWithoutType", op, [](json& b) {
         for (auto& e : b["entry"]) if (e["resource"]["resourceType"] == "Patient") e["resource"]["identifier"][0].erase("type");
       }, "Bundle.entry[3].resource.identifier[0].type", "required"},
      {"PractitionerWithoutIdentifier", op, [](json& b) {
         for (auto& e : b["entry"]) if (e["resource"]["resourceType"] == "Practitioner") e["resource"].erase("identifier");
       }, "Bundle.entry[1].resource.identifier", "requires an identifier"},
      {"AttachmentNotBase64", op, [](json& b) {
         for (auto& e : b["entry"]) if (e["resource"]["resourceType"] == "DocumentReference") e["resource"]["content"][0]["attachment"]["data"] = "not base64!";
       }, "Bundle.entry[14].resource.content[0].attachment.data", "base64"},
  };
}

// gtest prints parameters on failure; the name says which mutation it was.
void PrintTo(const Mutation& m, std::ostream* os) { *os << m.name; }

class BrokenExample : public ::testing::TestWithParam<Mutation> {};

TEST_P(BrokenExample, IsReported) {
  const Mutation& m = GetParam();
  json b = load_json(std::string(m.example).find('/') == std::string::npos ? std::string("examples/") + m.example : m.example);
  ASSERT_EQ(error_count(check(b)), 0u);
  m.mutate(b);
  auto issues = check(b);
  bool found = false;
  for (const auto& i : issues)
    found = found || (i.severity == "error" && i.path.rfind(m.path, 0) == 0 && i.message.find(m.words) != std::string::npos);
  EXPECT_TRUE(found) << "expected an error at " << m.path << " mentioning \"" << m.words << "\", got:\n" << issues_text(issues);
}

INSTANTIATE_TEST_SUITE_P(Mutations, BrokenExample, ::testing::ValuesIn(mutations()), [](const auto& info) { return std::string(info.param.name); });

TEST(Check, NonObjectInputIsOneError) {
  auto issues = check(json::array());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "Bundle");
}

TEST(Check, HasErrorsIgnoresWarnings) {
  EXPECT_FALSE(has_errors({{"warning", "Bundle", "x"}}));
  EXPECT_TRUE(has_errors({{"warning", "Bundle", "x"}, {"error", "Bundle", "y"}}));
}

}  // namespace
}  // namespace abdm::fhir::testing

namespace abdm::fhir::testing {
namespace {

TEST(HiTypeOf, NamesTheRecordTypeOfTheComposition) {
  EXPECT_EQ(hi_type_of(load_json("examples/Bundle-OPConsultNote-example-05.json")), "OPConsultation");
  EXPECT_EQ(hi_type_of(load_json("examples/Bundle-DiagnosticReport-Lab-example-03.json")), "DiagnosticReport");
  EXPECT_EQ(hi_type_of(load_json("examples/Bundle-WellnessRecord-example-01.json")), "WellnessRecord");
  EXPECT_EQ(hi_type_of(load_json("examples-6.x/Bundle-InvoiceRecord-example-01.json")), "Invoice");
  for (const auto& t : hi_types()) EXPECT_EQ(hi_type_of(build_document(t, record(t, true))), t);
  EXPECT_EQ(hi_type_of(nlohmann::json::object()), "");
  EXPECT_EQ(hi_type_of(nlohmann::json::parse(R"({"entry":[{"resource":{"resourceType":"Patient"}}]})")), "");
}

}  // namespace
}  // namespace abdm::fhir::testing
