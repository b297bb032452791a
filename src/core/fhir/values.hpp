// Checks of single input values against the FHIR R4 primitive formats (R4 §2.24 datatypes:
// date, dateTime, instant, base64Binary, id) and the fixed code lists the builders accept.
// Each throws abdm::Error naming the field (JSON path) when the value is wrong.
#pragma once
#if defined(POSTGRES_H) && !defined(ABDM_PG_GLUE)
static_assert(false, "src/core must not include PostgreSQL headers");
#endif

#include <initializer_list>
#include <string>
#include <string_view>

namespace abdm::fhir {

// FHIR `date`: YYYY, YYYY-MM or YYYY-MM-DD with a real month/day.
std::string check_date(const std::string& v, const std::string& path);
// FHIR `dateTime`: a date as above, or YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm) (seconds and zone required).
std::string check_date_time(const std::string& v, const std::string& path);
// FHIR `instant`: the full form only (Bundle.timestamp, meta.lastUpdated, DocumentReference.date).
std::string check_instant(const std::string& v, const std::string& path);
// Canonical base64 (RFC 4648 §4 alphabet, padded, no whitespace), non-empty.
void check_base64(const std::string& v, const std::string& path);
// The first bytes of base64 `data` decode to `magic` (used to verify that a "PDF" is one).
bool base64_starts_with(const std::string& data, std::string_view magic);
// A MIME type "type/subtype" (RFC 6838 characters).
std::string check_mime_type(const std::string& v, const std::string& path);
// A caller-given resource id: must be a UUID because fullUrls are urn:uuid:.
std::string check_uuid(const std::string& v, const std::string& path);
// FHIR `code` (R4 §2.24: [^\s]+(\s[^\s]+)*): whitespace around it is removed (the padding of a
// char(n) column), whitespace inside it may only be single; anything else is an error.
std::string check_code(const std::string& v, const std::string& path);
// FHIR `uri` (R4 §2.24: \S*): surrounding whitespace removed, none inside.
std::string check_uri(const std::string& v, const std::string& path);
// `v` must be one of `allowed`; the error lists them.
std::string check_one_of(const std::string& v, const std::string& path, std::initializer_list<std::string_view> allowed);
// Money: finite, >= 0, at most two decimals (paise). Returned in paise.
// The largest amount an invoice field takes: 10^12 rupees, far above any hospital bill, so that
// sums of paise over any number of line items a record can hold stay checked (invoice.cpp).
inline constexpr double kMaxMoney = 1e12;
long long check_money(double v, const std::string& path);

}  // namespace abdm::fhir
