// MedicationRequest (prescribed) and MedicationStatement (being taken) from record items, per the
// NRCES 6.x profiles: medication[x].coding.system fixed to SNOMED CT; MedicationRequest needs
// authoredOn, requester and dosageInstruction (1..*).
#include "core/fhir/concept.hpp"
#include "core/fhir/resources.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

namespace {

json dosage(Fields& f, bool required) {
  json d = json::object();
  if (required) d["text"] = f.str("dosage");
  else if (auto t = f.opt_str("dosage")) d["text"] = *t;
  if (const json* route = f.get("route"))
    d["route"] = read_concept(*route, f.at("route"), kAllowSnomed, "NRCES fixes dosage route.coding.system to SNOMED CT");
  return d;
}

const char* kMedicineWhy = "NRCES fixes medication[x].coding.system to SNOMED CT";

}  // namespace

std::string add_medication_request(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "code", "dosage", "route", "reason", "authored_on", "status", "note"});
  json r = resource_base(b, f, "MedicationRequest", "MedicationRequest");
  r["status"] = status_of(f, "status", "active", {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"});
  r["intent"] = "order";
  r["medicationCodeableConcept"] = read_concept(f.need("code"), f.at("code"), kAllowSnomed, kMedicineWhy);
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  // authoredOn 1..1: the prescription's own date, else the document date.
  r["authoredOn"] = f.has("authored_on") ? check_date_time(f.str("authored_on"), f.at("authored_on")) : b.date();
  f.get("authored_on");
  r["requester"] = reference(b.practitioner());
  if (const json* reason = f.get("reason"))
    r["reasonCode"] = json::array({read_concept(*reason, f.at("reason"), kAllowSnomed, "NRCES MedicationRequest fixes reasonCode.coding.system to SNOMED CT")});
  r["dosageInstruction"] = json::array({dosage(f, true)});
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_medication_statement(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "code", "dosage", "route", "status", "effective", "note"});
  json r = resource_base(b, f, "MedicationStatement", "MedicationStatement");
  r["status"] = status_of(f, "status", "active", {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"});
  r["medicationCodeableConcept"] = read_concept(f.need("code"), f.at("code"), kAllowSnomed, kMedicineWhy);
  r["subject"] = reference(b.patient());
  if (auto e = f.opt_str("effective")) r["effectiveDateTime"] = check_date_time(*e, f.at("effective"));
  r["dateAsserted"] = b.date();
  json d = dosage(f, false);
  if (!d.empty()) r["dosage"] = json::array({d});
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

}  // namespace abdm::fhir
