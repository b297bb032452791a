#include "core/fhir/document_builder.hpp"

#include <regex>

#include "core/fhir/concept.hpp"
#include "core/fhir/uuid.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

json reference(const std::string& ref) { return json{{"reference", ref}}; }

namespace {

std::vector<std::string> root_keys(std::initializer_list<std::string_view> extra) {
  std::vector<std::string> keys{"patient", "practitioner", "facility", "visit", "document"};
  for (auto k : extra) keys.emplace_back(k);
  return keys;
}

json meta_profile(const std::string& profile) { return json{{"profile", json::array({profile_url(profile)})}}; }

// Identifier types: HL7 v2 table 0203 and the NRCES ndhm-identifier-type-code CodeSystem (6.x),
// the two systems of the extensible ValueSet ndhm-identifier-type-code bound to Patient/
// Practitioner/Organization.identifier.type.
json identifier(const char* type_system, const char* code, const char* display, const std::string& text,
                const std::string& system, const std::string& value) {
  json id{{"type", concept_of(type_system, code, display, text)}, {"value", value}};
  if (!system.empty()) id["system"] = system;
  return id;
}

}  // namespace

DocumentBuilder::DocumentBuilder(const RecordType& type, const json& record, std::initializer_list<std::string_view> type_keys)
    : type_(type), root_(record, "record", root_keys(type_keys)) {
  // The seed covers the whole input, so any change to the record changes every derived id.
  seed_ = sha1_hex(type.hi_type + "\n" + record.dump());
  read_document();
  read_patient();
  read_practitioner();
  read_facility();
  read_visit();
}

std::string DocumentBuilder::derived_id(const std::string& key) const {
  return uuid_v5(kUuidNamespaceUrl, "abdm_hip:" + seed_ + ":" + key);
}

std::string DocumentBuilder::id_for(Fields& item) {
  if (auto given = item.opt_str("id")) return check_uuid(*given, item.at("id"));
  return derived_id(item.path());
}

std::string DocumentBuilder::add(json resource, const std::string& id_path) {
  std::string id = resource.at("id").get<std::string>();
  if (!ids_.insert(id).second) {
    throw Error(sqlstate::kInvalidParameter, id_path, "id " + id + " is used by another resource of this document");
  }
  std::string ref = "urn:uuid:" + id;
  entries_.push_back(json{{"fullUrl", ref}, {"resource", std::move(resource)}});
  return ref;
}

void DocumentBuilder::section(std::string_view key, const std::string& ref, const std::string& resource_type) {
  section_slice(type_, key);  // throws on a builder bug
  sections_[std::string(key)].emplace_back(ref, resource_type);
}

bool DocumentBuilder::section_empty(std::string_view key) const {
  auto it = sections_.find(key);
  return it == sections_.end() || it->second.empty();
}

void DocumentBuilder::each(std::string_view key, const std::function<void(const json&, const std::string&)>& fn) { root_.each(key, fn); }

json* DocumentBuilder::encounter_resource() {
  if (encounter_ref_.empty()) return nullptr;
  return &entries_[encounter_index_]["resource"];
}

void DocumentBuilder::read_document() {
  Fields d = root_.obj("document", {"id", "date", "title", "status", "version"});
  bundle_id_ = d.has("id") ? check_uuid(d.str("id"), d.at("id")) : derived_id("record.document");
  // Bundle.timestamp and meta.lastUpdated are FHIR instants: the record's own date, never the clock,
  // so a rebuilt document is identical.
  date_ = check_instant(d.str("date"), d.at("date"));
  title_ = d.opt_str("title").value_or(type_.title);
  status_ = check_one_of(d.opt_str("status").value_or("final"), d.at("status"), {"preliminary", "final", "amended", "entered-in-error"});
  version_ = d.opt_str("version").value_or("1");
  static const std::regex kVersionId(R"(^[A-Za-z0-9\-.]{1,64}$)");
  if (!std::regex_match(version_, kVersionId)) {
    throw Error(sqlstate::kInvalidText, d.at("version"), "must be a FHIR id (letters, digits, '-', '.'; at most 64)");
  }
}

