// What the bridge listener decides about a request itself (core/bridge/request_rules), in the
// order worker_bridge applies it: the head (method, framing headers, header count), the body
// size, the Authorization header (core/auth: bearer_token), whether the body can be handed to
// receive() as jsonb, the headers receive() gets, and receive()'s own triage of the result.
// Input: an HTTP/1.1 request as text, "METHOD path HTTP/1.1\r\nName: value\r\n...\r\n\r\nbody"
// (split here the simple way; the bytes of names and values are kept as they are, NUL included).
// Asserts, against oracles computed here independently: a refusal has a 4xx status and a message,
// closes the connection exactly when the framing is in doubt, and its error body is JSON; the
// body is refused exactly when it is too large, not JSON, nested deeper than kMaxJsonDepth or
// holds U+0000; receive()'s headers never hold Authorization and keep the first of repeated names.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/abdm/receive.hpp"
#include "core/auth/jwt.hpp"
#include "core/bridge/request_rules.hpp"
#include "fuzz_support.hpp"

using namespace abdm::bridge;
using nlohmann::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

size_t count_named(const std::vector<HttpHeader>& hs, std::string_view name) {
  size_t n = 0;
  for (const HttpHeader& h : hs) n += iequals(h.name, name) ? 1 : 0;
  return n;
}

// The oracle for json_body_problem: nlohmann's own parse, depth from its parser callback, and
// no raw NUL byte: RFC 8259 allows none, and nlohmann's lexer reads one as the end of the input
// (so this oracle, like the rule, took "123\0anything" for the number 123).
bool body_acceptable(std::string_view body) {
  if (body.find('\0') != std::string_view::npos) return false;
  size_t deepest = 0;
  bool nul = false;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& j) {
    if (ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start)
      deepest = std::max(deepest, static_cast<size_t>(depth) + 1);
    if ((ev == json::parse_event_t::key || ev == json::parse_event_t::value) && j.is_string() &&
        j.get_ref<const std::string&>().find('\0') != std::string::npos)
      nul = true;
    return true;
  };
  // Depth first: nlohmann's parser recurses over nothing but keeps a stack; a megabyte of '['
  // costs it memory, not a crash. The rules check depth before parsing for the same reason.
  const json parsed = json::parse(body, cb, false);
  return !parsed.is_discarded() && deepest <= kMaxJsonDepth && !nul;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t end_of_head = in.find("\r\n\r\n");
  if (end_of_head == std::string_view::npos) return 0;
  const std::string_view head = in.substr(0, end_of_head);
  const std::string_view body = in.substr(end_of_head + 4);

  size_t eol = head.find("\r\n");
  const std::string_view request_line = head.substr(0, eol);
  const size_t sp1 = request_line.find(' ');
  if (sp1 == std::string_view::npos) return 0;
  const std::string_view method = request_line.substr(0, sp1);
  const size_t sp2 = request_line.find(' ', sp1 + 1);
  const std::string_view path = request_line.substr(sp1 + 1, sp2 == std::string_view::npos ? sp2 : sp2 - sp1 - 1);
  std::vector<HttpHeader> headers;
  while (eol != std::string_view::npos) {
    const size_t start = eol + 2;
    eol = head.find("\r\n", start);
    const std::string_view line = head.substr(start, eol == std::string_view::npos ? eol : eol - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
  }

  RequestLimits limits;
  limits.max_body = 2048;  // small, so the fuzzer meets the limit
  limits.max_headers = 16;

  const auto refusal = check_request_head(method, headers, limits);
  if (refusal) {
    FUZZ_ASSERT(refusal->status == 400 || refusal->status == 405 || refusal->status == 413 || refusal->status == 431,
                "refusal status " + std::to_string(refusal->status));
    FUZZ_ASSERT(!refusal->message.empty(), "a refusal has a message");
    const json err = json::parse(error_body(refusal->message), nullptr, false);
    FUZZ_ASSERT(err.is_object() && err["error"]["code"] == "ABDM-9999" && err["error"]["message"].is_string(),
                "error_body is the gateway's error object");
    // The framing is in doubt exactly when anything but the method is wrong.
    FUZZ_ASSERT(refusal->close == (refusal->status != 405), "close unless only the method is wrong");
  } else {
    FUZZ_ASSERT(method == "POST", "only POST passes");
    FUZZ_ASSERT(headers.size() <= limits.max_headers, "header count");
    FUZZ_ASSERT(count_named(headers, "Content-Length") <= 1 && count_named(headers, "Transfer-Encoding") <= 1,
                "one framing header of each kind at most");
    FUZZ_ASSERT(count_named(headers, "Content-Length") + count_named(headers, "Transfer-Encoding") <= 1,
                "never both Content-Length and Transfer-Encoding (RFC 9112 §6.3)");
    for (const HttpHeader& h : headers)
      FUZZ_ASSERT(h.name.find_first_of(std::string_view("\0\r\n", 3)) == std::string::npos &&
                      h.value.find_first_of(std::string_view("\0\r\n", 3)) == std::string::npos,
                  "no NUL, CR or LF in a passed header");
  }
  FUZZ_ASSERT(check_body_size(body.size(), limits).has_value() == (body.size() > limits.max_body), "body size limit");

  if (const auto* auth = find_header(headers, "Authorization")) {
    if (const auto token = abdm::auth::bearer_token(auth->value))
      FUZZ_ASSERT(!token->empty() && auth->value.find(*token) != std::string::npos, "the bearer token is in the header");
  }

  const auto problem = json_body_problem(body);
  FUZZ_ASSERT(problem.has_value() != body_acceptable(body),
              "json_body_problem agrees with the parser: " + problem.value_or("(none)"));
  if (problem) FUZZ_ASSERT(json::parse(error_body(*problem), nullptr, false).is_object(), "problem's error body");

  const json for_receive = headers_for_receive(headers);
  for (auto it = for_receive.begin(); it != for_receive.end(); ++it) {
    FUZZ_ASSERT(!iequals(it.key(), "Authorization"), "Authorization never reaches SQL");
    FUZZ_ASSERT(count_named(headers, it.key()) >= 1 && find_header(headers, it.key())->value == it.value(),
                "a repeated header keeps its first value");
    size_t same = 0;
    for (auto jt = for_receive.begin(); jt != for_receive.end(); ++jt) same += iequals(it.key(), jt.key()) ? 1 : 0;
    FUZZ_ASSERT(same == 1, "one entry per header name, whatever its case");
  }

  // What receive() then makes of it (the worker passes the headers dumped with the replacing
  // UTF-8 handler, and the body when it is acceptable).
  if (!refusal && !problem) {
    const json hdrs = json::parse(for_receive.dump(-1, ' ', false, json::error_handler_t::replace));
    abdm::proto::Triage t;
    try {
      t = abdm::proto::triage_inbound_text(path, hdrs, body, abdm::proto::now_utc());
    } catch (const std::exception& e) {
      abdm::fuzz::fail(std::string("triage_inbound_text threw: ") + e.what());
    }
    abdm::fuzz::check_storable(abdm::proto::inbound_check_result(t, hdrs), "inbound_check result");
  }
  return 0;
}
