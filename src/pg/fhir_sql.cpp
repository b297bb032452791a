// SQL entry points of the FHIR document builders and checks (src/core/fhir/fhir.hpp):
//   abdm_hip.fhir_document(hi_type text, record jsonb) → jsonb   the NRCES document Bundle
//   abdm_hip.fhir_check(bundle jsonb) → setof (severity, path, message)
//   abdm_hip_internal.fhir_hi_type(bundle jsonb) → text                   HI type of its Composition profile
// All logic is in the core; this file only moves values across the boundary (pg/guard.hpp).
#include "pg/datum.hpp"
#include "pg/guard.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/tuplestore.h"
}

#include <string>
#include <vector>

#include "core/fhir/fhir.hpp"

extern "C" {

PG_FUNCTION_INFO_V1(abdm_fhir_document);
PGDLLEXPORT Datum abdm_fhir_document(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::string hi_type = abdm_pg::arg_text(fcinfo, 0);
    const nlohmann::json record = abdm_pg::arg_jsonb(fcinfo, 1);
    return abdm_pg::jsonb_datum(abdm::fhir::build_document(hi_type, record));
  });
}

PG_FUNCTION_INFO_V1(abdm_fhir_check);
PGDLLEXPORT Datum abdm_fhir_check(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    const std::vector<abdm::fhir::Issue> issues = abdm::fhir::check(abdm_pg::arg_jsonb(fcinfo, 0));
    // Materialize mode: the whole (small) result goes into the tuplestore PostgreSQL provides.
    abdm_pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const auto& issue : issues) {
      Datum values[3] = {abdm_pg::text_datum(issue.severity), abdm_pg::text_datum(issue.path), abdm_pg::text_datum(issue.message)};
      bool nulls[3] = {false, false, false};
      abdm_pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return (Datum)0;
  });
}

PG_FUNCTION_INFO_V1(abdm_fhir_hi_type);
PGDLLEXPORT Datum abdm_fhir_hi_type(PG_FUNCTION_ARGS) {
  bool is_null = false;
  Datum result = abdm_pg::guarded([&]() -> Datum {
    const std::string type = abdm::fhir::hi_type_of(abdm_pg::arg_jsonb(fcinfo, 0));
    if (type.empty()) {
      is_null = true;
      return (Datum)0;
    }
    return abdm_pg::text_datum(type);
  });
  if (is_null) PG_RETURN_NULL();
  return result;
}

}  // extern "C"
