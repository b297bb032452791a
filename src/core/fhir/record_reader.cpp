#include "core/fhir/record_reader.hpp"

#include <cmath>

#include "core/util/error.hpp"

namespace abdm::fhir {

using nlohmann::json;

namespace {
const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}

std::string hex4(unsigned char c) {
  static const char* digits = "0123456789ABCDEF";
  return std::string("00") + digits[c >> 4] + digits[c & 15];
}
}  // namespace

std::string string_at(const json& v, const std::string& path) {
  if (!v.is_string()) {
    throw Error(sqlstate::kInvalidParameter, path, std::string("must be a string, not ") + type_name(v));
  }
  std::string s = v.get<std::string>();
  if (s.empty()) throw Error(sqlstate::kInvalidParameter, path, "must not be empty");
  // FHIR R4 §2.24.0.1 (datatypes, string): "Strings SHALL NOT exceed 1MB (1024*1024 characters)"
  // and hold no characters below U+0020 other than tab, CR and LF. A value of only whitespace
  // passes the R4 JSON schema's pattern but says nothing: an HMIS column of blanks is an error
  // in the HMIS, better reported here than shown to the patient as an empty name.
  bool blank = true;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++chars > kMaxStringChars)
      throw Error(sqlstate::kInvalidParameter, path, "is longer than FHIR's string limit of 1024*1024 characters");
    if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
      throw Error(sqlstate::kInvalidText, path,
                  "holds control character U+" + hex4(c) + " at byte " + std::to_string(i) + " (FHIR strings may not)");
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') blank = false;
  }
  if (blank) throw Error(sqlstate::kInvalidParameter, path, "must not be blank (only whitespace)");
  return s;
}

Fields::Fields(const json& value, std::string path, Keys allowed)
    : Fields(value, std::move(path), std::vector<std::string>(allowed.begin(), allowed.end())) {}

Fields::Fields(const json& value, std::string path, const std::vector<std::string>& allowed)
    : value_(&value), path_(std::move(path)), allowed_(allowed.begin(), allowed.end()) {
  if (!value.is_object()) {
    throw Error(sqlstate::kInvalidParameter, path_, std::string("must be an object, not ") + type_name(value));
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!allowed_.count(it.key())) throw Error(sqlstate::kInvalidParameter, at(it.key()), "unknown field");
  }
}

bool Fields::has(std::string_view key) const {
  auto it = value_->find(key);
  return it != value_->end() && !it->is_null();
}

const json* Fields::get(std::string_view key) {
  // A key outside the allowed list would be silently unreachable for callers: a builder bug.
  if (!allowed_.count(key)) throw Error(sqlstate::kInternal, at(key), "read of an undeclared field");
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return nullptr;
  return &*it;
}

const json& Fields::need(std::string_view key) {
  const json* v = get(key);
  if (!v) throw Error(sqlstate::kNotNull, at(key), "required");
  return *v;
}

std::string Fields::str(std::string_view key) { return string_at(need(key), at(key)); }

std::string Fields::binary(std::string_view key) {
  const json& v = need(key);
  if (!v.is_string()) {
    throw Error(sqlstate::kInvalidParameter, at(key), std::string("must be a string, not ") + type_name(v));
  }
  std::string s = v.get<std::string>();
  if (s.empty()) throw Error(sqlstate::kInvalidParameter, at(key), "must not be empty");
  return s;
}

std::optional<std::string> Fields::opt_str(std::string_view key) {
  const json* v = get(key);
  if (!v) return std::nullopt;
  return string_at(*v, at(key));
}

double Fields::num(std::string_view key) {
  const json& v = need(key);
  if (!v.is_number()) {
    throw Error(sqlstate::kInvalidParameter, at(key), std::string("must be a number, not ") + type_name(v));
  }
  double d = v.get<double>();
  if (!std::isfinite(d)) throw Error(sqlstate::kInvalidParameter, at(key), "must be a finite number");
  return d;
}

std::optional<double> Fields::opt_num(std::string_view key) {
  if (!get(key)) return std::nullopt;
  return num(key);
}

Fields Fields::obj(std::string_view key, Keys allowed) { return Fields(need(key), at(key), allowed); }

std::optional<Fields> Fields::opt_obj(std::string_view key, Keys allowed) {
  const json* v = get(key);
  if (!v) return std::nullopt;
  return Fields(*v, at(key), allowed);
}

std::vector<const json*> Fields::values(std::string_view key) {
  std::vector<const json*> out;
  const json* v = get(key);
  if (!v) return out;
  if (!v->is_array()) {
    throw Error(sqlstate::kInvalidParameter, at(key), std::string("must be an array, not ") + type_name(*v));
  }
  for (const json& e : *v) out.push_back(&e);
  return out;
}

std::vector<Fields> Fields::list(std::string_view key, Keys allowed) {
  std::vector<Fields> out;
  auto items = values(key);
  for (size_t i = 0; i < items.size(); ++i) {
    out.emplace_back(*items[i], at(key) + "[" + std::to_string(i) + "]", allowed);
  }
  return out;
}

}  // namespace abdm::fhir

namespace abdm::fhir {

void Fields::each(std::string_view key, const std::function<void(const json&, const std::string&)>& fn) {
  auto items = values(key);
  for (size_t i = 0; i < items.size(); ++i) fn(*items[i], at(key) + "[" + std::to_string(i) + "]");
}

}  // namespace abdm::fhir
