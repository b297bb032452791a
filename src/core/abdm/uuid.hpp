// The protocol model's UUIDs are the core's (core/util/uuid.hpp).
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include "core/util/uuid.hpp"

namespace abdm::proto {
using abdm::is_uuid;
using abdm::new_uuid_v4;
}  // namespace abdm::proto
