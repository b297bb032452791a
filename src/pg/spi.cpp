#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

#include <unordered_map>

namespace abdm_pg {
namespace {

struct Executed {
  int rc;
  uint64 processed;
};

struct BoundParams {
  int n;
  Oid* types;
  Datum* values;
  char* nulls;
};

BoundParams bind(const std::vector<SqlValue>& params) {
  BoundParams b{static_cast<int>(params.size()), nullptr, nullptr, nullptr};
  const int n = b.n;
  b.types = pg_call([&] { return static_cast<Oid*>(palloc(sizeof(Oid) * (n ? n : 1))); });
  b.values = pg_call([&] { return static_cast<Datum*>(palloc(sizeof(Datum) * (n ? n : 1))); });
  b.nulls = pg_call([&] { return static_cast<char*>(palloc(n ? n : 1)); });
  for (int i = 0; i < n; ++i) {
    b.types[i] = TEXTOID;
    if (params[i]) {
      const char* data = params[i]->data();
      int len = static_cast<int>(params[i]->size());
      b.values[i] = pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(data, len)); });
      b.nulls[i] = ' ';
    } else {
      b.values[i] = (Datum)0;
      b.nulls[i] = 'n';
    }
  }
  return b;
}

SqlRow copy_row(SPITupleTable* table, uint64 r) {
  const int ncols = table->tupdesc->natts;
  SqlRow row;
  row.reserve(ncols);
  for (int c = 1; c <= ncols; ++c) {
    char* value = pg_call([&] { return SPI_getvalue(table->vals[r], table->tupdesc, c); });
    if (value == nullptr) {
      row.emplace_back(std::nullopt);
    } else {
      row.emplace_back(std::string(value));
      pg_call([&] { pfree(value); });
    }
  }
  return row;
}

Executed execute(const char* sql, const std::vector<SqlValue>& params, bool read_only) {
  BoundParams b = bind(params);
  int rc = pg_call([&] { return SPI_execute_with_args(sql, b.n, b.types, b.values, b.nulls, read_only, 0); });
  if (rc < 0) throw abdm::Error(abdm::sqlstate::kInternal, "", std::string("SPI failed: ") + SPI_result_code_string(rc));
  return {rc, SPI_processed};
}

std::vector<SqlRow> copy_result(uint64 processed) {
  std::vector<SqlRow> rows;
  if (SPI_tuptable == nullptr) return rows;
  SPITupleTable* table = SPI_tuptable;
  rows.reserve(processed);
  for (uint64 r = 0; r < processed; ++r) rows.push_back(copy_row(table, r));
  return rows;
}

// Plans kept by SPI_keepplan live in CacheMemoryContext and are re-planned by the plan cache
// when what they depend on changes (a DROP/CREATE EXTENSION included).
SPIPlanPtr kept_plan(const char* sql, int nargs) {
  static std::unordered_map<const char*, SPIPlanPtr> plans;
  auto it = plans.find(sql);
  if (it != plans.end()) return it->second;
  std::vector<Oid> types(nargs ? nargs : 1, TEXTOID);
  SPIPlanPtr plan = pg_call([&] { return SPI_prepare(sql, nargs, types.data()); });
  if (plan == nullptr)
    throw abdm::Error(abdm::sqlstate::kInternal, "", std::string("SPI_prepare failed: ") + SPI_result_code_string(SPI_result));
  if (pg_call([&] { return SPI_keepplan(plan); }) != 0)
    throw abdm::Error(abdm::sqlstate::kInternal, "", "SPI_keepplan failed");
  plans.emplace(sql, plan);
  return plan;
}

}  // namespace

std::vector<SqlRow> spi_query_kept(SqlText sql, const std::vector<SqlValue>& params, bool read_only) {
  BoundParams b = bind(params);
  SPIPlanPtr plan = kept_plan(sql.c_str(), b.n);
  int rc = pg_call([&] { return SPI_execute_plan(plan, b.values, b.nulls, read_only, 0); });
  if (rc < 0) throw abdm::Error(abdm::sqlstate::kInternal, "", std::string("SPI failed: ") + SPI_result_code_string(rc));
  return copy_result(SPI_processed);
}

std::vector<SqlRow> spi_query(SqlText sql, const std::vector<SqlValue>& params, bool read_only) {
  Executed ex = execute(sql.c_str(), params, read_only);
  return copy_result(ex.processed);
}

long spi_exec(SqlText sql, const std::vector<SqlValue>& params) {
  return static_cast<long>(execute(sql.c_str(), params, false).processed);
}

}  // namespace abdm_pg

namespace abdm_pg {

}  // namespace abdm_pg
