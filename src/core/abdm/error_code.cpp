#include "core/abdm/error_code.hpp"

#include <cctype>

namespace abdm::proto {

std::string normalize_error_code(std::string_view s) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  // "ABDM-<digits>" followed by anything: keep prefix and digits.
  if (s.size() > 5 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'B' || s[1] == 'b') &&
      (s[2] == 'D' || s[2] == 'd') && (s[3] == 'M' || s[3] == 'm') && (s[4] == '-' || s[4] == '_')) {
    size_t i = 5;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i > 5) return "ABDM-" + std::string(s.substr(5, i - 5));
  }
  // Bare numeric codes (v0.5 integers, WSO2): leading digits, trailing punctuation dropped.
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i > 0) {
    size_t j = i;
    while (j < s.size() && (s[j] == ':' || s[j] == '.' || is_space(s[j]))) ++j;
    if (j == s.size()) return std::string(s.substr(0, i));
  }
  return std::string(s);
}

std::string normalize_error_code_json(const nlohmann::json& code) {
  if (code.is_string()) return normalize_error_code(std::string_view(code.get_ref<const std::string&>()));
  if (code.is_number_integer()) return std::to_string(code.get<long long>());
  if (code.is_number_unsigned()) return std::to_string(code.get<unsigned long long>());
  return "";
}

namespace {

std::string text_of(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

// An object that looks like an error: it has a usable `code`, and besides `code`, `message`,
// `description`, `details`, `type`, `status`, `timestamp` nothing else (so a success body that
// happens to carry a "code" is not misread).
bool error_object(const nlohmann::json& j, GatewayError& out) {
  if (!j.is_object() || !j.contains("code")) return false;
  for (const auto& [key, _] : j.items()) {
    if (key != "code" && key != "message" && key != "description" && key != "details" &&
        key != "type" && key != "status" && key != "timestamp" && key != "path" && key != "error")
      return false;
  }
  out.code = normalize_error_code_json(j["code"]);
  if (out.code.empty()) return false;
  out.message = j.contains("message") ? text_of(j["message"]) : "";
  if (out.message.empty() && j.contains("description")) out.message = text_of(j["description"]);
  return true;
}

void collect(const nlohmann::json& j, std::vector<GatewayError>& out, int depth) {
  if (depth > 4) return;
  GatewayError e;
  if (j.is_array()) {
    for (const auto& el : j) collect(el, out, depth + 1);
    return;
  }
  if (!j.is_object()) return;
  if (error_object(j, e)) {
    out.push_back(std::move(e));
    return;
  }
  for (const char* key : {"error", "errors", "fault"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (it->is_string()) {
      out.push_back({"", it->get<std::string>()});
    } else if (it->is_object()) {
      if (error_object(*it, e)) {
        out.push_back(e);
      } else {
        // {"error": {"message": "..."}} without a code still signals failure.
        GatewayError m{"", it->contains("message") ? text_of((*it)["message"]) : it->dump()};
        out.push_back(m);
      }
    } else if (it->is_array()) {
      for (const auto& el : *it) collect(el, out, depth + 1);
    }
  }
}

}  // namespace

std::vector<GatewayError> find_errors(const nlohmann::json& body) {
  std::vector<GatewayError> out;
  collect(body, out, 0);
  return out;
}

}  // namespace abdm::proto