void DocumentBuilder::read_patient() {
  Fields p = root_.obj("patient", {"id", "ref", "name", "gender", "birth_date", "mobile", "abha_number", "abha_address"});
  json r{{"resourceType", "Patient"}, {"id", id_for(p)}, {"meta", meta_profile("Patient")}};
  // NRCES Patient: identifier 1..*, each with type.coding (system, code, display) and value.
  json ids = json::array();
  ids.push_back(identifier(kV2_0203, "MR", "Medical record number", "", "", p.str("ref")));
  if (auto n = p.opt_str("abha_number")) {
    static const std::regex kAbhaNumber(R"(^[0-9]{2}-?[0-9]{4}-?[0-9]{4}-?[0-9]{4}$)");
    if (!std::regex_match(*n, kAbhaNumber)) throw Error(sqlstate::kInvalidText, p.at("abha_number"), "must be a 14-digit ABHA number (91-1234-5678-9012)");
    ids.push_back(identifier(kNdhmIdentifierType, "ABHA", "Ayushman Bharat Health Account (ABHA) ID", "ABHA number",
                             "https://healthid.ndhm.gov.in", *n));
  }
  if (auto a = p.opt_str("abha_address")) {
    static const std::regex kAbhaAddress(R"(^[A-Za-z0-9][A-Za-z0-9._]*@[A-Za-z0-9][A-Za-z0-9.]*$)");
    if (!std::regex_match(*a, kAbhaAddress)) throw Error(sqlstate::kInvalidText, p.at("abha_address"), "must be an ABHA address (name@abdm)");
    ids.push_back(identifier(kNdhmIdentifierType, "ABHA", "Ayushman Bharat Health Account (ABHA) ID", "ABHA address",
                             "https://healthid.ndhm.gov.in/abha-address", *a));
  }
  r["identifier"] = ids;
  r["name"] = json::array({json{{"text", p.str("name")}}});
  std::string g = p.str("gender");
  // ABDM's own APIs use M/F/O/U; FHIR's administrative-gender is required-bound.
  static const std::map<std::string, std::string> kGender{{"M", "male"}, {"F", "female"}, {"O", "other"}, {"U", "unknown"},
                                                          {"male", "male"}, {"female", "female"}, {"other", "other"}, {"unknown", "unknown"}};
  auto gi = kGender.find(g);
  if (gi == kGender.end()) throw Error(sqlstate::kInvalidParameter, p.at("gender"), "must be male, female, other, unknown (or M, F, O, U)");
  r["gender"] = gi->second;
  if (auto b = p.opt_str("birth_date")) r["birthDate"] = check_date(*b, p.at("birth_date"));
  if (auto m = p.opt_str("mobile")) {
    static const std::regex kPhone(R"(^\+?[0-9]{10,13}$)");
    if (!std::regex_match(*m, kPhone)) throw Error(sqlstate::kInvalidText, p.at("mobile"), "must be a phone number (10 to 13 digits, optional +)");
    r["telecom"] = json::array({json{{"system", "phone"}, {"value", *m}, {"use", "mobile"}}});
  }
  patient_ref_ = add(std::move(r), p.at("id"));
}

void DocumentBuilder::read_practitioner() {
  Fields p = root_.obj("practitioner", {"id", "registration", "registration_system", "name"});
  json r{{"resourceType", "Practitioner"}, {"id", id_for(p)}, {"meta", meta_profile("Practitioner")}};
  // HPR id / medical registration number; the IG examples type it v2-0203 MD under https://doctor.ndhm.gov.in.
  std::string system = p.opt_str("registration_system").value_or("https://doctor.ndhm.gov.in");
  r["identifier"] = json::array({identifier(kV2_0203, "MD", "Medical License number", "", system, p.str("registration"))});
  r["name"] = json::array({json{{"text", p.str("name")}}});
  practitioner_ref_ = add(std::move(r), p.at("id"));
}

void DocumentBuilder::read_facility() {
  Fields f = root_.obj("facility", {"id", "hfr_id", "name", "phone"});
  json r{{"resourceType", "Organization"}, {"id", id_for(f)}, {"meta", meta_profile("Organization")}};
  // NRCES Organization: identifier.system 1..; the IG examples use v2-0203 PRN under the HFR namespace.
  r["identifier"] = json::array({identifier(kV2_0203, "PRN", "Provider number", "", "https://facility.ndhm.gov.in", f.str("hfr_id"))});
  r["name"] = f.str("name");
  if (auto ph = f.opt_str("phone")) r["telecom"] = json::array({json{{"system", "phone"}, {"value", *ph}, {"use", "work"}}});
  organization_ref_ = add(std::move(r), f.at("id"));
}

