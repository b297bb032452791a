// What the bridge listener accepts before anything reaches PostgreSQL: the framing of a request
// (method, headers, declared body size), the body (JSON that jsonb can hold), and the one shape
// of every answer the listener gives itself, the gateway's error object.
//
// Why here and not in libmicrohttpd's defaults: request smuggling lives in the gap between two
// HTTP parsers that frame a request differently (a reverse proxy in front of us and us). A request
// with both Content-Length and Transfer-Encoding, or two Content-Lengths, is framed one way by
// one parser and another way by the other (RFC 9112 §6.3), so it is refused and the connection
// closed, whatever the library would have made of it.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace abdm::bridge {

struct HttpHeader {
  std::string name;
  std::string value;
};

// First header of that name (case-insensitive), or nullptr.
const HttpHeader* find_header(std::span<const HttpHeader> headers, std::string_view name) noexcept;

struct RequestLimits {
  std::size_t max_body = 1 << 20;  // bytes (abdm_hip.listen_max_body)
  unsigned max_headers = 100;      // header fields (abdm_hip.listen_max_headers)
};

// An answer the listener gives without asking PostgreSQL.
struct Refusal {
  int status = 400;
  std::string message;  // for the error object; names the header or limit
  bool close = false;   // the connection cannot be trusted any further (framing unknown)
};

// Checked once the request head is complete, before any body byte is read.
std::optional<Refusal> check_request_head(std::string_view method, std::span<const HttpHeader> headers,
                                          const RequestLimits& limits);

// Checked as body bytes arrive (chunked bodies have no declared size).
std::optional<Refusal> check_body_size(std::size_t received, const RequestLimits& limits);

// Deeper than any ABDM message nests (about ten levels), far below what would exhaust a stack
// here or in PostgreSQL's jsonb input.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Why this body cannot be handed to receive() as jsonb, or nullopt when it can: nested deeper
// than kMaxJsonDepth, not JSON, not UTF-8, a lone surrogate escape, or a NUL character anywhere
// (jsonb cannot store U+0000).
std::optional<std::string> json_body_problem(std::string_view body);

// The gateway-style error object every refusal carries: {"error":{"code":..,"message":..}}.
std::string error_body(std::string_view message, std::string_view code = "ABDM-9999");

// The request's headers as the JSON object receive() takes: every header but Authorization
// (the token is checked here and never reaches SQL or a table). A repeated name keeps its
// first value.
nlohmann::json headers_for_receive(std::span<const HttpHeader> headers);

}  // namespace abdm::bridge
