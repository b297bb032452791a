// Whatever JSON arrives from SQL, check() reports instead of throwing, and build_document() either
// builds or throws abdm::Error naming a field — never a library exception (nlohmann type_error,
// std::out_of_range) that would surface as an internal error. Every node of a record/bundle is
// replaced in turn by a value of each JSON type.
#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

const json kReplacements[] = {nullptr, 7, -1.5, "", "x", true, json::array(), json::object(), json::array({1, "a"}), json{{"k", 1}}};

template <typename Fn>
size_t for_each_mutation(const json& doc, Fn fn) {
  size_t n = 0;
  json flat = doc.flatten();
  std::vector<json::json_pointer> pointers;
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    json::json_pointer p(it.key());
    // every leaf and every ancestor of it
    while (!p.empty()) {
      pointers.push_back(p);
      p = p.parent_pointer();
    }
  }
  std::sort(pointers.begin(), pointers.end(), [](const auto& a, const auto& b) { return a.to_string() < b.to_string(); });
  pointers.erase(std::unique(pointers.begin(), pointers.end()), pointers.end());
  for (const auto& p : pointers) {
    for (const json& r : kReplacements) {
      json m = doc;
      m[p] = r;
      fn(m, p.to_string());
      ++n;
    }
  }
  return n;
}

TEST(Robustness, CheckNeverThrows) {
  json b = build_document("OPConsultation", record("OPConsultation"));
  size_t n = for_each_mutation(b, [](const json& m, const std::string& where) {
    EXPECT_NO_THROW(check(m)) << where;
  });
  EXPECT_GT(n, 5000u);
  EXPECT_NO_THROW(check(json()));
  EXPECT_NO_THROW(check(json("Bundle")));
}

TEST(Robustness, BuildThrowsOnlyAbdmErrors) {
  // (No structured binding: the lambda below captures `type`, which clang before 16 cannot do,
  // and the sanitizer build is clang 14.)
  for (const auto& case_ : std::vector<std::pair<std::string, bool>>{
           {"OPConsultation", false}, {"Prescription", false}, {"DiagnosticReport", false}, {"DiagnosticReport", true},
           {"DischargeSummary", false}, {"ImmunizationRecord", false}, {"HealthDocumentRecord", true},
           {"WellnessRecord", false}, {"Invoice", false}}) {
    const std::string& type = case_.first;
    const bool minimal = case_.second;
    json r = record(type, minimal);
    size_t built = 0;
    for_each_mutation(r, [&](const json& m, const std::string& where) {
      try {
        json b = build_document(type, m);
        EXPECT_FALSE(has_errors(check(b))) << type << " " << where;
        ++built;
      } catch (const abdm::Error& e) {
        EXPECT_NE(e.sqlstate(), "XX000") << type << " " << where << ": " << e.what();
        EXPECT_FALSE(e.field().empty()) << type << " " << where << ": " << e.what();
      } catch (const std::exception& e) {
        ADD_FAILURE() << type << " " << where << ": non-abdm exception " << e.what();
      }
    });
    EXPECT_GT(built, 0u) << type;  // some replacements are harmless (e.g. a title string)
  }
}

}  // namespace
}  // namespace abdm::fhir::testing
