// Prometheus text exposition (format 0.0.4) of a State. Pure. Every name starts with
// "freezr_" but FreezR's own process figures, under the standard "process_" names; series are
// per rule by default, per process only for the top N when asked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "serve/state.h"

namespace freezr::serve {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// FreezR's open file descriptors and their limit, when readable.
struct ProcessFds {
  std::optional<std::uint64_t> open, max;
};
ProcessFds process_fds();

std::string render_metrics(const State& s, int per_process_top, const ProcessFds& fds = {});

// Escapes a label value (backslash, quote, newline).
std::string label_value(const std::string& v);

}  // namespace freezr::serve
