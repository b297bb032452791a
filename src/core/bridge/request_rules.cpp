#include "core/util/text.hpp"
#include "core/bridge/request_rules.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace abdm::bridge {

namespace {

using abdm::text::iequals;


std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// How deeply arrays and objects nest in JSON text, by one pass over its bytes (strings skipped);
// stops counting past `limit`. Before parsing, so that a body of 200,000 '[' costs one scan and
// not a parse (and nothing below recurses over it).
std::size_t nesting_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Whether a parsed JSON value holds U+0000 in any string or key; iterative, whatever the depth.
bool holds_nul(const nlohmann::json& root) {
  std::vector<const nlohmann::json*> todo{&root};
  while (!todo.empty()) {
    const nlohmann::json& j = *todo.back();
    todo.pop_back();
    if (j.is_string()) {
      if (j.get_ref<const std::string&>().find('\0') != std::string::npos) return true;
    } else if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key().find('\0') != std::string::npos) return true;
        todo.push_back(&it.value());
      }
    } else if (j.is_array()) {
      for (const nlohmann::json& v : j) todo.push_back(&v);
    }
  }
  return false;
}

}  // namespace

const HttpHeader* find_header(std::span<const HttpHeader> headers, std::string_view name) noexcept {
  for (const HttpHeader& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

std::optional<Refusal> check_request_head(std::string_view method, std::span<const HttpHeader> headers,
                                          const RequestLimits& limits) {
  if (headers.size() > limits.max_headers)
    return Refusal{431, "too many header fields: " + std::to_string(headers.size()) + " (at most " +
                            std::to_string(limits.max_headers) + ")",
                   true};
  int content_lengths = 0;
  const HttpHeader* length = nullptr;
  const HttpHeader* encoding = nullptr;
  for (const HttpHeader& h : headers) {
    // A NUL, CR or LF inside a field is read differently by different parsers (cut off, or taken
    // as the end of the line).
    for (const std::string* text : {&h.name, &h.value})
      if (text->find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
        return Refusal{400, "header " + h.name.substr(0, 40) + ": contains a NUL, CR or LF", true};
    if (iequals(h.name, "Content-Length")) {
      ++content_lengths;
      length = &h;
    } else if (iequals(h.name, "Transfer-Encoding")) {
      if (encoding != nullptr) return Refusal{400, "Transfer-Encoding: sent more than once", true};
      encoding = &h;
    }
  }
  if (content_lengths > 1) return Refusal{400, "Content-Length: sent more than once", true};
  if (length != nullptr && encoding != nullptr)
    return Refusal{400, "Content-Length and Transfer-Encoding: only one may frame the body", true};
  if (encoding != nullptr && !iequals(trim(encoding->value), "chunked"))
    return Refusal{400, "Transfer-Encoding: only chunked is accepted", true};
  if (length != nullptr) {
    const std::string_view v = trim(length->value);
    unsigned long long n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
      return Refusal{400, "Content-Length: not a decimal number", true};
    if (n > limits.max_body)
      return Refusal{413, "body of " + std::to_string(n) + " bytes is larger than the limit of " +
                              std::to_string(limits.max_body) + " (abdm_hip.listen_max_body)",
                     true};
  }
  // Only the method the gateway uses; the framing is known here, so the connection may go on.
  if (method != "POST") return Refusal{405, "method " + std::string(method.substr(0, 20)) + " is not accepted; the gateway POSTs", false};
  return std::nullopt;
}

std::optional<Refusal> check_body_size(std::size_t received, const RequestLimits& limits) {
  if (received <= limits.max_body) return std::nullopt;
  return Refusal{413, "body larger than the limit of " + std::to_string(limits.max_body) +
                          " bytes (abdm_hip.listen_max_body)",
                 true};
}

std::optional<std::string> json_body_problem(std::string_view body) {
  // RFC 8259 allows a NUL byte nowhere in JSON text (outside strings it is not whitespace; inside
  // one it must be escaped), and nlohmann's lexer would take it for the end of the input and
  // leave the rest unread: "123\0anything" parsed as 123 (found by test/fuzz/http_request_fuzz).
  if (const size_t at = body.find('\0'); at != std::string_view::npos)
    return "body: not valid JSON (a NUL byte at offset " + std::to_string(at) + ")";
  if (nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    return "body: arrays and objects nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  nlohmann::json parsed;
  // U+0000 in any key or string the text holds, also one a later duplicate key overrides: the
  // parsed value keeps only the last, but PostgreSQL's jsonb input refuses the whole text
  // (found by test/fuzz/http_request_fuzz: {"r":{"id":"\u0000"},"r":{}} passed).
  bool nul = false;
  const nlohmann::json::parser_callback_t see_nul = [&nul](int, nlohmann::json::parse_event_t ev, nlohmann::json& j) {
    if ((ev == nlohmann::json::parse_event_t::key || ev == nlohmann::json::parse_event_t::value) && j.is_string() &&
        j.get_ref<const std::string&>().find('\0') != std::string::npos)
      nul = true;
    return true;
  };
  try {
    // nlohmann's lexer refuses ill-formed UTF-8 and unpaired surrogate escapes itself.
    parsed = nlohmann::json::parse(body, see_nul);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range 406 for a number beyond double (1e400): that one escaped,
    // so the handler failed and the gateway got a 500 instead of this 400 (found by
    // test/fuzz/http_request_fuzz).
    std::string why = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..." → from "at line".
    if (auto at = why.find("at line"); at != std::string::npos) why = why.substr(at);
    return "body: not valid JSON (" + why.substr(0, 200) + ")";
  }
  if (nul || holds_nul(parsed)) return "body: contains U+0000, which a JSON value in the database cannot hold";
  return std::nullopt;
}

std::string error_body(std::string_view message, std::string_view code) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json headers_for_receive(std::span<const HttpHeader> headers) {
  nlohmann::json out = nlohmann::json::object();
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, "Authorization")) continue;
    bool seen = false;
    for (auto it = out.begin(); it != out.end() && !seen; ++it) seen = iequals(it.key(), h.name);
    if (!seen) out[h.name] = h.value;
  }
  return out;
}

}  // namespace abdm::bridge
