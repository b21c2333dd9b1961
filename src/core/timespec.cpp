#include "core/timespec.h"

#include <cstdio>
#include <ctime>

namespace freezr {

std::optional<double> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: unit = 0;
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

std::optional<double> parse_time(const std::string& text, double now) {
  if (text.size() >= 10 && text[4] == '-' && text[7] == '-') {
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    char sep = 0, tail = 0;
    const int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%c", &y, &mo, &d, &sep, &h,
                              &mi, &s, &tail);
    if (!(n == 3 || ((n == 6 || n == 7) && (sep == ' ' || sep == 'T')))) return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) return std::nullopt;
    return static_cast<double>(t);
  }
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

}  // namespace freezr
