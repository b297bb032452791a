// Not a check: writes the bundles built from test/data/fhir/records/*.json into the directory named
// by ABDM_FHIR_DUMP_DIR (test/fhir/validate sets it), so the external validators see exactly what
// the builders produce. Skipped when the variable is unset.
//
// It also writes the bundles of generated records into <dir>/generated/ for the property that
// every bundle build_document returns (what abdm_hip.fhir_document() returns) passes the FHIR R4
// JSON schema: ABDM_FHIR_PROPERTY_CASES records (default 200, spread over the eight HI types), each
// an example record with some of its values replaced, removed, retyped or repeated by a seeded
// generator (ABDM_FHIR_PROPERTY_SEED repeats a run). A record the builder refuses with abdm::Error
// is counted, not written; <dir>/generated/summary.json says how many were built and refused.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fhir_test_support.hpp"

namespace abdm::fhir::testing {
namespace {

using nlohmann::json;

// Values an HMIS might send where a string is expected: dates and times in and out of range or
// shape, codes that exist and do not, text FHIR forbids or finds unusual, and long text.
const std::vector<std::string>& string_pool() {
  static const std::vector<std::string> pool = {
      "", " ", "   padded   ", "\x01" "control", "tab\there", "line\nbreak", "नमस्ते डॉक्टर", "😀 emoji",
      "quote\" and \\ backslash", std::string(300, 'x'), "<script>alert(1)</script>", "null", "NaN",
      "0000-01-01", "0001-01-01", "1900-01-01", "2024-02-29", "2023-02-29", "9999-12-31", "2024-13-01",
      "2024", "2024-05", "20-05-2024", "2024-05-20", "2024-05-20T10:40:00+05:30", "2024-05-20T10:40:00Z",
      "2024-05-20T10:40:00.123456+05:30", "2024-05-20T25:00:00Z", "2024-05-20T10:40", "2024-05-20 10:40:00",
      "M", "F", "O", "U", "X", "male", "Prescription", "OPConsultation", "final", "unknown",
      "http://example.org/x", "urn:uuid:6f1b7d2e-0000-4000-8000-000000000001", "12-3456-7890-1234",
      "9800083232", "+91 98000 83232", "IN2710000001", "KMC-55012", "MRN-1001", "1-1-1 for 3 days",
      "500 mg", "0", "-1", "1e400", "SGVsbG8=", "not base64!", "application/pdf", "text/plain"};
  return pool;
}

const std::vector<json>& number_pool() {
  static const std::vector<json> pool = {0, -1, 1, 7, 0.5, -0.0, 1e-9, 123456789012LL, 1e15, 1e300, -1e300, 2.5e-300};
  return pool;
}

class RecordGenerator {
 public:
  explicit RecordGenerator(uint64_t seed) : rng_(seed) {}

  // Each record gets its own intensity, so some carry one or two changes (and mostly build) and
  // some many (and mostly test the refusals).
  json generate(const json& example) {
    intensity_ = pick(std::vector<double>{0.1, 0.3, 0.7, 1.5});
    return mutate(example, 0);
  }

 private:
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }

  // A value of another JSON type than the one expected.
  json retyped() {
    switch (std::uniform_int_distribution<int>(0, 4)(rng_)) {
      case 0: return nullptr;
      case 1: return pick(number_pool());
      case 2: return json::array({pick(string_pool())});
      case 3: return json::object({{"text", pick(string_pool())}});
      default: return chance(0.5);
    }
  }

  json mutate(const json& v, int depth) {
    const double kReplace = 0.05 * intensity_, kRetype = 0.005 * intensity_, kDrop = 0.02 * intensity_,
                 kRepeat = 0.08 * intensity_, kClear = 0.01 * intensity_;
    if (v.is_object()) {
      json out = json::object();
      for (const auto& [key, value] : v.items()) {
        if (depth > 0 && chance(kDrop)) continue;
        out[key] = chance(kRetype) ? retyped() : mutate(value, depth + 1);
      }
      return out;
    }
    if (v.is_array()) {
      json out = json::array();
      if (chance(kClear)) return out;
      for (const auto& e : v) {
        out.push_back(mutate(e, depth + 1));
        if (chance(kRepeat)) out.push_back(mutate(e, depth + 1));
      }
      return out;
    }
    if (v.is_string()) return chance(kReplace) ? json(pick(string_pool())) : v;
    if (v.is_number()) return chance(kReplace) ? pick(number_pool()) : v;
    if (v.is_boolean()) return chance(kReplace) ? json(!v.get<bool>()) : v;
    return v;
  }

  std::mt19937_64 rng_;
  double intensity_ = 1.0;
};

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* s = std::getenv(name);
  return s && *s ? std::strtoull(s, nullptr, 10) : fallback;
}

}  // namespace

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

  const uint64_t cases = env_number("ABDM_FHIR_PROPERTY_CASES", 200);
  const uint64_t seed = env_number("ABDM_FHIR_PROPERTY_SEED", std::random_device{}());
  const std::string generated = std::string(dir) + "/generated";
  std::filesystem::create_directories(generated);
  RecordGenerator gen(seed);
  const auto types = hi_types();
  std::map<std::string, int> refusals;
  int built = 0, refused = 0;
  for (uint64_t i = 0; i < cases; ++i) {
    const std::string& type = types[i % types.size()];
    const json input = gen.generate(record(type, i % 3 == 2));
    json bundle;
    try {
      bundle = build_document(type, input);
    } catch (const abdm::Error& e) {
      ++refused;
      ++refusals[std::string(e.what()).substr(0, 60)];
      continue;
    }  // anything else escapes and fails the test: the builder's contract is abdm::Error
    ++built;
    std::ofstream out(generated + "/" + std::to_string(i) + "." + type + ".bundle.json");
    out << bundle.dump(2) << "\n";
    std::ofstream rec(generated + "/" + std::to_string(i) + "." + type + ".record.json");
    rec << input.dump(2) << "\n";
    ASSERT_TRUE(out.good() && rec.good());
  }
  std::ofstream summary(generated + "/summary.json");
  summary << json{{"seed", seed}, {"cases", cases}, {"built", built}, {"refused", refused}, {"refusals", refusals}}.dump(2)
          << "\n";
  ASSERT_TRUE(summary.good());
}

}  // namespace abdm::fhir::testing
