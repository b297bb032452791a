#include "core/util/text.hpp"
#include "core/abdm/json_read.hpp"

#include <cctype>

#include "core/abdm/uuid.hpp"
#include "core/util/error.hpp"

namespace abdm::proto::json_read {
namespace {

using abdm::text::iequals;

[[noreturn]] void missing(const std::string& path) {
  throw Error(sqlstate::kNotNull, path, "is required");
}
[[noreturn]] void invalid(const std::string& path, const std::string& why) {
  throw Error(sqlstate::kInvalidParameter, path, why);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "null";
  }
}

[[noreturn]] void wrong_type(const std::string& path, const char* expected, const json& got) {
  invalid(path, std::string("must be ") + expected + ", got " + type_name(got));
}


}  // namespace

std::string join(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

std::string index(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

const json* find(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json* opt_object(const json& obj, std::string_view key, const std::string& base) {
  const json* v = find(obj, key);
  if (v && !v->is_object()) wrong_type(join(base, key), "an object", *v);
  return v;
}

const json& req_object(const json& obj, std::string_view key, const std::string& base) {
  const json* v = opt_object(obj, key, base);
  if (!v) missing(join(base, key));
  return *v;
}

const json* opt_array(const json& obj, std::string_view key, const std::string& base,
                      std::size_t max_items) {
  const json* v = find(obj, key);
  if (!v) return nullptr;
  const std::string path = join(base, key);
  if (!v->is_array()) wrong_type(path, "an array", *v);
  if (v->size() > max_items) invalid(path, "has more than " + std::to_string(max_items) + " elements");
  return v;
}

const json& req_array(const json& obj, std::string_view key, const std::string& base, bool allow_empty,
                      std::size_t max_items) {
  const json* v = opt_array(obj, key, base, max_items);
  if (!v) missing(join(base, key));
  if (!allow_empty && v->empty()) invalid(join(base, key), "must not be empty");
  return *v;
}

std::string as_string(const json& v, const std::string& path, std::size_t max_len) {
  if (v.is_null()) missing(path);
  if (!v.is_string()) wrong_type(path, "a string", v);
  const std::string& s = v.get_ref<const std::string&>();
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  if (b == e) invalid(path, "must not be empty");
  if (e - b > max_len) invalid(path, "is longer than " + std::to_string(max_len) + " characters");
  for (size_t i = b; i < e; ++i)
    if (static_cast<unsigned char>(s[i]) < 0x20) invalid(path, "contains a control character");
  return s.substr(b, e - b);
}

std::optional<std::string> opt_string(const json& obj, std::string_view key, const std::string& base,
                                      std::size_t max_len) {
  const json* v = find(obj, key);
  if (!v) return std::nullopt;
  return as_string(*v, join(base, key), max_len);
}

std::string req_string(const json& obj, std::string_view key, const std::string& base, std::size_t max_len) {
  auto v = opt_string(obj, key, base, max_len);
  if (!v) missing(join(base, key));
  return *v;
}

std::optional<std::int64_t> opt_int(const json& obj, std::string_view key, const std::string& base,
                                    std::int64_t lo, std::int64_t hi) {
  const json* v = find(obj, key);
  if (!v) return std::nullopt;
  const std::string path = join(base, key);
  std::int64_t out = 0;
  if (v->is_number_integer() || v->is_number_unsigned()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
      invalid(path, "is out of range");
    out = v->get<std::int64_t>();
  } else if (v->is_string()) {
    const std::string s = as_string(*v, path, 18);
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) invalid(path, "must be an integer");
    for (size_t k = i; k < s.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) invalid(path, "must be an integer");
    out = std::stoll(s);
  } else {
    wrong_type(path, "an integer", *v);
  }
  if (out < lo || out > hi)
    invalid(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return out;
}

std::int64_t req_int(const json& obj, std::string_view key, const std::string& base, std::int64_t lo,
                     std::int64_t hi) {
  auto v = opt_int(obj, key, base, lo, hi);
  if (!v) missing(join(base, key));
  return *v;
}

std::optional<bool> opt_bool(const json& obj, std::string_view key, const std::string& base) {
  const json* v = find(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(join(base, key), "a boolean", *v);
  return v->get<bool>();
}

std::optional<std::string> opt_uuid(const json& obj, std::string_view key, const std::string& base) {
  auto s = opt_string(obj, key, base, 36);
  if (s && !is_uuid(*s)) invalid(join(base, key), "must be a UUID");
  return s;
}

std::string req_uuid(const json& obj, std::string_view key, const std::string& base) {
  auto v = opt_uuid(obj, key, base);
  if (!v) missing(join(base, key));
  return *v;
}

std::string req_enum(const json& obj, std::string_view key, const std::string& base,
                     std::initializer_list<std::string_view> allowed) {
  const std::string s = req_string(obj, key, base, 64);
  for (std::string_view a : allowed)
    if (iequals(s, a)) return std::string(a);
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  invalid(join(base, key), "must be one of " + list + ", got \"" + s + "\"");
}

std::optional<TimePoint> opt_time(const json& obj, std::string_view key, const std::string& base) {
  auto s = opt_string(obj, key, base, 40);
  if (!s) return std::nullopt;
  return parse_timestamp(*s, join(base, key), TimestampMode::kLenient);
}

TimePoint req_time(const json& obj, std::string_view key, const std::string& base) {
  auto v = opt_time(obj, key, base);
  if (!v) missing(join(base, key));
  return *v;
}

}  // namespace abdm::proto::json_read
