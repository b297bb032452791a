// Not a check: writes the bundles built from test/data/fhir/records/*.json into the directory named
// by ABDM_FHIR_DUMP_DIR (test/fhir/validate sets it), so the external validators see exactly what
// the builders produce. Skipped when the variable is unset.
#include <cstdlib>
#include <fstream>

#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {

TEST(FhirDump, WritesBundlesOfTheExampleRecords) {
  const char* dir = std::getenv("ABDM_FHIR_DUMP_DIR");
  if (!dir || !*dir) GTEST_SKIP() << "ABDM_FHIR_DUMP_DIR not set";
  for (const auto& type : hi_types()) {
    for (bool minimal : {false, true}) {
      std::string name = std::string(dir) + "/" + type + (minimal ? ".minimal" : "") + ".bundle.json";
      std::ofstream out(name);
      out << build_document(type, record(type, minimal)).dump(2) << "\n";
      ASSERT_TRUE(out.good()) << name;
    }
  }
}

}  // namespace abdm::fhir::testing
