// The one exception type the core throws for a caller's mistake. It names the field that was wrong
// and carries the SQLSTATE the SQL layer reports, so a bad input reaches the HMIS developer as
// "ERROR: 22023: <field>: <message>" and reaches the gateway as an ABDM error object.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <stdexcept>
#include <string>

namespace abdm {

// SQLSTATEs the core uses (PostgreSQL's own codes, so clients can switch on them).
namespace sqlstate {
inline constexpr const char* kInvalidParameter = "22023";   // invalid_parameter_value
inline constexpr const char* kInvalidText = "22P02";        // invalid_text_representation
inline constexpr const char* kDataException = "22000";      // data_exception
inline constexpr const char* kNotNull = "23502";            // not_null_violation (missing field)
inline constexpr const char* kCheckViolation = "23514";     // check_violation
inline constexpr const char* kInternal = "XX000";           // internal_error
}  // namespace sqlstate

class Error : public std::runtime_error {
 public:
  Error(std::string sqlstate, std::string field, const std::string& message)
      : std::runtime_error(field.empty() ? message : field + ": " + message),
        sqlstate_(std::move(sqlstate)),
        field_(std::move(field)) {}

  // Five-character SQLSTATE, e.g. "22023".
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  // JSON path or argument name of the offending input ("" when none applies).
  const std::string& field() const noexcept { return field_; }

 private:
  std::string sqlstate_;
  std::string field_;
};

}  // namespace abdm