void DocumentBuilder::read_visit() {
  std::optional<Fields> v = root_.opt_obj("visit", {"id", "ref", "class", "start", "end", "status"});
  if (!v) {
    if (type_.encounter_required) throw Error(sqlstate::kNotNull, root_.at("visit"), "required (the " + type_.profile + " profile requires Composition.encounter)");
    return;
  }
  json r{{"resourceType", "Encounter"}, {"id", id_for(*v)}, {"meta", meta_profile("Encounter")}};
  if (auto ref = v->opt_str("ref")) r["identifier"] = json::array({json{{"value", *ref}}});
  // Encounter.class: v3-ActCode (extensible binding v3-ActEncounterCode).
  static const std::map<std::string, std::string> kClass{{"AMB", "ambulatory"}, {"IMP", "inpatient encounter"}, {"EMER", "emergency"},
                                                         {"HH", "home health"}, {"VR", "virtual"}, {"SS", "short stay"},
                                                         {"OBSENC", "observation encounter"}, {"PRENC", "pre-admission"}, {"FLD", "field"}};
  std::string cls = v->str("class");
  auto ci = kClass.find(cls);
  if (ci == kClass.end()) throw Error(sqlstate::kInvalidParameter, v->at("class"), "must be a v3-ActCode encounter class: AMB, IMP, EMER, HH, VR, SS, OBSENC, PRENC or FLD");
  json period{{"start", check_date_time(v->str("start"), v->at("start"))}};
  std::optional<std::string> end = v->opt_str("end");
  if (end) period["end"] = check_date_time(*end, v->at("end"));
  std::string status = v->opt_str("status").value_or(end ? "finished" : "in-progress");
  check_one_of(status, v->at("status"), {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"});
  r["status"] = status;
  r["class"] = coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", cls, ci->second);
  r["subject"] = reference(patient_ref_);
  r["participant"] = json::array({json{{"individual", reference(practitioner_ref_)}}});
  r["period"] = period;
  r["serviceProvider"] = reference(organization_ref_);
  encounter_index_ = entries_.size();
  encounter_ref_ = add(std::move(r), v->at("id"));
}

json DocumentBuilder::finish() {
  json sections = json::array();
  for (const auto& slice : type_.sections) {
    auto it = sections_.find(slice.key);
    if (it == sections_.end() || it->second.empty()) continue;
    json s{{"title", slice.title}};  // WellnessRecord: the slice discriminator
    if (section_code_) s["code"] = *section_code_;
    else if (!slice.code.code.empty()) s["code"] = concept_of(slice.code.system, slice.code.code, slice.code.display);
    json entry = json::array();
    // entry.type is the discriminator of the closed entry slicing in the 6.x single-section profiles;
    // it is set everywhere so a reader never has to resolve a reference to know what it points at.
    for (const auto& [ref, rtype] : it->second) entry.push_back(json{{"reference", ref}, {"type", rtype}});
    s["entry"] = entry;
    sections.push_back(std::move(s));
  }
  if (sections.empty()) {
    std::string keys;
    for (const auto& slice : type_.sections) keys += (keys.empty() ? "" : ", ") + slice.key;
    throw Error(sqlstate::kNotNull, "record", "the " + type_.profile + " profile needs at least one section entry: give one of " + keys);
  }

  std::string comp_id = derived_id("composition");
  json comp{{"resourceType", "Composition"}, {"id", comp_id}, {"meta", meta_profile(type_.profile)}, {"language", "en-IN"}};
  comp["identifier"] = json{{"system", "urn:ietf:rfc:3986"}, {"value", "urn:uuid:" + comp_id}};
  comp["status"] = status_;
  if (composition_type_) comp["type"] = *composition_type_;
  else if (!type_.type.code.empty()) comp["type"] = concept_of(type_.type.system, type_.type.code, type_.type.display);
  else comp["type"] = json{{"text", type_.type_text}};
  comp["subject"] = reference(patient_ref_);
  if (!encounter_ref_.empty()) comp["encounter"] = reference(encounter_ref_);
  comp["date"] = date_;
  comp["author"] = json::array({reference(practitioner_ref_)});
  comp["title"] = title_;
  comp["custodian"] = reference(organization_ref_);
  comp["section"] = sections;

  json entry = json::array();
  entry.push_back(json{{"fullUrl", "urn:uuid:" + comp_id}, {"resource", std::move(comp)}});
  for (auto& e : entries_) entry.push_back(std::move(e));
  entries_.clear();

  json bundle{{"resourceType", "Bundle"}, {"id", bundle_id_}};
  bundle["meta"] = json{{"versionId", version_},
                        {"lastUpdated", date_},
                        {"profile", json::array({profile_url("DocumentBundle")})},
                        {"security", json::array({coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "V", "very restricted")})}};
  // bdl-9: a document has identifier.system and .value; a UUID identifier is written as a URN.
  bundle["identifier"] = json{{"system", "urn:ietf:rfc:3986"}, {"value", "urn:uuid:" + bundle_id_}};
  bundle["type"] = "document";
  bundle["timestamp"] = date_;
  bundle["entry"] = std::move(entry);
  return bundle;
}

}  // namespace abdm::fhir
