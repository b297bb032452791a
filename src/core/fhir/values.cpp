#include "core/fhir/values.hpp"

#include <cmath>
#include <regex>

#include "core/fhir/uuid.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

namespace abdm::fhir {
namespace {

[[noreturn]] void bad(const std::string& path, const std::string& msg) {
  throw Error(sqlstate::kInvalidText, path, msg);
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Validates the calendar part captured by the regexes below (year from 1, month 1-12, day within
// the month).
bool calendar_ok(const std::smatch& m) {
  int y = std::stoi(m[1].str());
  // FHIR R4's date patterns start at year 0001: "0000" is not a year in the proleptic calendar
  // FHIR uses (the R4 JSON schema refuses it), though four digits would match.
  if (y < 1) return false;
  if (!m[2].matched) return true;
  int mo = std::stoi(m[2].str());
  if (mo < 1 || mo > 12) return false;
  if (!m[3].matched) return true;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int d = std::stoi(m[3].str());
  int max = days[mo - 1] + (mo == 2 && leap(y) ? 1 : 0);
  return d >= 1 && d <= max;
}

// R4 dateTime without the partial-date forms mixed with time: time needs seconds and a zone.
const std::regex kDate(R"(^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$)");
const std::regex kDateTime(
    R"(^([0-9]{4})-([0-9]{2})-([0-9]{2})T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)$)");

}  // namespace

std::string check_date(const std::string& v, const std::string& path) {
  std::smatch m;
  if (!std::regex_match(v, m, kDate) || !calendar_ok(m)) bad(path, "must be a date YYYY, YYYY-MM or YYYY-MM-DD");
  return v;
}

std::string check_date_time(const std::string& v, const std::string& path) {
  std::smatch m;
  if (std::regex_match(v, m, kDate) && calendar_ok(m)) return v;
  if (std::regex_match(v, m, kDateTime) && calendar_ok(m)) return v;
  bad(path, "must be a date (YYYY-MM-DD) or a date-time with seconds and zone (YYYY-MM-DDThh:mm:ss+05:30)");
}

std::string check_instant(const std::string& v, const std::string& path) {
  std::smatch m;
  if (std::regex_match(v, m, kDateTime) && calendar_ok(m)) return v;
  bad(path, "must be a date-time with seconds and zone (YYYY-MM-DDThh:mm:ss+05:30)");
}

void check_base64(const std::string& v, const std::string& path) {
  if (v.empty()) bad(path, "must not be empty");
  if (v.size() % 4 != 0) bad(path, "is not base64 (length is not a multiple of 4)");
  size_t pad = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=') {
      ++pad;
    } else if (!alpha || pad) {
      bad(path, "is not base64 (character " + std::to_string(i) + ")");
    }
  }
  if (pad > 2) bad(path, "is not base64 (too much padding)");
}

bool base64_starts_with(const std::string& data, std::string_view magic) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i + 3 < data.size() && out.size() < magic.size(); i += 4) {
    int a = val(data[i]), b = val(data[i + 1]), c = val(data[i + 2]), d = val(data[i + 3]);
    if (a < 0 || b < 0) return false;
    out.push_back(static_cast<char>((a << 2) | (b >> 4)));
    if (c >= 0) out.push_back(static_cast<char>(((b & 15) << 4) | (c >> 2)));
    if (c >= 0 && d >= 0) out.push_back(static_cast<char>(((c & 3) << 6) | d));
  }
  return out.compare(0, magic.size(), magic) == 0 && out.size() >= magic.size();
}

std::string check_mime_type(const std::string& v, const std::string& path) {
  static const std::regex kMime(R"(^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$)");
  if (!std::regex_match(v, kMime)) bad(path, "must be a MIME type such as application/pdf");
  return v;
}

std::string check_uuid(const std::string& v, const std::string& path) {
  if (!is_uuid(v)) bad(path, "must be a UUID (8-4-4-4-12 hex): it becomes the urn:uuid: fullUrl");
  std::string lower = v;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string check_code(const std::string& v, const std::string& path) {
  std::string c(text::trim(v));
  if (c.empty()) throw Error(sqlstate::kInvalidParameter, path, "must not be blank");
  for (size_t i = 1; i < c.size(); ++i)
    if (text::is_space(c[i]) && text::is_space(c[i - 1]))
      throw Error(sqlstate::kInvalidParameter, path, "a code holds single spaces only (FHIR code)");
  return c;
}

std::string check_uri(const std::string& v, const std::string& path) {
  std::string u(text::trim(v));
  for (char ch : u)
    if (text::is_space(ch)) throw Error(sqlstate::kInvalidParameter, path, "must be a URI without spaces (FHIR uri)");
  return u;
}

std::string check_one_of(const std::string& v, const std::string& path, std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed) {
    if (v == a) return v;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw Error(sqlstate::kInvalidParameter, path, "must be one of " + list + " (got \"" + v + "\")");
}

long long check_money(double v, const std::string& path) {
  if (!std::isfinite(v) || v < 0) throw Error(sqlstate::kInvalidParameter, path, "must be an amount >= 0");
  // An upper bound, so that the paise fit a long long with room for the invoice's sums: 1e300
  // was converted out of range (undefined behaviour; UBSan, test/fuzz/fhir_record_fuzz).
  if (v > kMaxMoney) throw Error(sqlstate::kInvalidParameter, path, "must be at most 1e12 (rupees)");
  double paise = v * 100.0;
  double rounded = std::round(paise);
  if (std::fabs(paise - rounded) > 1e-6 * std::max(1.0, std::fabs(paise))) {
    throw Error(sqlstate::kInvalidParameter, path, "must have at most two decimals");
  }
  return static_cast<long long>(rounded);
}

}  // namespace abdm::fhir
