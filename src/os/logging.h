// Logging: one spdlog logger with a stdout sink (coloured on a terminal) and a daily file
// sink named like the seed's: <dir>/process_monitor.log.YYYY-MM-DD.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>

#include "fs/files.h"

namespace freezr::os {

struct Logging {
  std::shared_ptr<spdlog::logger> logger;
  spdlog::sink_ptr file;             // null when the directory is not usable
  std::optional<fs::Directory> dir;  // the log directory, opened and checked
  std::string file_error;
};

// Creates the logger. When the directory cannot be created, is not FreezR's alone (see
// fs::Directory) or today's file is not a regular file, the logger has only the stdout sink
// and file_error says why. A later write failure (a full disk) turns the file sink off with
// one warning on stdout.
// color: the console's colours always (true), never (false), or on a terminal (nullopt).
// journal: the lines go to the journal (see journal.h) and not to the console as well.
Logging make_logger(const std::string& dir, std::optional<bool> color = std::nullopt,
                    bool journal = false);

// The daily file name for a date, e.g. "process_monitor.log.2026-11-27".
std::string daily_file_name(int year, int month, int day);

}  // namespace freezr::os
