// Subcommands other than `run`. Each returns an exit status.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace freezr::cli {

struct LoadedConfig {
  config::Config config;
  std::optional<std::string> path;  // nullopt for the embedded default
};

// --config FILE, else ./freezr.toml, else /etc/freezr/config.toml, else the embedded default.
// Throws config::ConfigError.
LoadedConfig resolve_config(const std::optional<std::string>& path);

// `freezr check`: samples over one interval and prints every rule's verdict. Acts on nothing.
// format: "table" (the text below), "json" or "csv" (one row a process, see cli/table.h); so for
// every command here that prints data.
int cmd_check(const config::Config& cfg, const std::string& proc_root,
              const std::string& format = "table");

struct PsOptions {
  std::string sort = "cpu";  // cpu, mem or io
  std::optional<std::string> rule, category;
  std::optional<std::string> unit;  // a glob of the unit (or the system manager's unit)
  double interval = 1;              // seconds between the two samples
  int limit = 0;                    // rows; 0: all
  std::string format = "table";
  bool io = false;  // read every process's disk I/O (else only where a rule uses it)
};

// `freezr ps`: the process table with each process's category and rule.
int cmd_ps(const config::Config& cfg, const std::string& proc_root, const PsOptions& o);

// `freezr sensors`: every temperature sensor under sys_root, under each name a [[thermal]]
// section may give it, with its temperature now.
int cmd_sensors(const std::string& sys_root, const std::string& format = "table");

// `freezr categories`: the category library in force (shipped plus the config's own).
int cmd_categories(const config::Config& cfg, const std::string& format = "table");

// `freezr oom-order`: the current victim order under memory pressure, one process a line.
int cmd_oom_order(const config::Config& cfg, const std::string& proc_root, int limit,
                  const std::string& format = "table");

}  // namespace freezr::cli
