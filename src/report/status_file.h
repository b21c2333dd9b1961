// The machine-readable status snapshot, written atomically to <storage.dir>/status.json after
// every scan.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/policy.h"
#include "ui/report.h"

namespace freezr::report {

struct RuleStatus {
  std::string name;
  std::string action;
  std::optional<double> cpu_threshold;  // of the first step
  std::optional<double> memory_threshold;
  bool enabled = true;
  int streak = 0;
  engine::RuleCounters counters;
};

struct StatusInput {
  long pid = 0;
  bool dry_run = false;
  double started_wall = 0;  // Unix seconds
  double now_wall = 0;
  double interval = 0;
  std::string config_source;
  bool degraded_logging = false;
  std::string pressure_level = "none";
  std::string pressure_mode = "off";
  std::uint64_t pressure_kills = 0;
  std::string http;  // the address the HTTP server listens on, or empty
  ui::Totals totals;
  std::vector<RuleStatus> rules;
};

nlohmann::json status_json(const StatusInput& in);

}  // namespace freezr::report
