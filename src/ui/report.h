// Text the user reads: the start-up banner and the statistics block. Pure formatting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "engine/totals.h"
#include "proc/parse.h"

namespace freezr::ui {

inline constexpr const char* kVersion = "0.2.0";

// "2h 15m 30s"
std::string format_duration(double seconds);

// The banner: version, one line per rule, the check interval, the mode.
std::string banner(const config::Config& config, bool dry_run);

// The seed's PROCESS MONITOR STATISTICS block.
std::string statistics_block(const engine::Totals& t);

}  // namespace freezr::ui
