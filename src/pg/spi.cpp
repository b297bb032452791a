#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
}

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

}  // namespace

std::vector<SqlRow> spi_query(const char* sql, const std::vector<SqlValue>& params, bool read_only) {
  Executed ex = execute(sql, params, read_only);
  std::vector<SqlRow> rows;
  if (SPI_tuptable == nullptr) return rows;
  SPITupleTable* table = SPI_tuptable;
  rows.reserve(ex.processed);
  for (uint64 r = 0; r < ex.processed; ++r) rows.push_back(copy_row(table, r));
  return rows;
}

long spi_exec(const char* sql, const std::vector<SqlValue>& params) {
  return static_cast<long>(execute(sql, params, false).processed);
}

}  // namespace abdm_pg

namespace abdm_pg {

void spi_for_each(const char* sql, const std::vector<SqlValue>& params, long batch,
                  const std::function<bool(const SqlRow&)>& on_row) {
  BoundParams b = bind(params);
  Portal portal = pg_call([&] {
    return SPI_cursor_open_with_args(nullptr, sql, b.n, b.types, b.values, b.nulls, true, 0);
  });
  bool more = true;
  while (more) {
    pg_call([&] { SPI_cursor_fetch(portal, true, batch); });
    SPITupleTable* table = SPI_tuptable;
    uint64 got = SPI_processed;
    if (got == 0 || table == nullptr) break;
    for (uint64 r = 0; r < got && more; ++r) {
      SqlRow row = copy_row(table, r);
      more = on_row(row);
    }
    pg_call([&] { SPI_freetuptable(table); });
  }
  pg_call([&] { SPI_cursor_close(portal); });
}

}  // namespace abdm_pg
