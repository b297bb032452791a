// docs/fhir-record.md shows one complete record per HI type (each after a "<!-- record: T -->"
// marker). They must be the example records of test/data/fhir/records and must build.
#include <fstream>
#include <regex>
#include <set>

#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

TEST(Docs, EveryHiTypeHasAnExampleThatBuilds) {
  std::ifstream in(std::string(ABDM_TEST_DATA_DIR) + "/../../docs/fhir-record.md");
  ASSERT_TRUE(in) << "docs/fhir-record.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  static const std::regex kBlock(R"(<!-- record: (\w+) -->\n```json\n([\s\S]*?)\n```)");
  std::set<std::string> seen;
  for (std::sregex_iterator it(doc.begin(), doc.end(), kBlock), end; it != end; ++it) {
    std::string type = (*it)[1];
    nlohmann::json shown = nlohmann::json::parse((*it)[2].str());
    EXPECT_EQ(shown, record(type)) << "docs example for " << type << " differs from test/data/fhir/records/" << type << ".json";
    auto issues = check(build_document(type, shown));
    EXPECT_TRUE(issues.empty()) << type << "\n" << issues_text(issues);
    seen.insert(type);
  }
  EXPECT_EQ(seen.size(), hi_types().size());
}

}  // namespace
}  // namespace abdm::fhir::testing
