// What every fuzz target asserts about a parser's answer. A parser of src/core either returns a
// value or throws abdm::Error with a five-character SQLSTATE and the field it names (the SQL layer
// reports "ERROR: <sqlstate>: <field>: <message>"); any other exception, or an abort, is a bug
// (src/core/util/error.hpp, .agents/COMMON.md "Never crash, never a silent default").
// A broken invariant aborts with a message, which libFuzzer reports as a crash with the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/util/error.hpp"

namespace abdm::fuzz {

[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

#define FUZZ_ASSERT(cond, what) \
  do {                          \
    if (!(cond)) ::abdm::fuzz::fail(std::string(what) + " [" #cond "]"); \
  } while (0)

// The refusal a caller sees: a SQLSTATE of five characters and a named field.
inline void check_error(const Error& e, std::string_view where) {
  FUZZ_ASSERT(e.sqlstate().size() == 5, std::string(where) + ": SQLSTATE '" + e.sqlstate() + "'");
  FUZZ_ASSERT(!e.field().empty(), std::string(where) + ": abdm::Error without a field: " + e.what());
  FUZZ_ASSERT(std::string_view(e.what()).size() > e.field().size(), std::string(where) + ": empty message");
  // XX000 is the core admitting its own bug (e.g. a built FHIR bundle failing its own check).
  FUZZ_ASSERT(e.sqlstate() != sqlstate::kInternal, std::string(where) + ": internal error for an input: " + e.what());
}

// Runs fn(); returns true when it returned, false when it refused with a well-formed abdm::Error.
// Any other exception is a bug and aborts.
template <class Fn>
bool returns_or_refuses(std::string_view where, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const Error& e) {
    check_error(e, where);
    return false;
  } catch (const std::exception& e) {
    fail(std::string(where) + ": exception other than abdm::Error: " + e.what());
  } catch (...) {
    fail(std::string(where) + ": non-standard exception");
  }
}

// What PostgreSQL's jsonb input receives (src/pg/datum.hpp dumps with the strict UTF-8 handler):
// text that does not throw when dumped and parses back to the same value.
inline void check_storable(const nlohmann::json& j, std::string_view where) {
  std::string text;
  try {
    text = j.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(std::string(where) + ": not storable as jsonb: " + e.what());
  }
  FUZZ_ASSERT(nlohmann::json::parse(text) == j, std::string(where) + ": JSON text does not parse back to itself");
}

}  // namespace abdm::fuzz
