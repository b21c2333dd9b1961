// `freezr profile [NAME | --off | --auto]`: lists the configuration's profiles and the one the
// running FreezR uses, or chooses one. The choice is written to the data directory (where it
// outlives a restart) and the running FreezR, proven to be the lock's holder, is told with
// SIGUSR2; no token and no HTTP are needed.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "config/config.h"

namespace freezr::cli {

struct ProfileOptions {
  std::optional<std::string> name;
  bool off = false;        // no profile, by hand
  bool automatic = false;  // back to the automatic choice
  double wait = 5;         // seconds to wait for the status snapshot to show the switch
  std::string format = "table";
};

// The subcommand and its options, parsed into o.
CLI::App* define_profile(CLI::App& app, ProfileOptions& o);
// cfg: the configuration with its storage directories as the daemon uses them. 0 when listed
// or switched; 1 when the running FreezR did not show the switch in time or the choice could
// not be written; 2 for an unknown name.
int cmd_profile(const config::Config& cfg, const ProfileOptions& o);

}  // namespace freezr::cli
