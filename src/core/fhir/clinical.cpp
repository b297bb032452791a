// Condition, AllergyIntolerance, Observation, ServiceRequest, Appointment, Procedure,
// FamilyMemberHistory and CarePlan from record items. Required elements and fixed coding systems
// follow the NRCES 6.x profiles of the same names; R4 invariants noted where they shape the input.
#include <cmath>
#include <map>

#include "core/fhir/concept.hpp"
#include "core/fhir/resources.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

json resource_base(DocumentBuilder& b, Fields& f, const char* resource_type, const std::string& profile) {
  return json{{"resourceType", resource_type}, {"id", b.id_for(f)}, {"meta", {{"profile", json::array({profile_url(profile)})}}}};
}

void put_note(json& r, Fields& f) {
  if (auto n = f.opt_str("note")) r["note"] = json::array({json{{"text", *n}}});
}

std::string status_of(Fields& f, const char* key, const char* dflt, std::initializer_list<std::string_view> allowed) {
  return check_one_of(f.opt_str(key).value_or(dflt), f.at(key), allowed);
}

namespace {

json concept_at(Fields& f, const char* key, unsigned allowed, const char* why) {
  return read_concept(f.need(key), f.at(key), allowed, why);
}

void opt_concept(json& r, const char* field, Fields& f, const char* key, unsigned allowed, const char* why, bool as_array) {
  if (const json* v = f.get(key)) {
    json c = read_concept(*v, f.at(key), allowed, why);
    r[field] = as_array ? json::array({c}) : c;
  }
}

json status_concept(const char* system, const std::string& code) {
  std::string display = code;
  display[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(display[0])));
  return json{{"coding", json::array({json{{"system", system}, {"code", code}, {"display", display}}})}};
}

// v3-ObservationInterpretation codes an HMIS lab flag maps onto.
const std::map<std::string, std::string>& interpretations() {
  static const std::map<std::string, std::string> m{{"N", "Normal"}, {"A", "Abnormal"}, {"AA", "Critical abnormal"},
                                                    {"H", "High"}, {"HH", "Critical high"}, {"L", "Low"},
                                                    {"LL", "Critical low"}, {"POS", "Positive"}, {"NEG", "Negative"}};
  return m;
}

json quantity(double value, Fields& f) {
  json q{{"value", value}};
  if (auto unit = f.opt_str("unit")) q["unit"] = *unit;
  // qty-3: a unit code needs its system; the record's unit_code is always UCUM.
  if (auto code = f.opt_str("unit_code")) {
    q["system"] = kUcum;
    q["code"] = check_code(*code, f.at("unit_code"));
    if (!q.contains("unit")) q["unit"] = q["code"];
  }
  return q;
}

}  // namespace

