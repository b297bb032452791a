#include "core/util/gateway_error.hpp"

#include <cctype>

#include "core/util/text.hpp"

namespace abdm {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 4;  // a list of envelopes is depth 2; deeper nesting is not an envelope

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string message_text(const json& obj) {
  for (const char* key : {"message", "description", "error_description"}) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) continue;
    std::string text = it->is_string() ? it->get<std::string>() : it->dump();
    if (!text.empty()) return text;
  }
  return "";
}

// An object that is an error by itself: a usable code and, besides it, only what error objects
// carry (so a success payload that happens to have a "code" is not misread).
bool error_object(const json& j, GatewayError& out) {
  if (!j.is_object()) return false;
  auto code = j.find("code");
  if (code == j.end()) return false;
  for (const auto& [key, _] : j.items()) {
    if (key != "code" && key != "message" && key != "description" && key != "error_description" &&
        key != "details" && key != "type" && key != "status" && key != "timestamp" && key != "path" &&
        key != "error")
      return false;
  }
  out.code = normalize_error_code_json(*code);
  if (out.code.empty()) return false;
  out.message = message_text(j);
  return true;
}

void collect(const json& v, int depth, std::vector<GatewayError>& out) {
  if (depth > kMaxDepth) return;
  if (v.is_array()) {
    for (const auto& item : v) collect(item, depth + 1, out);
    return;
  }
  if (!v.is_object()) return;
  GatewayError e;
  if (error_object(v, e)) {
    out.push_back(std::move(e));
    return;
  }
  for (const char* wrapper : {"error", "errors", "fault"}) {
    auto it = v.find(wrapper);
    if (it == v.end()) continue;
    if (it->is_object() && !it->empty()) {
      if (!error_object(*it, e)) {
        // {"error": {"message": "..."}} without a code still reports a failure.
        auto code = it->find("code");
        e = {code == it->end() ? "" : normalize_error_code_json(*code), message_text(*it)};
        if (e.message.empty()) e.message = it->dump();
      }
      out.push_back(std::move(e));
      return;
    }
    if (it->is_string() && !it->get<std::string>().empty()) {
      // {"error": "Bad Request", "message": ...} (Spring) or {"error": "invalid_client"} (OAuth).
      auto code = v.find("code");
      std::string msg = message_text(v);
      out.push_back({code == v.end() ? "" : normalize_error_code_json(*code),
                     msg.empty() ? it->get<std::string>() : it->get<std::string>() + ": " + msg});
      return;
    }
    if (it->is_array()) {
      const std::size_t before = out.size();
      collect(*it, depth + 1, out);
      if (out.size() > before) return;
    }
  }
}

}  // namespace

std::string normalize_error_code(std::string_view s) {
  s = text::trim(s);
  // "ABDM-<digits>" followed by anything: the prefix and the digits.
  if (s.size() > 5 && std::toupper(static_cast<unsigned char>(s[0])) == 'A' &&
      std::toupper(static_cast<unsigned char>(s[1])) == 'B' && std::toupper(static_cast<unsigned char>(s[2])) == 'D' &&
      std::toupper(static_cast<unsigned char>(s[3])) == 'M' && (s[4] == '-' || s[4] == '_')) {
    std::size_t i = 5;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i > 5) return "ABDM-" + std::string(s.substr(5, i - 5));
  }
  // Numeric codes (v0.5, WSO2): the digits, when only punctuation follows them.
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i > 0) {
    std::size_t j = i;
    while (j < s.size() && (s[j] == ':' || s[j] == '.' || text::is_space(s[j]))) ++j;
    if (j == s.size()) return std::string(s.substr(0, i));
  }
  return std::string(s);
}

std::string normalize_error_code_json(const json& code) {
  if (code.is_string()) return normalize_error_code(std::string_view(code.get_ref<const std::string&>()));
  if (code.is_number_integer()) return std::to_string(code.get<long long>());
  if (code.is_number_unsigned()) return std::to_string(code.get<unsigned long long>());
  return "";
}

std::vector<GatewayError> find_gateway_errors(const json& body) {
  std::vector<GatewayError> out;
  collect(body, 0, out);
  return out;
}

std::vector<GatewayError> find_gateway_errors(std::string_view body) {
  if (body.empty()) return {};
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return {};
  return find_gateway_errors(parsed);
}

}  // namespace abdm
