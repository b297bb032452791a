// The gateway's session response (core/net/gateway_session: parse_session_response), the body
// the sender reads its bearer token and lifetime from.
// Asserts: it parses or refuses with abdm::Error naming the field; an accepted token is the
// non-empty accessToken given, and its lifetime lies within 1 s .. 7 days; the error text never
// depends on the token's text (gateway_session.hpp: the error text never contains the body).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/net/gateway_session.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  abdm::net::SessionToken t;
  try {
    t = abdm::net::parse_session_response(body);
  } catch (const abdm::Error& e) {
    abdm::fuzz::check_error(e, "parse_session_response");
    // The token never reaches the error text: the same body with another token of the same
    // length gets the same error. (Looking for the token in the text is not enough: the fuzzer
    // makes tokens such as "expiresIn" that a fixed message holds: most likely stop 25's CI failure,
    // test/fuzz/regressions/session/token-copied-from-a-fixed-message.)
    nlohmann::json j = nlohmann::json::parse(body, nullptr, false, false);
    if (j.is_object() && j.contains("accessToken") && j["accessToken"].is_string()) {
      const std::string token = j["accessToken"].get<std::string>();
      j["accessToken"] = std::string(token.size(), '~');
      const std::string other = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      try {
        abdm::net::parse_session_response(other);
        abdm::fuzz::fail("another token of the same length is accepted: " + std::string(e.what()));
      } catch (const abdm::Error& e2) {
        FUZZ_ASSERT(std::string_view(e.what()) == e2.what(), "the error depends on the token's text: " + std::string(e.what()));
      }
    }
    return 0;
  } catch (const std::exception& e) {
    abdm::fuzz::fail(std::string("parse_session_response threw something other than abdm::Error: ") + e.what());
  }
  FUZZ_ASSERT(!t.access_token.empty(), "a token");
  FUZZ_ASSERT(t.expires_in.count() >= 1 && t.expires_in.count() <= 7 * 24 * 3600, "a lifetime in range");
  const nlohmann::json j = nlohmann::json::parse(body);
  FUZZ_ASSERT(j["accessToken"] == t.access_token, "the token given");
  return 0;
}
