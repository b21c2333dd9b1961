#include "core/timespec.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace freezr {

std::optional<double> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      unit = 0;
  }
  if (unit != 0) {
    number.pop_back();
  } else {
    unit = 1;
  }
  if (number.empty()) return std::nullopt;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(number, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != number.size() || v < 0) return std::nullopt;
  return v * unit;
}

namespace {

// Local midnight of the day `now` falls in, days_back days earlier.
double local_midnight(double now, int days_back) {
  const auto t = static_cast<std::time_t>(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_mday -= days_back;
  tm.tm_isdst = -1;
  return static_cast<double>(std::mktime(&tm));
}

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (local), or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac]" with
// "Z" or "+HH:MM"/"-HH:MM" (absolute).
std::optional<double> date_time(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  char sep = 0;
  const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%n%c%2d:%2d%n:%2d%n", &y, &mo, &d, &used,
                            &sep, &h, &mi, &used, &s, &used);
  if (n != 3 && n < 6) return std::nullopt;
  if (n >= 6 && sep != ' ' && sep != 'T') return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::string rest = text.substr(static_cast<std::size_t>(used));
  double fraction = 0;
  if (!rest.empty() && rest[0] == '.' && n == 7) {
    std::size_t k = 1;
    while (k < rest.size() && rest[k] >= '0' && rest[k] <= '9') ++k;
    if (k == 1) return std::nullopt;
    fraction = std::stod("0" + rest.substr(0, k));
    rest = rest.substr(k);
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  if (rest.empty()) {  // local time
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return static_cast<double>(t) + fraction;
  }
  int offset = 0;
  if (rest != "Z" && rest != "z") {
    int oh = 0, om = 0;
    char colon = 0;
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') ||
        std::sscanf(rest.c_str() + 1, "%2d%c%2d", &oh, &colon, &om) != 3 || colon != ':' ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (rest[0] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  if (n < 6) return std::nullopt;  // an offset needs a time of day
  return static_cast<double>(timegm(&tm)) - offset + fraction;
}

}  // namespace

std::optional<double> parse_time(const std::string& text, double now) {
  if (text == "now") return now;
  if (text == "today") return local_midnight(now, 0);
  if (text == "yesterday") return local_midnight(now, 1);
  if (text.size() > 1 && text[0] == '@') {
    const auto v = parse_duration(text.substr(1));
    if (!v || text.back() < '0' || text.back() > '9') return std::nullopt;
    return *v;
  }
  if (text.size() > 1 && text[0] == '-') {
    const auto d = parse_duration(text.substr(1));
    return d ? std::optional<double>(now - *d) : std::nullopt;
  }
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-') return date_time(text);
  const bool has_unit = !text.empty() && (text.back() < '0' || text.back() > '9');
  if (!has_unit) {
    const auto v = parse_duration(text);
    // Plain numbers above a year are Unix seconds; smaller ones are "seconds ago".
    if (v && *v > 365 * 86400.0) return *v;
    if (v) return now - *v;
    return std::nullopt;
  }
  const auto d = parse_duration(text);
  return d ? std::optional<double>(now - *d) : std::nullopt;
}

std::string rfc3339(double ts, bool local, int digits) {
  double whole = std::floor(ts);
  int millis = static_cast<int>(std::lround((ts - whole) * 1000));
  if (millis == 1000) {
    whole += 1;
    millis = 0;
  }
  const auto t = static_cast<std::time_t>(whole);
  std::tm tm{};
  if (local) {
    localtime_r(&t, &tm);
  } else {
    gmtime_r(&t, &tm);
  }
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (digits > 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", millis);
    out += frac;
  }
  if (!local) return out + "Z";
  const int offset = static_cast<int>(tm.tm_gmtoff % 86400);  // within a day, always
  char zone[16];
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset < 0 ? '-' : '+', std::abs(offset) / 3600,
                std::abs(offset) % 3600 / 60);
  return out + zone;
}

}  // namespace freezr
