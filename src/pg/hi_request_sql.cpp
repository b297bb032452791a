// The core's decisions on health-information requests (core/abdm/hi_request_check), for
// sql/schema/85_hi_request.sql: SQL looks the consent up and records the outcome, the rules live
// only in the core. A NULL consent_hip_id means no consent with the request's id is stored.
//
//   abdm_hip_internal.check_hi_request(hip_id, request_id, consent_hip_id, consent_status,
//       data_erase_at, date_from, date_to, at) → jsonb {"accepted", "code", "message"}
//       for the request receive() is handling (pg/received_message: parsed once, by receive())
//   abdm_hip_internal.consent_refusal(consent_id, hip_id, consent_hip_id, consent_status, data_erase_at,
//                            at) → jsonb {"code", "message"}, NULL while the consent allows sharing
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/timestamp.h"
}

#include <optional>
#include <string>

#include "core/abdm/hi_request_check.hpp"
#include "core/abdm/inbound.hpp"
#include "pg/datum.hpp"
#include "pg/received_message.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(abdm_check_hi_request);
PGDLLEXPORT Datum abdm_check_hi_request(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    namespace proto = abdm::proto;
    static const char* const kArgs[] = {"hip_id", "request_id", "consent_hip_id", "consent_status",
                                        "data_erase_at", "date_from", "date_to", "at"};
    for (int i : {0, 1, 7})
      if (PG_ARGISNULL(i)) throw abdm::Error(abdm::sqlstate::kNotNull, kArgs[i], "must not be NULL");
    const std::string hip_id = abdm_pg::arg_text(fcinfo, 0);
    // The request as receive() parsed it, not its JSON again.
    const auto& request = abdm_pg::received_body<proto::HiRequest>(hip_id, abdm_pg::arg_uuid_text(fcinfo, 1),
                                                                   proto::MessageKind::kHiRequest);
    auto optional_time = [&](int i) -> std::optional<proto::TimePoint> {
      if (PG_ARGISNULL(i)) return std::nullopt;
      return abdm_pg::time_point(PG_GETARG_TIMESTAMPTZ(i));
    };
    std::optional<proto::StoredConsent> consent;
    if (!PG_ARGISNULL(2)) {
      if (PG_ARGISNULL(3)) throw abdm::Error(abdm::sqlstate::kNotNull, kArgs[3], "must not be NULL for a stored consent");
      consent = proto::StoredConsent{request.consent_id, abdm_pg::arg_text(fcinfo, 2), abdm_pg::arg_text(fcinfo, 3),
                                     optional_time(4), optional_time(5), optional_time(6)};
    }
    const proto::HiRequestVerdict v =
        proto::check_hi_request(request, consent, hip_id, abdm_pg::time_point(PG_GETARG_TIMESTAMPTZ(7)));
    return abdm_pg::jsonb_datum({{"accepted", v.accepted}, {"code", v.code}, {"message", v.message}});
  });
}

PG_FUNCTION_INFO_V1(abdm_consent_refusal);
PGDLLEXPORT Datum abdm_consent_refusal(PG_FUNCTION_ARGS) {
  bool refused = false;
  Datum result = abdm_pg::guarded([&]() -> Datum {
    namespace proto = abdm::proto;
    static const char* const kArgs[] = {"consent_id", "hip_id", "consent_hip_id", "consent_status", "data_erase_at", "at"};
    for (int i : {0, 1, 5})
      if (PG_ARGISNULL(i)) throw abdm::Error(abdm::sqlstate::kNotNull, kArgs[i], "must not be NULL");
    const std::string consent_id = abdm_pg::arg_text(fcinfo, 0);
    std::optional<proto::StoredConsent> consent;
    if (!PG_ARGISNULL(2)) {
      if (PG_ARGISNULL(3)) throw abdm::Error(abdm::sqlstate::kNotNull, kArgs[3], "must not be NULL for a stored consent");
      std::optional<proto::TimePoint> erase;
      if (!PG_ARGISNULL(4)) erase = abdm_pg::time_point(PG_GETARG_TIMESTAMPTZ(4));
      consent = proto::StoredConsent{consent_id, abdm_pg::arg_text(fcinfo, 2), abdm_pg::arg_text(fcinfo, 3),
                                     erase, std::nullopt, std::nullopt};
    }
    const auto refusal = proto::consent_refusal(consent, consent_id, abdm_pg::arg_text(fcinfo, 1),
                                                abdm_pg::time_point(PG_GETARG_TIMESTAMPTZ(5)));
    if (!refusal) return Datum(0);
    refused = true;
    return abdm_pg::jsonb_datum({{"code", refusal->code}, {"message", refusal->message}});
  });
  if (!refused) PG_RETURN_NULL();
  return result;
}
}
