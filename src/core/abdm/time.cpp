#include "core/abdm/time.hpp"
#include "core/abdm/text.hpp"

#include <cstdio>

#include "core/util/error.hpp"

namespace abdm::proto {
namespace {

[[noreturn]] void bad(const std::string& field, std::string_view text, const char* why) {
  const std::string shown = utf8_clip(text, 64);
  throw Error(sqlstate::kInvalidParameter, field,
              std::string("invalid ISO-8601 timestamp \"") + shown + "\": " + why);
}

// Reads exactly `n` ASCII digits at `pos`, advancing it.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

TimePoint parse_timestamp(std::string_view s, const std::string& field, TimestampMode mode) {
  using namespace std::chrono;
  const bool lenient = mode == TimestampMode::kLenient;
  if (s.size() > 40) bad(field, s, "too long");
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, pos, 4, y) || !expect(s, pos, '-') || !digits(s, pos, 2, mo) ||
      !expect(s, pos, '-') || !digits(s, pos, 2, d))
    bad(field, s, "expected YYYY-MM-DD");
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) bad(field, s, "no such calendar date");
  if (pos == s.size()) {
    if (!lenient) bad(field, s, "time of day and Z required");
    return TimePoint{sys_days{ymd}};
  }
  if (!expect(s, pos, 'T') && !(lenient && expect(s, pos, ' ')))
    bad(field, s, "expected 'T' between date and time");
  if (!digits(s, pos, 2, h) || !expect(s, pos, ':') || !digits(s, pos, 2, mi) ||
      !expect(s, pos, ':') || !digits(s, pos, 2, sec))
    bad(field, s, "expected HH:MM:SS");
  // 60 would be a leap second; ABDM never sends one and sys_time cannot hold it.
  if (h > 23 || mi > 59 || sec > 59) bad(field, s, "time of day out of range");
  int ms = 0;
  if (expect(s, pos, '.')) {
    size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    const size_t n = pos - start;
    if (n == 0 || n > 9) bad(field, s, "fraction of a second must have 1 to 9 digits");
  }
  TimePoint t = TimePoint{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms};
  if (pos == s.size()) {
    if (!lenient) bad(field, s, "UTC designator Z required");
    return t;
  }
  if (s[pos] == 'Z' || (lenient && s[pos] == 'z')) {
    ++pos;
  } else if (lenient && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '+' ? 1 : -1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(s, pos, 2, oh)) bad(field, s, "bad UTC offset");
    expect(s, pos, ':');
    if (!digits(s, pos, 2, om) || oh > 23 || om > 59) bad(field, s, "bad UTC offset");
    t -= sign * (hours{oh} + minutes{om});
  } else {
    bad(field, s, lenient ? "unexpected characters after the time" : "UTC designator Z required");
  }
  if (pos != s.size()) bad(field, s, "unexpected characters after the time zone");
  return t;
}

std::string format_timestamp(TimePoint t) {
  using namespace std::chrono;
  const sys_days day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss<milliseconds> tod{t - day_point};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()), static_cast<int>(tod.subseconds().count()));
  return buf;
}

TimePoint now_utc() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace abdm::proto
