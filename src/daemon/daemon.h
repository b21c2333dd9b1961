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
  std::string proc_root = "/proc";
};

// Runs until SIGTERM/SIGINT. Returns the process exit status.
int run(config::Config config, const RunOptions& options);

}  // namespace freezr::daemon
