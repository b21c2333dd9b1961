// The guardian's main loop: composition root of scanner, policy and actuators.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace freezr::daemon {

struct RunOptions {
  std::optional<std::string> config_path;  // file the config came from (for SIGHUP reload)
  bool dry_run = false;                    // --dry-run: overrides [monitor] dry_run
  bool stats = false;                      // --stats: periodic statistics block
  double report_interval = 60;             // seconds
  bool replace = false;                    // --replace: take over from a running instance
  std::optional<bool> json_log;            // --log-format, over [logging] format
  std::optional<bool> color;               // --color always/never; nullopt: on a terminal
  std::optional<std::string> log_dir;      // --log-dir, over [logging] dir
  std::optional<std::string> data_dir;     // --data-dir, over [storage] dir
  std::optional<std::string> runtime_dir;  // --runtime-dir, over [storage] runtime_dir
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";  // where [[thermal]] sensors are read
};

// Runs until SIGTERM/SIGINT. Returns the process exit status: 0 after a clean stop, 1 when
// another instance holds the lock or start-up fails.
int run(config::Config config, const RunOptions& options);

}  // namespace freezr::daemon
