// abdm_hip.check_hi_request(hip_id, request, consent_hip_id, consent_status, data_erase_at,
//                           date_from, date_to, at) → jsonb {"accepted", "code", "message"}
// The core's decision on a health-information request (core/abdm/hi_request_check), for its
// handler in sql/schema/85_hi_request.sql: the handler looks the consent up and records the
// outcome, the rule itself lives only in the core. `request` is the message receive() handed the
// handler; a NULL consent_hip_id means no consent with the request's id is stored.
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

extern "C" {
PG_FUNCTION_INFO_V1(abdm_check_hi_request);
PGDLLEXPORT Datum abdm_check_hi_request(PG_FUNCTION_ARGS) {
  return abdm_pg::guarded([&]() -> Datum {
    namespace proto = abdm::proto;
    static const char* const kArgs[] = {"hip_id", "request", "consent_hip_id", "consent_status",
                                        "data_erase_at", "date_from", "date_to", "at"};
    for (int i : {0, 1, 7})
      if (PG_ARGISNULL(i)) throw abdm::Error(abdm::sqlstate::kNotNull, kArgs[i], "must not be NULL");
    const std::string hip_id = abdm_pg::arg_text(fcinfo, 0);
    const proto::HiRequest request = proto::parse_hi_request(abdm_pg::arg_jsonb(fcinfo, 1));
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
}
