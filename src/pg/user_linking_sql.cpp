// SQL access to the core's user-initiated discovery and linking rules, for the handlers of
// sql/schema/75_user_linking.sql:
//
//   abdm_hip_internal.match_patients(hip_id text, request_id uuid, candidates jsonb,
//       yob_tolerance int, name_threshold real) → jsonb
//                          the discover request receive() is handling against candidate rows
//   abdm_hip_internal.otp_generate() → text               6 digits from OpenSSL's CSPRNG
//   abdm_hip_internal.otp_hash(otp text) → text           salted PBKDF2 hash, the only form ever stored
//   abdm_hip_internal.otp_verify(otp text, stored text) → boolean
//   abdm_hip_internal.mask_mobile(mobile text) → text      communicationHint "98******32"
//   abdm_hip_internal.check_link_confirm(otp, otp_hash, expires_at, attempts, max_attempts, at)
//       → jsonb            {"outcome", "code", "message", "attemptsAfter"}
//
// The candidate look-ups stay in SQL (indexed); only the decision is C++.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/timestamp.h"
}

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/abdm/inbound.hpp"
#include "core/abdm/link_confirm_check.hpp"
#include "core/abdm/matching.hpp"
#include "core/abdm/otp.hpp"
#include "core/abdm/time.hpp"
#include "pg/datum.hpp"
#include "pg/received_message.hpp"

namespace abdm_pg {
namespace {

namespace proto = abdm::proto;

nlohmann::json match(const proto::DiscoverRequest& request, const nlohmann::json& candidates, int yob_tolerance,
                     double name_threshold) {
  const std::vector<proto::Candidate> cs = proto::candidates_from_json(candidates);
  proto::MatchPolicy policy;
  if (yob_tolerance < 0 || yob_tolerance > 50)
    throw abdm::Error(abdm::sqlstate::kInvalidParameter, "yob_tolerance", "must be between 0 and 50");
  if (!(name_threshold >= 0.0 && name_threshold <= 1.0))
    throw abdm::Error(abdm::sqlstate::kInvalidParameter, "name_threshold", "must be between 0 and 1");
  policy.year_of_birth_tolerance = yob_tolerance;
  policy.name_threshold = name_threshold;
  // The better of trigram (CARE) and Levenshtein (ProjectEKA) similarity: tolerant of both a
  // transposed word order and a one-letter spelling variant ("Heena"/"Hina").
  policy.name_metric = proto::NameMetric::kBest;
  return proto::to_json(proto::match_patient(proto::match_query(request), cs, policy), cs);
}

}  // namespace
}  // namespace abdm_pg

extern "C" {

PG_FUNCTION_INFO_V1(abdm_match_patients);
PGDLLEXPORT Datum abdm_match_patients(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    // The discover request as receive() parsed it, not its JSON again.
    const auto& request = abdm_pg::received_body<abdm::proto::DiscoverRequest>(
        abdm_pg::arg_text(fcinfo, 0), abdm_pg::arg_uuid_text(fcinfo, 1), abdm::proto::MessageKind::kDiscover);
    nlohmann::json candidates = abdm_pg::arg_jsonb(fcinfo, 2);
    const int tolerance = PG_GETARG_INT32(3);
    const double threshold = PG_GETARG_FLOAT4(4);
    return abdm_pg::jsonb_datum(abdm_pg::match(request, candidates, tolerance, threshold));
  });
}

PG_FUNCTION_INFO_V1(abdm_otp_generate);
PGDLLEXPORT Datum abdm_otp_generate(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum { return abdm_pg::text_datum(abdm::proto::generate_otp(abdm::proto::kOtpDigits)); });
}

PG_FUNCTION_INFO_V1(abdm_otp_hash);
PGDLLEXPORT Datum abdm_otp_hash(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    return abdm_pg::text_datum(abdm::proto::hash_otp(abdm_pg::arg_text(fcinfo, 0)));
  });
}

PG_FUNCTION_INFO_V1(abdm_otp_verify);
PGDLLEXPORT Datum abdm_otp_verify(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    std::string otp = abdm_pg::arg_text(fcinfo, 0);
    std::string stored = abdm_pg::arg_text(fcinfo, 1);
    return BoolGetDatum(abdm::proto::verify_otp(otp, stored));
  });
}

PG_FUNCTION_INFO_V1(abdm_mask_mobile);
PGDLLEXPORT Datum abdm_mask_mobile(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    return abdm_pg::text_datum(abdm::proto::mask_mobile(abdm_pg::arg_text(fcinfo, 0)));
  });
}

// Not STRICT: a NULL otp_hash means "no link request has that reference" (the core's
// unknown-reference answer); a NULL otp or other NULL argument is refused.
PG_FUNCTION_INFO_V1(abdm_check_link_confirm);
PGDLLEXPORT Datum abdm_check_link_confirm(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    namespace proto = abdm::proto;
    static const char* const kArgs[] = {"otp", "otp_hash", "expires_at", "attempts", "max_attempts", "at"};
    for (int i : {0, 4, 5})
      if (PG_ARGISNULL(i)) throw abdm::Error(abdm::sqlstate::kNotNull, kArgs[i], "must not be NULL");
    std::string otp = abdm_pg::arg_text(fcinfo, 0);
    std::optional<proto::PendingLink> pending;
    if (!PG_ARGISNULL(1)) {
      if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
        throw abdm::Error(abdm::sqlstate::kNotNull, PG_ARGISNULL(2) ? "expires_at" : "attempts",
                          "must not be NULL when otp_hash is given");
      proto::PendingLink p;
      p.otp_hash = abdm_pg::arg_text(fcinfo, 1);
      p.expires_at = abdm_pg::time_point(PG_GETARG_TIMESTAMPTZ(2));
      p.attempts = PG_GETARG_INT32(3);
      pending = std::move(p);
    }
    const int max_attempts = PG_GETARG_INT32(4);
    const proto::TimePoint at = abdm_pg::time_point(PG_GETARG_TIMESTAMPTZ(5));
    const proto::LinkConfirmVerdict v = proto::check_link_confirm(otp, pending, at, max_attempts);
    nlohmann::json out = {{"outcome", std::string(proto::outcome_name(v.outcome))},
                          {"attemptsAfter", v.attempts_after}};
    if (!v.code.empty()) {
      out["code"] = v.code;
      out["message"] = v.message;
    }
    return abdm_pg::jsonb_datum(out);
  });
}

}  // extern "C"
