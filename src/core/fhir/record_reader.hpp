// Reads one object of the plain HMIS record (docs/fhir-record.md). Each object is opened with the
// list of keys it may hold, so a misspelt or unsupported field is reported by name ("unknown
// field") before anything else, instead of being dropped or surfacing as "required".
// JSON null counts as absent (an HMIS row with a NULL column), so optional columns can be passed
// straight through from SQL.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <nlohmann/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace abdm::fhir {

class Fields {
 public:
  using Keys = std::initializer_list<std::string_view>;
  // Throws abdm::Error naming `path` unless `value` is a JSON object whose keys are all in `allowed`.
  Fields(const nlohmann::json& value, std::string path, Keys allowed);
  Fields(const nlohmann::json& value, std::string path, const std::vector<std::string>& allowed);

  const std::string& path() const { return path_; }
  std::string at(std::string_view key) const { return path_ + "." + std::string(key); }

  bool has(std::string_view key) const;
  // The value under `key` (marked as read), or nullptr when absent or null.
  const nlohmann::json* get(std::string_view key);
  // Like get(), but a missing value is an error "<path>.<key>: required".
  const nlohmann::json& need(std::string_view key);

  std::string str(std::string_view key);  // required FHIR string (string_at's rules)
  // A required non-empty string that is not FHIR text (base64Binary data, checked by its caller):
  // neither the 1 MiB string limit nor the text rules apply.
  std::string binary(std::string_view key);
  std::optional<std::string> opt_str(std::string_view key);
  double num(std::string_view key);  // required finite number
  std::optional<double> opt_num(std::string_view key);
  Fields obj(std::string_view key, Keys allowed);
  std::optional<Fields> opt_obj(std::string_view key, Keys allowed);
  // An optional array of objects; absent → empty. Element paths are "<path>.<key>[i]".
  std::vector<Fields> list(std::string_view key, Keys allowed);
  // Calls fn(element, "<path>.<key>[i]") for every element of the optional array `key`.
  void each(std::string_view key, const std::function<void(const nlohmann::json&, const std::string&)>& fn);
  // An optional array of anything; absent → empty.
  std::vector<const nlohmann::json*> values(std::string_view key);

 private:
  const nlohmann::json* value_;
  std::string path_;
  std::set<std::string, std::less<>> allowed_;
};

// FHIR R4 caps a string at 1024*1024 characters (datatypes §2.24.0.1).
inline constexpr size_t kMaxStringChars = 1024 * 1024;

// The FHIR string in `v`, or an error naming `path`: not a string, empty, blank, longer than
// kMaxStringChars, or holding a control character other than tab, CR and LF.
std::string string_at(const nlohmann::json& v, const std::string& path);

}  // namespace abdm::fhir
