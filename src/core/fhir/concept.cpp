#include "core/fhir/concept.hpp"

#include "core/fhir/record_reader.hpp"
#include "core/fhir/record_types.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

json coding(const std::string& system, const std::string& code, const std::string& display) {
  return json{{"system", system}, {"code", code}, {"display", display}};
}

json concept_of(const std::string& system, const std::string& code, const std::string& display, const std::string& text) {
  json c{{"coding", json::array({coding(system, code, display)})}};
  if (!text.empty()) c["text"] = text;
  return c;
}

json read_concept(const json& v, const std::string& path, unsigned allowed, const char* why) {
  if (v.is_string()) return json{{"text", string_at(v, path)}};
  Fields f(v, path, {"system", "code", "display", "text"});
  json out = json::object();
  if (f.has("system") || f.has("code") || f.has("display")) {
    std::string system = check_uri(f.str("system"), f.at("system"));
    if (system == "snomed") system = kSnomed;
    else if (system == "loinc") system = kLoinc;
    else if (system == "icd10") system = kIcd10;
    else if (system.find(':') == std::string::npos)
      throw Error(sqlstate::kInvalidParameter, f.at("system"), "must be snomed, loinc, icd10 or a URI (got \"" + system + "\")");
    unsigned kind = system == kSnomed ? kAllowSnomed : system == kLoinc ? kAllowLoinc : system == kIcd10 ? kAllowIcd10 : 0x8000u;
    if (!(kind & allowed)) {
      std::string list;
      if (allowed & kAllowSnomed) list += std::string(list.empty() ? "" : " or ") + kSnomed;
      if (allowed & kAllowLoinc) list += std::string(list.empty() ? "" : " or ") + kLoinc;
      if (allowed & kAllowIcd10) list += std::string(list.empty() ? "" : " or ") + kIcd10;
      throw Error(sqlstate::kInvalidParameter, f.at("system"), "must be " + list + (*why ? std::string(" (") + why + ")" : ""));
    }
    // Every NRCES profile that constrains a coding requires code and display together.
    out["coding"] = json::array({coding(system, check_code(f.str("code"), f.at("code")), f.str("display"))});
  }
  if (auto text = f.opt_str("text")) out["text"] = *text;
  if (out.empty()) throw Error(sqlstate::kNotNull, path, "needs text or system+code+display");
  return out;
}

}  // namespace abdm::fhir
