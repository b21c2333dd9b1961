#include "engine/regex.h"

#include <regex.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace freezr::engine {

struct Regex::Impl {
  regex_t re{};
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { regfree(&re); }
};

namespace {
// The repetition factor of the quantifier at p[i] ({m}, {m,}, {m,n}, +, *, ?), and where it
// ends; 0 when p[i] starts none.
double quantifier(const std::string& p, std::size_t& i) {
  const char c = p[i];
  if (c == '*' || c == '?') return 1;
  if (c == '+') return 2;
  if (c != '{') return 0;
  const auto close = p.find('}', i);
  if (close == std::string::npos) return 0;
  double low = 0, high = 0;
  bool comma = false, high_digits = false, low_digits = false;
  for (std::size_t k = i + 1; k < close; ++k) {
    const char d = p[k];
    if (d == ',' && !comma) {
      comma = true;
    } else if (d >= '0' && d <= '9') {
      double& bound = comma ? high : low;
      bound = bound * 10 + (d - '0');
      (comma ? high_digits : low_digits) = true;
    } else {
      return 0;  // not a bound: regcomp says what it thinks of it
    }
  }
  if (!low_digits) return 0;
  i = close;
  // {m}: m copies; {m,n}: n; {m,}: m and a star.
  return std::max(1.0, !comma ? low : high_digits ? high : low + 1);
}
// Steps i over the atom at p[i] that is more than one character: an escape, or a bracket
// expression (whose first ']' after '[' or '[^' is a member).
void skip_atom(const std::string& p, std::size_t& i) {
  if (p[i] == '\\') {
    ++i;
    return;
  }
  if (p[i] != '[') return;
  std::size_t k = i + 1;
  if (k < p.size() && p[k] == '^') ++k;
  if (k < p.size() && p[k] == ']') ++k;
  const auto close = p.find(']', k);
  i = close == std::string::npos ? p.size() : close;
}
}  // namespace

double expanded_size(const std::string& p) {
  // Per open group: the size of what it holds so far, and of its last atom.
  std::vector<std::pair<double, double>> levels(1, {0, 0});
  for (std::size_t i = 0; i < p.size(); ++i) {
    auto& [total, last] = levels.back();
    const char c = p[i];
    if (c == '(') {
      levels.emplace_back(0, 0);
      continue;
    }
    if (c == ')' && levels.size() > 1) {
      const double group = levels.back().first;
      levels.pop_back();
      levels.back().first += group;
      levels.back().second = group;
      continue;
    }
    if (c == '|') continue;
    if (const double f = quantifier(p, i); f > 0) {
      total += last * (f - 1);  // the atom now stands f times
      last *= f;
      continue;
    }
    skip_atom(p, i);
    total += 1;
    last = 1;
  }
  double total = 0;
  for (const auto& [t, l] : levels) total += t;
  return total;
}

std::optional<std::size_t> stacked_quantifier(const std::string& p) {
  bool after_quantifier = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const std::size_t at = i;
    if (quantifier(p, i) > 0) {
      if (after_quantifier) return at;
      after_quantifier = true;
      continue;
    }
    after_quantifier = false;
    skip_atom(p, i);
  }
  return std::nullopt;
}

std::optional<Regex> Regex::compile(const std::string& pattern, std::string* error) {
  auto refuse = [&](std::string why) {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  if (pattern.size() > kMaxPatternLength) {
    return refuse("longer than " + std::to_string(kMaxPatternLength) + " characters");
  }
  if (const auto at = stacked_quantifier(pattern)) {
    return refuse("a quantifier directly after another at character " + std::to_string(*at + 1) +
                  " (undefined in POSIX extended regular expressions; group the first: (a+)+)");
  }
  if (const double size = expanded_size(pattern); size > kMaxExpandedSize) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "its repetitions expand to about %.3g atoms (at most %.0f): stacked or nested "
                  "quantifiers cost memory and time to compile",
                  size, kMaxExpandedSize);
    return refuse(msg);
  }
  auto impl = std::make_shared<Impl>();
  const int rc = regcomp(&impl->re, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &impl->re, msg, sizeof msg);
    if (error != nullptr) *error = msg;
    // regcomp failed: nothing to free, so keep the destructor from calling regfree.
    impl->re = regex_t{};
    return std::nullopt;
  }
  return Regex(pattern, std::move(impl));
}

bool Regex::search(const std::string& text) const {
  return regexec(&impl_->re, text.c_str(), 0, nullptr, 0) == 0;
}

}  // namespace freezr::engine
