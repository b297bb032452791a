// SPI from C++: run a statement with text parameters and copy the result into C++ values.
// Every call into PostgreSQL goes through pg_call, so an error arrives as abdm_pg::PgError.
// The caller must be connected (SPI_connect) — see Transaction in worker.hpp, or a SQL function.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pg/guard.hpp"

namespace abdm_pg {

using SqlValue = std::optional<std::string>;  // nullopt = SQL NULL
using SqlRow = std::vector<SqlValue>;

// The text of a statement, known when the extension is compiled: the constructor is consteval,
// so only a string literal (or a constexpr pointer to one) makes a SqlText, and SQL built at run
// time from a value does not compile. Values travel as $n parameters, never in the text
// (test/security/sql_literals checks that this holds and that nothing else reaches SPI).
class SqlText {
 public:
  consteval SqlText(const char* text) : text_(text) {}  // NOLINT: implicit by design
  const char* c_str() const { return text_; }

 private:
  const char* text_;
};

// Executes `sql` with $1..$n bound as text (cast in the SQL where another type is meant:
// `$1::bigint`). Returns every row, every column rendered as text.
std::vector<SqlRow> spi_query(SqlText sql, const std::vector<SqlValue>& params = {},
                              bool read_only = false);

// Same, through a plan prepared on first use and kept for the life of the process: for the
// statements a worker runs on every turn, where parsing and planning would cost more than the
// statement. The cache is keyed by the literal's address.
std::vector<SqlRow> spi_query_kept(SqlText sql, const std::vector<SqlValue>& params = {},
                                   bool read_only = false);

// Same, for statements whose result is not needed; returns the number of rows processed.
long spi_exec(SqlText sql, const std::vector<SqlValue>& params = {});

}  // namespace abdm_pg
