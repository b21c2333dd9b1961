#include "engine/regex.h"

#include <re2/re2.h>

namespace freezr::engine {

Result<Regex> Regex::compile(const std::string& pattern) {
  if (pattern.empty()) return error_of(ErrorKind::kConfig, "an empty pattern matches everything");
  if (pattern.size() > kMaxPatternLength) {
    return error_of(ErrorKind::kConfig,
                    "longer than " + std::to_string(kMaxPatternLength) + " characters");
  }
  if (const auto nul = pattern.find('\0'); nul != std::string::npos) {
    return error_of(ErrorKind::kConfig,
                    "a NUL character at character " + std::to_string(nul + 1) +
                        " (command lines are matched with their arguments joined by spaces)");
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  options.set_max_mem(kMaxProgramBytes);
  auto re = std::make_shared<const RE2>(pattern, options);
  if (!re->ok()) {
    std::string why = re->error();
    if (re->error_code() == RE2::ErrorPatternTooLarge) {
      why = "it compiles into more than " + std::to_string(kMaxProgramBytes >> 20) +
            " MiB (nested or large repetitions)";
    } else if (re->error_code() == RE2::ErrorRepeatSize) {
      why += " (repetitions multiply when nested: at most 1000 copies in all)";
    } else if (const auto at = pattern.find(re->error_arg());
               re->error_arg().size() < pattern.size() && at != std::string::npos) {
      why += " at character " + std::to_string(at + 1);
    }
    if (re->error_code() == RE2::ErrorBadEscape && re->error_arg().size() == 2 &&
        re->error_arg()[1] >= '1' && re->error_arg()[1] <= '9') {
      why += " (back-references are not supported: they cannot be matched in linear time)";
    }
    return error_of(ErrorKind::kConfig, why);
  }
  return Regex(pattern, std::move(re));
}

bool Regex::search(const std::string& text) const { return RE2::PartialMatch(text, *re_); }

}  // namespace freezr::engine
