// Regex: a compiled POSIX extended regular expression (search semantics, no captures).
// POSIX matching has no catastrophic backtracking on hostile command lines.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace freezr::engine {

class Regex {
 public:
  // Returns nullopt and sets *error when the pattern does not compile.
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
