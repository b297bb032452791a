// Shared helpers of the fhir unit tests: the example records and IG bundles under test/data/fhir.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "core/fhir/fhir.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir::testing {

inline nlohmann::json load_json(const std::string& relative) {
  std::ifstream in(std::string(ABDM_TEST_DATA_DIR) + "/fhir/" + relative);
  if (!in) throw std::runtime_error("missing test data file fhir/" + relative);
  return nlohmann::json::parse(in);
}

// test/data/fhir/records/<hi_type>.json (complete) or <hi_type>.minimal.json
inline nlohmann::json record(const std::string& hi_type, bool minimal = false) {
  return load_json("records/" + hi_type + (minimal ? ".minimal.json" : ".json"));
}

inline std::string issues_text(const std::vector<Issue>& issues) {
  std::ostringstream os;
  for (const auto& i : issues) os << i.severity << " " << i.path << ": " << i.message << "\n";
  return os.str();
}

inline size_t error_count(const std::vector<Issue>& issues) {
  size_t n = 0;
  for (const auto& i : issues) n += i.severity == "error";
  return n;
}

// The message of the abdm::Error `fn` throws ("" when it does not throw).
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const abdm::Error& e) {
    return e.what();
  }
  return "";
}

// The resources of `bundle` with this resourceType.
inline std::vector<nlohmann::json> resources(const nlohmann::json& bundle, const std::string& type) {
  std::vector<nlohmann::json> out;
  for (const auto& e : bundle["entry"])
    if (e["resource"]["resourceType"] == type) out.push_back(e["resource"]);
  return out;
}

// Section codes (or titles when uncoded) of the Composition, in order.
inline std::vector<std::string> section_codes(const nlohmann::json& bundle) {
  std::vector<std::string> out;
  for (const auto& s : bundle["entry"][0]["resource"]["section"])
    out.push_back(s.contains("code") ? s["code"]["coding"][0]["code"].get<std::string>() : s["title"].get<std::string>());
  return out;
}

}  // namespace abdm::fhir::testing
