// Rule: what to watch and what to do. Built by the config loader, read by the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/regex.h"

namespace freezr::engine {

enum class ActionKind { kLog, kKill, kRestart };
enum class Aggregate { kProcess, kGroup };
// Which processes of a group a kill hits.
enum class Target { kAll, kHottest };

const char* to_string(ActionKind a);
const char* to_string(Aggregate a);
const char* to_string(Target t);

// All given criteria must hold; at least one is given.
struct Match {
  std::vector<std::string> comm;       // exact process names (15-char kernel comm)
  std::vector<std::string> exe;        // basenames, or absolute paths when containing '/'
  std::optional<Regex> cmdline;        // searched in the space-joined command line
  std::vector<std::string> user;       // names as written in the config
  std::vector<std::uint32_t> uids;     // the same users, resolved
};

struct Rule {
  std::string name;
  Match match;
  std::optional<double> cpu_percent;  // percent of one core; violated when strictly above
  std::optional<double> memory_mb;    // resident set, MiB; violated when strictly above
  int violations = 3;                 // consecutive violating scans before acting
  Aggregate aggregate = Aggregate::kProcess;
  Target target = Target::kAll;
  ActionKind action = ActionKind::kLog;
  std::string service;    // systemd unit for kRestart, with its suffix
  double cooldown = 0;    // seconds between two actions of this rule
  bool enabled = true;
};

// True when a and b are the same rule in every setting (used to keep state across reloads).
bool same_rule(const Rule& a, const Rule& b);

}  // namespace freezr::engine
