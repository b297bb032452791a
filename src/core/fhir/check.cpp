// The document rules a bundle must meet before abdm_hip stores or sends it. Sources:
// - FHIR R4 Bundle invariants bdl-7 (unique fullUrl), bdl-9 (document identifier system+value),
//   bdl-10 (document timestamp), bdl-11 (first entry a Composition); Composition cmp-2 (a section
//   has text, entries or sub-sections); R4 §2.36 "Resolving references in Bundles".
// - NRCES IG 6.x profiles: DocumentBundle (meta.versionId, identifier, type=document, timestamp),
//   the eight Composition profiles (record_types.cpp: type, section slices, entry types, encounter
//   for OPConsultRecord/DischargeSummaryRecord), Patient/Practitioner/Organization identifiers
//   (type and value; Organization also system), DocumentReference/Binary attachment data.
// - Project rule: meta.lastUpdated on the Bundle (every IG example has it; ABDM consumers sort on it).
// Section codes outside a profile's (open) slicing and unknown titles are warnings, not errors.
#include <map>
#include <regex>
#include <set>

#include "core/fhir/fhir.hpp"
#include "core/fhir/record_types.hpp"
#include "core/fhir/uuid.hpp"
#include "core/fhir/values.hpp"
#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

bool has_errors(const std::vector<Issue>& issues) {
  for (const auto& i : issues)
    if (i.severity == "error") return true;
  return false;
}

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// j[key], or a null value when j is not an object or has no such key (never a temporary, so the
// result can be bound and iterated safely).
const json& member(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  auto it = j.find(key);
  return it != j.end() ? *it : null_value;
}

