// Logging: one spdlog logger with a stdout sink (coloured on a terminal) and a daily file
// sink named like the seed's: <dir>/process_monitor.log.YYYY-MM-DD.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace freezr::daemon {

// Creates the logger. When the directory cannot be created or written, the logger has only
// the stdout sink and *file_error says why.
std::shared_ptr<spdlog::logger> make_logger(const std::string& dir, std::string* file_error);

// The daily file name for a date, e.g. "process_monitor.log.2026-11-27".
std::string daily_file_name(int year, int month, int day);

}  // namespace freezr::daemon
