// DiagnosticReport per the NRCES 6.x profiles DiagnosticReportLab and DiagnosticReportImaging:
// code 1..1 with coding.system fixed to LOINC; resultsInterpreter 1..*; conclusion 1..1;
// Lab: result 1..* (Observations); Imaging: media 1..* (Media resources).
#include "core/fhir/concept.hpp"
#include "core/fhir/resources.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

std::string add_diagnostic_report(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "kind", "code", "category", "status", "effective", "issued", "conclusion", "conclusion_codes", "results", "media"});
  std::string kind = check_one_of(f.str("kind"), f.at("kind"), {"lab", "imaging"});
  json r = resource_base(b, f, "DiagnosticReport", kind == "lab" ? "DiagnosticReportLab" : "DiagnosticReportImaging");
  r["status"] = status_of(f, "status", "final", {"registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error"});
  if (const json* c = f.get("category"))
    r["category"] = json::array({read_concept(*c, f.at("category"), kAllowSnomed, "NRCES DiagnosticReport fixes category.coding.system to SNOMED CT")});
  r["code"] = read_concept(f.need("code"), f.at("code"), kAllowLoinc, "NRCES DiagnosticReport fixes code.coding.system to LOINC");
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  if (auto e = f.opt_str("effective")) r["effectiveDateTime"] = check_date_time(*e, f.at("effective"));
  r["issued"] = f.has("issued") ? check_instant(f.str("issued"), f.at("issued")) : b.date();
  f.get("issued");
  r["performer"] = json::array({reference(b.organization())});
  r["resultsInterpreter"] = json::array({reference(b.practitioner())});

  json results = json::array();
  f.each("results", [&](const json& item, const std::string& p) { results.push_back(reference(add_observation(b, item, p))); });
  json media = json::array();
  f.each("media", [&](const json& item, const std::string& p) { media.push_back(json{{"link", reference(add_media(b, item, p))}}); });
  if (kind == "lab" && results.empty()) throw Error(sqlstate::kNotNull, f.at("results"), "required for a lab report (DiagnosticReportLab: result 1..*)");
  if (kind == "imaging" && media.empty()) throw Error(sqlstate::kNotNull, f.at("media"), "required for an imaging report (DiagnosticReportImaging: media 1..*)");
  if (!results.empty()) r["result"] = results;
  if (!media.empty()) r["media"] = media;
  r["conclusion"] = f.str("conclusion");
  json codes = json::array();
  auto cc = f.values("conclusion_codes");
  for (size_t i = 0; i < cc.size(); ++i)
    codes.push_back(read_concept(*cc[i], f.at("conclusion_codes") + "[" + std::to_string(i) + "]", kAllowSnomed,
                                 "NRCES DiagnosticReport fixes conclusionCode.coding.system to SNOMED CT"));
  if (!codes.empty()) r["conclusionCode"] = codes;
  return b.add(std::move(r), f.at("id"));
}

}  // namespace abdm::fhir
