// Regex: a compiled rule pattern (RE2 syntax, search semantics, no captures). RE2 matches in
// time linear in the text whatever the pattern, so a hostile command line cannot stall a scan;
// what it cannot do in linear time (back-references, look-around) is refused when the
// configuration is read, and so is a pattern whose compiled program would be large.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace re2 {
class RE2;
}

namespace freezr::engine {

// Patterns at most this long, compiling into at most kMaxProgramBytes, are accepted.
inline constexpr std::size_t kMaxPatternLength = 4096;
inline constexpr long kMaxProgramBytes = 2L << 20;

class Regex {
 public:
  // The error says what is wrong and where in the pattern: an empty pattern, a NUL, a syntax
  // RE2 does not accept (back-references among it), or a program over kMaxProgramBytes.
  static Result<Regex> compile(const std::string& pattern);

  [[nodiscard]] bool search(const std::string& text) const;
  [[nodiscard]] const std::string& pattern() const { return pattern_; }

 private:
  Regex(std::string pattern, std::shared_ptr<const re2::RE2> re)
      : pattern_(std::move(pattern)), re_(std::move(re)) {}
  std::string pattern_;
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace freezr::engine
