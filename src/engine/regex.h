// Regex: a compiled POSIX extended regular expression (search semantics, no captures).
// POSIX matching has no catastrophic backtracking on hostile command lines; compiling does
// expand repetitions, so patterns whose expansion would be large are refused before regcomp.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace freezr::engine {

// Patterns at most this long, expanding to at most kMaxExpandedSize atoms, are compiled.
inline constexpr std::size_t kMaxPatternLength = 4096;
inline constexpr double kMaxExpandedSize = 20000;

// An upper estimate of how many atoms regcomp builds for pattern: `a+` counts twice (it is
// compiled as `aa*`), `a{2,5}` five times, and repetitions of repetitions multiply, so stacked
// or nested quantifiers ("a++++", "((a+)+)+", "(a{50}){50}") show their real cost.
double expanded_size(const std::string& pattern);

// Where a quantifier directly follows another one ("a++", "a*+", "a{2}*"): undefined in POSIX
// extended regular expressions, and very slow to compile in glibc. nullopt when none does.
std::optional<std::size_t> stacked_quantifier(const std::string& pattern);

class Regex {
 public:
  // Returns nullopt and sets *error when the pattern does not compile, or is too large once
  // its repetitions are expanded (see expanded_size).
  static std::optional<Regex> compile(const std::string& pattern, std::string* error);

  [[nodiscard]] bool search(const std::string& text) const;
  [[nodiscard]] const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  Regex(std::string pattern, std::shared_ptr<const Impl> impl)
      : pattern_(std::move(pattern)), impl_(std::move(impl)) {}
  std::string pattern_;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace freezr::engine