std::string add_condition(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "code", "clinical_status", "onset", "recorded", "note"});
  json r = resource_base(b, f, "Condition", "Condition");
  if (auto s = f.opt_str("clinical_status")) {
    check_one_of(*s, f.at("clinical_status"), {"active", "recurrence", "relapse", "inactive", "remission", "resolved"});
    r["clinicalStatus"] = status_concept("http://terminology.hl7.org/CodeSystem/condition-clinical", *s);
  }
  // NRCES Condition: code.coding closed-sliced by system to ICD-10 and SNOMED CT.
  r["code"] = concept_at(f, "code", kAllowSnomed | kAllowIcd10, "NRCES Condition slices code.coding to SNOMED CT and ICD-10");
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  if (auto o = f.opt_str("onset")) r["onsetDateTime"] = check_date_time(*o, f.at("onset"));
  if (auto d = f.opt_str("recorded")) r["recordedDate"] = check_date_time(*d, f.at("recorded"));
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_allergy(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "code", "clinical_status", "verification_status", "criticality", "reactions", "recorded", "note"});
  json r = resource_base(b, f, "AllergyIntolerance", "AllergyIntolerance");
  // ait-1: clinicalStatus is required unless the record is entered-in-error (not accepted here).
  std::string cs = check_one_of(f.str("clinical_status"), f.at("clinical_status"), {"active", "inactive", "resolved"});
  r["clinicalStatus"] = status_concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", cs);
  if (auto vs = f.opt_str("verification_status")) {
    check_one_of(*vs, f.at("verification_status"), {"unconfirmed", "confirmed", "refuted"});
    r["verificationStatus"] = status_concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", *vs);
  }
  if (auto c = f.opt_str("criticality")) r["criticality"] = check_one_of(*c, f.at("criticality"), {"low", "high", "unable-to-assess"});
  r["code"] = concept_at(f, "code", kAllowSnomed, "NRCES AllergyIntolerance fixes code.coding.system to SNOMED CT");
  r["patient"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  if (auto d = f.opt_str("recorded")) r["recordedDate"] = check_date_time(*d, f.at("recorded"));
  r["recorder"] = reference(b.practitioner());
  auto reactions = f.values("reactions");
  if (!reactions.empty()) {
    json manifestation = json::array();
    for (size_t i = 0; i < reactions.size(); ++i)
      manifestation.push_back(read_concept(*reactions[i], f.at("reactions") + "[" + std::to_string(i) + "]"));
    r["reaction"] = json::array({json{{"manifestation", manifestation}}});
  }
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_observation(DocumentBuilder& b, Item v, const std::string& path, const std::string& profile) {
  Fields f(v, path, {"id", "code", "value", "unit", "unit_code", "reference_range", "interpretation", "effective", "status", "note"});
  json r = resource_base(b, f, "Observation", profile);
  r["status"] = status_of(f, "status", "final", {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"});
  // NRCES Observation (and the wellness profiles): code.coding closed-sliced to LOINC and SNOMED CT.
  r["code"] = concept_at(f, "code", kAllowLoinc | kAllowSnomed, "NRCES Observation slices code.coding to LOINC and SNOMED CT");
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  if (auto e = f.opt_str("effective")) r["effectiveDateTime"] = check_date_time(*e, f.at("effective"));
  r["performer"] = json::array({reference(b.practitioner())});
  const json& value = f.need("value");
  if (value.is_number()) {
    double d = value.get<double>();
    if (!std::isfinite(d)) throw Error(sqlstate::kInvalidParameter, f.at("value"), "must be a finite number");
    r["valueQuantity"] = quantity(d, f);
  } else {
    if (value.is_boolean()) r["valueBoolean"] = value.get<bool>();
    else if (value.is_string()) r["valueString"] = string_at(value, f.at("value"));
    else if (value.is_object()) r["valueCodeableConcept"] = read_concept(value, f.at("value"));
    else throw Error(sqlstate::kInvalidParameter, f.at("value"), "must be a number, string, boolean or coded concept");
    for (const char* k : {"unit", "unit_code"})
      if (f.get(k)) throw Error(sqlstate::kInvalidParameter, f.at(k), "only a numeric value has a unit");
  }
  if (auto it = f.opt_str("interpretation")) {
    auto m = interpretations().find(*it);
    if (m == interpretations().end()) throw Error(sqlstate::kInvalidParameter, f.at("interpretation"), "must be one of N, A, AA, H, HH, L, LL, POS, NEG");
    r["interpretation"] = json::array({concept_of("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", m->first, m->second)});
  }
  if (auto rr = f.opt_obj("reference_range", {"low", "high", "text"})) {
    json range = json::object();
    std::string unit = r.contains("valueQuantity") ? r["valueQuantity"].value("unit", "") : "";
    std::string code = r.contains("valueQuantity") ? r["valueQuantity"].value("code", "") : "";
    for (const char* k : {"low", "high"}) {
      if (auto x = rr->opt_num(k)) {
        json q{{"value", *x}};
        if (!unit.empty()) q["unit"] = unit;
        if (!code.empty()) { q["system"] = kUcum; q["code"] = code; }
        range[k] = q;
      }
    }
    if (auto t = rr->opt_str("text")) range["text"] = *t;
    // obs-3: a reference range has at least low, high or text.
    if (range.empty()) throw Error(sqlstate::kNotNull, rr->path(), "needs low, high or text");
    r["referenceRange"] = json::array({range});
  }
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_service_request(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "code", "status", "intent", "occurrence", "reason", "note"});
  json r = resource_base(b, f, "ServiceRequest", "ServiceRequest");
  r["status"] = status_of(f, "status", "active", {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"});
  r["intent"] = status_of(f, "intent", "order", {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"});
  r["code"] = concept_at(f, "code", kAllowSnomed, "NRCES ServiceRequest fixes code.coding.system to SNOMED CT");
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  if (auto o = f.opt_str("occurrence")) r["occurrenceDateTime"] = check_date_time(*o, f.at("occurrence"));
  r["authoredOn"] = b.date();
  r["requester"] = reference(b.practitioner());  // NRCES ServiceRequest: requester 1..1
  opt_concept(r, "reasonCode", f, "reason", kAllowSnomed, "NRCES ServiceRequest fixes reasonCode.coding.system to SNOMED CT", true);
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_appointment(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "start", "end", "description", "service_type", "reason", "status"});
  json r = resource_base(b, f, "Appointment", "Appointment");
  r["status"] = status_of(f, "status", "booked", {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error", "checked-in", "waitlist"});
  opt_concept(r, "serviceType", f, "service_type", kAllowSnomed, "NRCES Appointment fixes serviceType.coding.system to SNOMED CT", true);
  opt_concept(r, "reasonCode", f, "reason", kAllowSnomed, "NRCES Appointment fixes reasonCode.coding.system to SNOMED CT", true);
  if (auto d = f.opt_str("description")) r["description"] = *d;
  // NRCES Appointment: start 1..1; R4 app-2: start and end come together. Both are instants.
  r["start"] = check_instant(f.str("start"), f.at("start"));
  r["end"] = check_instant(f.str("end"), f.at("end"));
  r["participant"] = json::array({json{{"actor", reference(b.patient())}, {"status", "accepted"}},
                                  json{{"actor", reference(b.practitioner())}, {"status", "accepted"}}});
  return b.add(std::move(r), f.at("id"));
}

std::string add_procedure(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "code", "status", "performed", "outcome", "body_site", "note"});
  json r = resource_base(b, f, "Procedure", "Procedure");
  r["status"] = status_of(f, "status", "completed", {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"});
  r["code"] = concept_at(f, "code", kAllowSnomed, "NRCES Procedure fixes code.coding.system to SNOMED CT");
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  if (auto p = f.opt_str("performed")) r["performedDateTime"] = check_date_time(*p, f.at("performed"));
  r["performer"] = json::array({json{{"actor", reference(b.practitioner())}}});
  opt_concept(r, "bodySite", f, "body_site", kAllowSnomed, "NRCES Procedure fixes bodySite.coding.system to SNOMED CT", true);
  opt_concept(r, "outcome", f, "outcome", kAllowSnomed, "NRCES Procedure fixes outcome.coding.system to SNOMED CT", false);
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_family_history(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "relationship", "conditions", "note"});
  json r = resource_base(b, f, "FamilyMemberHistory", "FamilyMemberHistory");
  r["status"] = "completed";
  r["patient"] = reference(b.patient());
  r["relationship"] = concept_at(f, "relationship", kAllowAny, "");
  // NRCES FamilyMemberHistory: condition 1..*, condition.code coding system fixed to SNOMED CT.
  auto conditions = f.values("conditions");
  if (conditions.empty()) throw Error(sqlstate::kNotNull, f.at("conditions"), "required (at least one condition)");
  json list = json::array();
  for (size_t i = 0; i < conditions.size(); ++i)
    list.push_back(json{{"code", read_concept(*conditions[i], f.at("conditions") + "[" + std::to_string(i) + "]", kAllowSnomed,
                                              "NRCES FamilyMemberHistory fixes condition.code.coding.system to SNOMED CT")}});
  r["condition"] = list;
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

std::string add_care_plan(DocumentBuilder& b, Item v, const std::string& path) {
  Fields f(v, path, {"id", "title", "description", "category", "status", "intent", "period_start", "period_end", "note"});
  json r = resource_base(b, f, "CarePlan", "CarePlan");
  r["status"] = status_of(f, "status", "active", {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"});
  r["intent"] = status_of(f, "intent", "plan", {"proposal", "plan", "order", "option"});
  opt_concept(r, "category", f, "category", kAllowSnomed, "NRCES CarePlan fixes category.coding.system to SNOMED CT", true);
  if (auto t = f.opt_str("title")) r["title"] = *t;
  r["description"] = f.str("description");
  r["subject"] = reference(b.patient());
  if (!b.encounter().empty()) r["encounter"] = reference(b.encounter());
  json period = json::object();
  if (auto s = f.opt_str("period_start")) period["start"] = check_date_time(*s, f.at("period_start"));
  if (auto e = f.opt_str("period_end")) period["end"] = check_date_time(*e, f.at("period_end"));
  if (!period.empty()) r["period"] = period;
  r["author"] = reference(b.practitioner());
  put_note(r, f);
  return b.add(std::move(r), f.at("id"));
}

}  // namespace abdm::fhir
