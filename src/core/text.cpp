#include "core/text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace freezr {

namespace {

// The length of the well-formed UTF-8 sequence at s[i] and its code point; 0 when the bytes
// there are not one.
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  std::size_t n = 0;
  char32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool misleading(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_escape(std::string& out, const char* format, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, format, value);
  out += buf;
}

// Calls f(bytes, code point) for each UTF-8 sequence of s, and f(byte, nullopt) for each byte
// that starts none.
template <typename F>
void for_each_sequence(std::string_view s, F f) {
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = decode(s, i, cp);
    f(s.substr(i, n == 0 ? 1 : n), n == 0 ? std::nullopt : std::optional<char32_t>(cp));
    i += n == 0 ? 1 : n;
  }
}

std::string escaped(std::string_view s, bool keep_newlines, const char* c0_format) {
  std::string out;
  out.reserve(s.size());
  for_each_sequence(s, [&](std::string_view bytes, std::optional<char32_t> cp) {
    if (!cp) {
      append_escape(out, "\\x%02x", static_cast<unsigned char>(bytes[0]));
    } else if ((*cp < 0x20 && !(keep_newlines && *cp == '\n')) || *cp == 0x7F) {
      append_escape(out, c0_format, static_cast<unsigned>(*cp));
    } else if (misleading(*cp)) {
      append_escape(out, "\\u%04x", static_cast<unsigned>(*cp));
    } else {
      out.append(bytes);
    }
  });
  return out;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  bool valid = true;
  for_each_sequence(s,
                    [&](std::string_view, std::optional<char32_t> cp) { valid &= cp.has_value(); });
  return valid;
}

std::string terminal_safe(std::string_view s, bool keep_newlines) {
  return escaped(s, keep_newlines, "\\x%02x");
}

std::string unicode_escaped(std::string_view s) { return escaped(s, false, "\\u%04x"); }

std::string valid_utf8_or_replaced(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_sequence(s, [&](std::string_view bytes, std::optional<char32_t> cp) {
    out.append(cp ? bytes : std::string_view("\xEF\xBF\xBD"));
  });
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0U;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0U;
    diff |= x ^ y;
  }
  return diff == 0;
}

std::optional<std::vector<int>> parse_cpu_list(std::string_view s) {
  constexpr int kMaxCpu = 4095;
  std::vector<int> out;
  auto number = [&](std::string_view& t, int& v) {
    std::size_t n = 0;
    v = 0;
    while (n < t.size() && t[n] >= '0' && t[n] <= '9' && v <= kMaxCpu) v = v * 10 + (t[n++] - '0');
    t.remove_prefix(n);
    return n > 0 && v <= kMaxCpu;
  };
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  while (!s.empty()) {
    int a = 0, b = 0;
    if (!number(s, a)) return std::nullopt;
    b = a;
    if (!s.empty() && s.front() == '-') {
      s.remove_prefix(1);
      if (!number(s, b) || b < a) return std::nullopt;
    }
    for (int c = a; c <= b; ++c) out.push_back(c);
    if (s.empty()) break;
    if (s.front() != ',') return std::nullopt;
    s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace freezr
