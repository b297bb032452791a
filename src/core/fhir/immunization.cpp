// Immunization per the NRCES 6.x profile: vaccineCode and occurrence[x] (dateTime) 1..1, route
// coding system fixed to SNOMED CT, protocolApplied.doseNumber[x] 1..1 when a protocol is given.
#include "core/fhir/concept.hpp"
#include "core/fhir/resources.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

std::string add_immunization(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "vaccine", "date", "status", "lot_number", "expiration_date", "dose_number", "series", "target_disease", "route", "site", "note"});
  json r = resource_base(b, f, "Immunization", "Immunization");
  r["status"] = status_of(f, "status", "completed", {"completed", "entered-in-error", "not-done"});
  r["vaccineCode"] = read_concept(f.need("vaccine"), f.at("vaccine"));
  r["patient"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  r["occurrenceDateTime"] = check_date_time(f.str("date"), f.at("date"));
  r["primarySource"] = true;  // recorded by the facility that holds the record
  if (auto lot = f.opt_str("lot_number")) r["lotNumber"] = *lot;
  if (auto exp = f.opt_str("expiration_date")) r["expirationDate"] = check_date(*exp, f.at("expiration_date"));
  if (const json* site = f.get("site")) r["site"] = read_concept(*site, f.at("site"));
  if (const json* route = f.get("route"))
    r["route"] = read_concept(*route, f.at("route"), kAllowSnomed, "NRCES Immunization fixes route.coding.system to SNOMED CT");
  r["performer"] = json::array({json{{"actor", reference(b.practitioner())}}});
  put_note(r, f);

  json protocol = json::object();
  if (auto s = f.opt_str("series")) protocol["series"] = *s;
  if (const json* t = f.get("target_disease")) protocol["targetDisease"] = json::array({read_concept(*t, f.at("target_disease"))});
  if (const json* d = f.get("dose_number")) {
    if (d->is_number_integer() && d->get<long long>() >= 1) protocol["doseNumberPositiveInt"] = d->get<long long>();
    else if (d->is_string()) protocol["doseNumberString"] = string_at(*d, f.at("dose_number"));
    else throw Error(sqlstate::kInvalidParameter, f.at("dose_number"), "must be a positive integer or a string");
  }
  if (!protocol.empty()) {
    if (!protocol.contains("doseNumberPositiveInt") && !protocol.contains("doseNumberString"))
      throw Error(sqlstate::kNotNull, f.at("dose_number"), "required with series or target_disease (protocolApplied.doseNumber[x] 1..1)");
    r["protocolApplied"] = json::array({protocol});
  }
  return b.add(std::move(r), f.at("id"));
}

}  // namespace abdm::fhir
