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

// Executes `sql` with $1..$n bound as text (cast in the SQL where another type is meant:
// `$1::bigint`). Returns every row, every column rendered as text.
std::vector<SqlRow> spi_query(const char* sql, const std::vector<SqlValue>& params = {},
                              bool read_only = false);

// Same, through a plan prepared on first use and kept for the life of the process: for the
// statements a worker runs on every turn, where parsing and planning would cost more than the
// statement. `sql` must be a string literal (the cache is keyed by its address).
std::vector<SqlRow> spi_query_kept(const char* sql, const std::vector<SqlValue>& params = {},
                                   bool read_only = false);

// Same, for statements whose result is not needed; returns the number of rows processed.
long spi_exec(const char* sql, const std::vector<SqlValue>& params = {});

}  // namespace abdm_pg