const json& arr(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

bool valid(const std::string& v, std::string (*check)(const std::string&, const std::string&)) {
  try {
    check(v, "");
    return true;
  } catch (const Error&) {
    return false;
  }
}

class Checker {
 public:
  explicit Checker(const json& b) : b_(b) {}

  std::vector<Issue> run() {
    if (!b_.is_object() || str(b_, "resourceType") != "Bundle") {
      err("Bundle", "not a FHIR Bundle (resourceType must be \"Bundle\")");
      return out_;
    }
    header();
    index_entries();
    const json& entries = arr(b_, "entry");
    if (entries.empty()) return out_;
    const json& comp = member(entries[0], "resource");
    if (str(comp, "resourceType") != "Composition") {
      err("Bundle.entry[0].resource", "a document's first entry must be a Composition (bdl-11)");
    } else {
      composition(comp, "Bundle.entry[0].resource");
    }
    references();
    entry_rules();
    return out_;
  }

 private:
  void err(const std::string& path, const std::string& msg) { out_.push_back({"error", path, msg}); }
  void warn(const std::string& path, const std::string& msg) { out_.push_back({"warning", path, msg}); }

  void header() {
    if (str(b_, "type") != "document") err("Bundle.type", "must be \"document\" (DocumentBundle fixes type)");
    const json& meta = member(b_, "meta");
    if (!meta.is_object()) {
      err("Bundle.meta", "required (DocumentBundle: meta 1..1)");
    } else {
      if (str(meta, "versionId").empty()) err("Bundle.meta.versionId", "required (DocumentBundle: meta.versionId 1..1)");
      std::string lu = str(meta, "lastUpdated");
      if (lu.empty()) err("Bundle.meta.lastUpdated", "required (abdm_hip rule: the document's last change)");
      else if (!valid(lu, check_instant)) err("Bundle.meta.lastUpdated", "must be a FHIR instant");
      bool profiled = false;
      for (const auto& p : arr(meta, "profile"))
        if (p.is_string() && p.get<std::string>().substr(0, p.get<std::string>().find('|')) == profile_url("DocumentBundle")) profiled = true;
      if (!profiled) err("Bundle.meta.profile", "must name " + profile_url("DocumentBundle"));
    }
    const json& id = member(b_, "identifier");
    if (str(id, "system").empty() || str(id, "value").empty()) err("Bundle.identifier", "a document needs identifier.system and identifier.value (bdl-9)");
    std::string ts = str(b_, "timestamp");
    if (ts.empty()) err("Bundle.timestamp", "a document needs a timestamp (bdl-10)");
    else if (!valid(ts, check_instant)) err("Bundle.timestamp", "must be a FHIR instant (date, time with seconds, zone)");
    if (arr(b_, "entry").empty()) err("Bundle.entry", "a document has at least the Composition entry");
  }

  void index_entries() {
    const json& entries = arr(b_, "entry");
    for (size_t i = 0; i < entries.size(); ++i) {
      std::string p = "Bundle.entry[" + std::to_string(i) + "]";
      const json& e = entries[i];
      const json* r = e.is_object() && e.contains("resource") && e["resource"].is_object() ? &e["resource"] : nullptr;
      if (!r || str(*r, "resourceType").empty()) {
        err(p + ".resource", "missing or without resourceType");
        continue;
      }
      std::string full = str(e, "fullUrl");
      if (full.empty()) {
        err(p + ".fullUrl", "required: entries of a document are referenced by fullUrl");
      } else {
        if (full.rfind("urn:uuid:", 0) == 0 && !is_uuid(full.substr(9))) err(p + ".fullUrl", "urn:uuid: must be followed by a UUID");
        if (!by_full_.emplace(full, r).second) err(p + ".fullUrl", "duplicate fullUrl " + full + " (bdl-7)");
      }
      std::string id = str(*r, "id");
      if (!id.empty()) by_type_id_.emplace(str(*r, "resourceType") + "/" + id, r);
    }
  }

  // R4 §2.36.4: a reference resolves to the entry whose fullUrl equals it; a relative "Type/id"
  // resolves against the entries' resource type and id.
  const json* resolve(const std::string& ref) const {
    auto f = by_full_.find(ref);
    if (f != by_full_.end()) return f->second;
    static const std::regex kRelative(R"(^([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(/_history/[A-Za-z0-9\-.]{1,64})?$)");
    std::smatch m;
    if (std::regex_match(ref, m, kRelative)) {
      auto t = by_type_id_.find(m[1].str());
      if (t != by_type_id_.end()) return t->second;
    }
    return nullptr;
  }

  const json* target(const json& ref_obj, const std::string& path, const std::set<std::string>& types, const char* what) {
    std::string ref = str(ref_obj, "reference");
    if (ref.empty()) {
      err(path, std::string(what) + " needs a reference");
      return nullptr;
    }
    const json* r = resolve(ref);
    if (!r) return nullptr;  // reported by references()
    if (!types.count(str(*r, "resourceType"))) {
      std::string list;
      for (const auto& t : types) list += (list.empty() ? "" : "|") + t;
      err(path, std::string(what) + " must reference a " + list + ", not a " + str(*r, "resourceType"));
      return nullptr;
    }
    return r;
  }

  void composition(const json& c, const std::string& cp) {
    const RecordType* rt = nullptr;
    for (const auto& p : arr(member(c, "meta"), "profile"))
      if (p.is_string() && !rt) rt = record_type_by_profile(p.get<std::string>());
    if (!rt) {
      std::string list;
      for (const auto& t : record_types()) list += (list.empty() ? "" : ", ") + t.profile;
      err(cp + ".meta.profile", "must name one of the ABDM record profiles: " + list);
    }
    std::string status = str(c, "status");
    if (status != "preliminary" && status != "final" && status != "amended" && status != "entered-in-error")
      err(cp + ".status", "must be preliminary, final, amended or entered-in-error");
    std::string date = str(c, "date");
    if (date.empty() || !valid(date, check_date_time)) err(cp + ".date", "required, a FHIR dateTime");
    if (str(c, "title").empty()) err(cp + ".title", "required");

    const json* patient = c.contains("subject") ? target(c["subject"], cp + ".subject", {"Patient"}, "Composition.subject") : nullptr;
    if (!c.contains("subject")) err(cp + ".subject", "required: the Patient the document is about");
    if (patient) patient_identifiers(*patient, cp + ".subject");
    if (c.contains("encounter")) target(c["encounter"], cp + ".encounter", {"Encounter"}, "Composition.encounter");
    else if (rt && rt->encounter_required) err(cp + ".encounter", rt->profile + " requires Composition.encounter");
    const json& authors = arr(c, "author");
    if (authors.empty()) err(cp + ".author", "required (1..*)");
    for (size_t i = 0; i < authors.size(); ++i)
      target(authors[i], cp + ".author[" + std::to_string(i) + "]",
             {"Practitioner", "PractitionerRole", "Organization", "Patient", "Device", "RelatedPerson"}, "Composition.author");
    if (c.contains("custodian")) target(c["custodian"], cp + ".custodian", {"Organization"}, "Composition.custodian");
    if (!rt) return;
    composition_type(c, cp, *rt);
    sections(c, cp, *rt);
  }

  void patient_identifiers(const json& p, const std::string& path) {
    if (arr(p, "identifier").empty()) err(path, "the Patient has no identifier (NRCES Patient: identifier 1..*)");
  }

  // NRCES Patient, Practitioner and Organization: identifier 1..*, each with type 1..1 and value
  // 1..1; Organization also system 1..1 (the HFR namespace).
  void identifiers(const json& r, const std::string& p, const std::string& type, bool system_required) {
    const json& ids = arr(r, "identifier");
    if (ids.empty()) err(p + ".identifier", "NRCES " + type + " requires an identifier (1..*)");
    for (size_t k = 0; k < ids.size(); ++k) {
      std::string ip = p + ".identifier[" + std::to_string(k) + "]";
      const json& t = member(ids[k], "type");
      if (!t.is_object() || (arr(t, "coding").empty() && str(t, "text").empty())) err(ip + ".type", "required (NRCES " + type + ")");
      if (str(ids[k], "value").empty()) err(ip + ".value", "required (NRCES " + type + ")");
      if (system_required && str(ids[k], "system").empty()) err(ip + ".system", "required (NRCES " + type + ": the HFR id namespace)");
    }
  }

  static bool same(const json& coding, const Coding& want, bool system_optional = false) {
    std::string sys = str(coding, "system");
    return (sys == want.system || (system_optional && sys.empty())) && str(coding, "code") == want.code && str(coding, "display") == want.display;
  }

  void composition_type(const json& c, const std::string& cp, const RecordType& rt) {
    const json& type = member(c, "type");
    const json& codings = arr(type, "coding");
    std::string p = cp + ".type";
    if (!type.is_object()) {
      err(p, "required");
      return;
    }
    if (!rt.type.code.empty()) {
      // The coded profiles make type.coding 1..1 and fix system, code and display.
      if (codings.size() != 1 || !same(codings[0], rt.type, rt.profile == "PrescriptionRecord"))
        err(p + ".coding", rt.profile + " requires exactly one coding " + rt.type.system + "|" + rt.type.code + " \"" + rt.type.display + "\"");
    } else if (rt.type_snomed_any) {
      if (codings.size() != 1 || str(codings[0], "system") != kSnomed || str(codings[0], "code").empty() || str(codings[0], "display").empty())
        err(p + ".coding", rt.profile + " requires exactly one SNOMED CT coding with code and display");
    } else {
      std::string text = str(type, "text");
      if (text.empty() && codings.empty()) err(p + ".text", rt.profile + " fixes type.text to \"" + rt.type_text + "\"");
      else if (text.empty()) warn(p + ".text", rt.profile + " documents carry type.text \"" + rt.type_text + "\"");
      else if (text != rt.type_text) err(p + ".text", rt.profile + " fixes type.text to \"" + rt.type_text + "\"");
    }
  }

  // The section entry's target and its resource type, checked against `allowed`.
  void section_entries(const json& s, const std::string& sp, const std::vector<std::string>& allowed, const RecordType& rt,
                       std::map<std::string, int>* per_type) {
    const json& entries = arr(s, "entry");
    for (size_t j = 0; j < entries.size(); ++j) {
      std::string ep = sp + ".entry[" + std::to_string(j) + "]";
      std::string declared = str(entries[j], "type");
      const json* r = resolve(str(entries[j], "reference"));
      if (!r) continue;  // reported by references()
      std::string actual = str(*r, "resourceType");
      if (!declared.empty() && declared != actual) err(ep + ".type", "says " + declared + " but the entry is a " + actual);
      bool ok = false;
      for (const auto& a : allowed) ok = ok || a == actual;
      if (!ok) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
        err(ep, rt.profile + ": this section admits " + list + ", not " + actual);
      }
      if (per_type) {
        if (!rt.entry_slices.empty() && declared.empty())
          err(ep + ".type", rt.profile + " slices section entries by type (closed): entry.type is required");
        ++(*per_type)[actual];
      }
    }
  }

  void sections(const json& c, const std::string& cp, const RecordType& rt) {
    const json& secs = arr(c, "section");
    if (secs.empty()) {
      err(cp + ".section", rt.profile + " requires at least one section");
      return;
    }
    std::map<std::string, int> seen;
    for (size_t i = 0; i < secs.size(); ++i) {
      const json& s = secs[i];
      std::string sp = cp + ".section[" + std::to_string(i) + "]";
      if (arr(s, "entry").empty() && arr(s, "section").empty() && !(s.is_object() && s.contains("text")))
        err(sp, "a section needs text, entries or sub-sections (cmp-2)");
      const json& codings = arr(member(s, "code"), "coding");
      if (rt.rule == SectionRule::kSingle) {
        if (i == 0) single_section(s, sp, codings, rt);
        else err(sp, rt.profile + " has exactly one section");
        continue;
      }
      const SectionSlice* slice = nullptr;
      for (const auto& sl : rt.sections) {
        if (rt.rule == SectionRule::kSlicedByTitle ? str(s, "title") == sl.title : [&] {
              for (const auto& cd : codings)
                if (str(cd, "code") == sl.code.code) return true;
              return false;
            }())
          slice = &sl;
      }
      if (!slice) {
        warn(sp, rt.rule == SectionRule::kSlicedByTitle ? "title \"" + str(s, "title") + "\" is none of the " + rt.profile + " section titles"
                                                        : "code is none of the " + rt.profile + " section slices (admitted by its open slicing)");
        continue;
      }
      if (++seen[slice->key] == 2) err(sp, rt.profile + " allows the \"" + slice->title + "\" section at most once");
      if (rt.rule == SectionRule::kSlicedByCode)
        for (const auto& cd : codings)
          if (!same(cd, slice->code)) err(sp + ".code", "must be " + slice->code.system + "|" + slice->code.code + " \"" + slice->code.display + "\"");
      section_entries(s, sp, slice->resources, rt, nullptr);
    }
  }

  void single_section(const json& s, const std::string& sp, const json& codings, const RecordType& rt) {
    const SectionSlice& slice = rt.sections.front();
    for (const auto& cd : codings) {
      if (!slice.code.code.empty() && !same(cd, slice.code))
        err(sp + ".code", "must be " + slice.code.system + "|" + slice.code.code + " \"" + slice.code.display + "\"");
      if (rt.type_snomed_any && (str(cd, "system") != kSnomed || str(cd, "code").empty() || str(cd, "display").empty()))
        err(sp + ".code", rt.profile + ": the section code must be a SNOMED CT coding with code and display");
    }
    const json& entries = arr(s, "entry");
    if (entries.empty()) err(sp + ".entry", rt.profile + " requires at least one section entry");
    if (rt.max_entries >= 0 && static_cast<int>(entries.size()) > rt.max_entries)
      err(sp + ".entry", rt.profile + " allows at most " + std::to_string(rt.max_entries) + " section entries");
    std::map<std::string, int> per_type;
    section_entries(s, sp, slice.resources, rt, &per_type);
    for (const auto& es : rt.entry_slices)
      if (es.max >= 0 && per_type[es.type] > es.max)
        err(sp + ".entry", rt.profile + " allows at most " + std::to_string(es.max) + " " + es.type + " entr" + (es.max == 1 ? "y" : "ies"));
  }

  // Every "reference" string under `node`, with its path. `path` is one buffer extended and cut
  // back while walking, so a large bundle costs no string per node.
  void collect(const json& node, std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
    const size_t keep = path.size();
    if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) {
        if (!node[i].is_structured()) continue;
        path.append("[").append(std::to_string(i)).append("]");
        collect(node[i], path, out);
        path.resize(keep);
      }
    } else if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it.key() == "reference" && it->is_string()) {
          out.emplace_back(path + ".reference", it->get<std::string>());
        } else if (it->is_structured() && it.key() != "contained") {
          path.append(".").append(it.key());
          collect(*it, path, out);
          path.resize(keep);
        }
      }
    }
  }

  void references() {
    std::vector<std::pair<std::string, std::string>> refs;
    const json& entries = arr(b_, "entry");
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].is_object() || !entries[i].contains("resource")) continue;
      std::string path = "Bundle.entry[" + std::to_string(i) + "].resource";
      collect(entries[i]["resource"], path, refs);
    }
    for (const auto& [path, ref] : refs)
      if (ref.empty() || (ref[0] != '#' && !resolve(ref))) err(path, "reference \"" + ref + "\" does not resolve inside the bundle");
  }

  // Identifiers the NRCES profiles require, and attachment data that must be base64.
  void entry_rules() {
    const json& entries = arr(b_, "entry");
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].is_object() || !entries[i].contains("resource")) continue;
      const json& r = entries[i]["resource"];
      std::string p = "Bundle.entry[" + std::to_string(i) + "].resource";
      std::string type = str(r, "resourceType");
      if (type == "Patient" || type == "Practitioner" || type == "Organization") {
        identifiers(r, p, type, type == "Organization");
      } else if (type == "DocumentReference") {
        const json& content = arr(r, "content");
        if (content.empty()) err(p + ".content", "required (1..*)");
        for (size_t k = 0; k < content.size(); ++k)
          attachment(member(content[k], "attachment"), p + ".content[" + std::to_string(k) + "].attachment", true);
      } else if (type == "Binary") {
        attachment(r, p, true);
      } else if (type == "Media") {
        attachment(member(r, "content"), p + ".content", false);
      }
    }
  }

  void attachment(const json& a, const std::string& p, bool data_required) {
    std::string data = str(a, "data");
    if (str(a, "contentType").empty() && (data_required || !data.empty())) err(p + ".contentType", "required with attachment data");
    if (data.empty()) {
      if (data_required) err(p + ".data", "required (NRCES: inline base64 data)");
      return;
    }
    try {
      check_base64(data, p + ".data");
    } catch (const Error& e) {
      err(p + ".data", "is not valid base64");
    }
  }

  const json& b_;
  std::vector<Issue> out_;
  std::map<std::string, const json*> by_full_;
  std::map<std::string, const json*> by_type_id_;
};

}  // namespace

std::vector<Issue> check(const json& bundle) { return Checker(bundle).run(); }

std::string hi_type_of(const json& bundle) {
  const json& entries = arr(bundle, "entry");
  if (entries.empty()) return "";
  const json& comp = member(entries[0], "resource");
  if (str(comp, "resourceType") != "Composition") return "";
  for (const auto& p : arr(member(comp, "meta"), "profile"))
    if (p.is_string())
      if (const RecordType* rt = record_type_by_profile(p.get<std::string>())) return rt->hi_type;
  return "";
}

}  // namespace abdm::fhir
