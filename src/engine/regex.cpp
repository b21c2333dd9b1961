#include "engine/regex.h"

#include <regex.h>

namespace freezr::engine {

struct Regex::Impl {
  regex_t re{};
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { regfree(&re); }
};

std::optional<Regex> Regex::compile(const std::string& pattern, std::string* error) {
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
