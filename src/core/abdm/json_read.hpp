// Field-by-field reading of a JSON body with JSON-path error names: every accessor throws
// abdm::Error whose field is the full path of the bad value ("hiRequest.keyMaterial.nonce",
// "patient[0].careContexts[2].referenceNumber"), so a refused message says exactly what was wrong.
// Missing → 23502 "is required"; wrong type, empty or too long → 22023.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/abdm/time.hpp"

namespace abdm::proto::json_read {

using nlohmann::json;

// Length limits (characters) that keep hostile bodies from bloating the tables.
inline constexpr std::size_t kIdLen = 128;       // ids, references, codes
inline constexpr std::size_t kTextLen = 1024;    // names, display strings, messages
inline constexpr std::size_t kUrlLen = 2048;     // dataPushUrl
inline constexpr std::size_t kBlobLen = 16384;   // signatures, tokens, key values
inline constexpr std::size_t kMaxItems = 1000;   // array lengths

std::string join(const std::string& base, std::string_view key);
std::string index(const std::string& base, std::size_t i);

// Null and absent are the same: "not given".
const json* find(const json& obj, std::string_view key);

const json& req_object(const json& obj, std::string_view key, const std::string& base);
const json* opt_object(const json& obj, std::string_view key, const std::string& base);
// A non-empty (unless allow_empty) array of at most max_items elements.
const json& req_array(const json& obj, std::string_view key, const std::string& base,
                      bool allow_empty = false, std::size_t max_items = kMaxItems);
const json* opt_array(const json& obj, std::string_view key, const std::string& base,
                      std::size_t max_items = kMaxItems);

// A non-blank string of at most max_len characters (UTF-8 bytes), surrounding spaces trimmed.
std::string req_string(const json& obj, std::string_view key, const std::string& base,
                       std::size_t max_len = kIdLen);
std::optional<std::string> opt_string(const json& obj, std::string_view key, const std::string& base,
                                      std::size_t max_len = kIdLen);
// The same checks for an array element or other bare value at `path`.
std::string as_string(const json& value, const std::string& path, std::size_t max_len = kIdLen);

// An integer in [lo, hi]; a string of digits is accepted too (some senders quote numbers).
std::int64_t req_int(const json& obj, std::string_view key, const std::string& base, std::int64_t lo,
                     std::int64_t hi);
std::optional<std::int64_t> opt_int(const json& obj, std::string_view key, const std::string& base,
                                    std::int64_t lo, std::int64_t hi);
std::optional<bool> opt_bool(const json& obj, std::string_view key, const std::string& base);

// A UUID string (see uuid.hpp).
std::string req_uuid(const json& obj, std::string_view key, const std::string& base);
std::optional<std::string> opt_uuid(const json& obj, std::string_view key, const std::string& base);

// A string from a fixed set, compared case-insensitively and returned as spelled in `allowed`.
std::string req_enum(const json& obj, std::string_view key, const std::string& base,
                     std::initializer_list<std::string_view> allowed);

TimePoint req_time(const json& obj, std::string_view key, const std::string& base);
std::optional<TimePoint> opt_time(const json& obj, std::string_view key, const std::string& base);

}  // namespace abdm::proto::json_read
