// Inbound gateway messages: what receive() and the bridge do with a call before any table is
// touched (core/abdm/receive: route the path, check the headers, parse and validate the body).
// Input: "<path>\n<headers JSON, or empty for a valid set>\n<body text>".
// Asserts: triage never throws; an accepted message is 202 with its normalised form, which
// parses back to itself (to_json ∘ parse_inbound is idempotent, core/abdm/inbound.hpp); a refusal
// is a 4xx with an ABDM error object and names the field; what inbound_check hands to SQL is
// storable as jsonb.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/abdm/inbound.hpp"
#include "core/abdm/receive.hpp"
#include "fuzz_support.hpp"

using namespace abdm::proto;
using nlohmann::json;

namespace {

// A fixed "now", and the headers of a call made then: the fuzzer reaches the body parsers
// without having to guess a valid timestamp.
const TimePoint kNow = parse_timestamp("2024-05-20T11:29:27.358Z", "now", TimestampMode::kStrictUtc);
const json kValidHeaders = {{"REQUEST-ID", "5f9b4c3e-1d2a-4b6c-8e7f-0a1b2c3d4e5f"},
                            {"TIMESTAMP", "2024-05-20T11:29:27.358Z"},
                            {"X-HIP-ID", "IN2710000001"},
                            {"X-CM-ID", "sbx"}};

void check_triage(const Triage& t, std::string_view path, const json& headers) {
  bool routed = abdm::fuzz::returns_or_refuses("route_path", [&] { route_path(path); });
  FUZZ_ASSERT(t.kind.has_value() == routed, "kind set exactly when the path routes");
  if (t.accepted) {
    FUZZ_ASSERT(t.http_status == 202, "an accepted message is answered 202");
    FUZZ_ASSERT(t.reply_body.is_null() && t.field.empty(), "an accepted message has no error");
    const json& n = t.accepted->normalized;
    FUZZ_ASSERT(n.value("kind", "") == kind_name(*t.kind), "normalised message names its kind");
    json again;
    bool reparsed = abdm::fuzz::returns_or_refuses("parse_inbound(to_json(m))",
                                                   [&] { again = to_json(parse_inbound(*t.kind, n)); });
    FUZZ_ASSERT(reparsed, "the normalised message parses again: " + n.dump(-1, ' ', false, json::error_handler_t::replace));
    FUZZ_ASSERT(again == n, "to_json(parse(to_json(m))) == to_json(m)");
  } else {
    FUZZ_ASSERT(t.http_status >= 400 && t.http_status < 500, "a refusal is a 4xx: " + std::to_string(t.http_status));
    const json& err = t.reply_body["error"];
    FUZZ_ASSERT(err.is_object() && err["code"].is_string() && err["message"].is_string(), "ABDM error object");
    FUZZ_ASSERT(err["code"].get<std::string>().rfind("ABDM-", 0) == 0, "error code ABDM-xxxx");
    FUZZ_ASSERT(!err["message"].get<std::string>().empty(), "error message");
    FUZZ_ASSERT(!t.field.empty(), "a refusal names its field");
  }
  const json result = inbound_check_result(t, headers);
  FUZZ_ASSERT(result["ok"].is_boolean() && result["ok"].get<bool>() == t.accepted.has_value(), "inbound_check ok");
  abdm::fuzz::check_storable(result, "inbound_check result");
}

// Triage promises never to throw for bad input (receive.hpp).
template <class Fn>
Triage never_throws(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    abdm::fuzz::fail(std::string(what) + " threw: " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl1 = in.find('\n');
  if (nl1 == std::string_view::npos) return 0;
  const size_t nl2 = in.find('\n', nl1 + 1);
  if (nl2 == std::string_view::npos) return 0;
  const std::string_view path = in.substr(0, nl1);
  const std::string_view header_text = in.substr(nl1 + 1, nl2 - nl1 - 1);
  const std::string_view body = in.substr(nl2 + 1);

  json headers = kValidHeaders;
  if (!header_text.empty()) {
    headers = json::parse(header_text, nullptr, false);
    if (headers.is_discarded()) return 0;  // receive() takes jsonb: only JSON reaches it
  }

  // The bridge's entry: the body as text (size limit, JSON parse, then the rest).
  const Triage t = never_throws("triage_inbound_text", [&] { return triage_inbound_text(path, headers, body, kNow); });
  check_triage(t, path, headers);

  // receive()'s entry: the body as jsonb, i.e. already parsed; both must agree.
  const json parsed = json::parse(body, nullptr, false);
  if (!parsed.is_discarded()) {
    const Triage u = never_throws("triage_inbound", [&] { return triage_inbound(path, headers, parsed, kNow); });
    check_triage(u, path, headers);
    // (Only the text entry has a size limit, and it reads blank text as no body.)
    if (body.size() <= kMaxBodyBytes)
      FUZZ_ASSERT(u.http_status == t.http_status, "text and jsonb entries give the same status");
  }
  return 0;
}
