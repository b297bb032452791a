// The checksum of a data-push entry: base64(MD5(the exact bytes that were encrypted)), as the
// ABDM sandbox documentation asks ("Request health records": the HIU compares it after
// decrypting). The v0.5 HIP OpenAPI (EntryContent.checksum) only says "MD5 of the content".
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <string>
#include <string_view>

namespace abdm::crypto {

std::string md5_base64(std::string_view bytes);

}  // namespace abdm::crypto
