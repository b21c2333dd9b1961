// Rule: what to watch and what to do. Built by the config loader, read by the engine.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/regex.h"
#include "engine/snapshot.h"

namespace freezr::engine {

enum class ActionKind { kLog, kRenice, kThrottle, kFreeze, kKill, kRestart, kExec };
// How a rule's processes are judged: each alone, all together, or together per systemd unit
// or per user (one entity for each unit or user their processes live in).
enum class Aggregate { kProcess, kGroup, kUnit, kUser };
// Which processes of a group an action hits.
enum class Target { kAll, kHottest };
// Whether an action on a process also hits its descendants.
enum class Scope { kProcess, kTree };

const char* to_string(ActionKind a);
const char* to_string(Aggregate a);
const char* to_string(Target t);
const char* to_string(Scope s);

// I/O priority for renice: class 1 realtime, 2 best-effort, 3 idle (ioprio_set(2)).
struct IoPriority {
  int io_class = 2;
  int level = 4;  // 0 (highest) .. 7, for best-effort
  auto operator<=>(const IoPriority&) const = default;
};

// A command FreezR runs (the exec action, a step's before and after hooks): argv executed
// directly, never through a shell unless shell is set (then argv[0] is the shell's script).
struct Command {
  std::vector<std::string> argv;
  bool shell = false;
  double timeout = 10;  // seconds; then the command's process group is killed
  std::string user;     // run as this user ("" as FreezR's own)
  std::optional<std::uint32_t> uid, gid;
  std::string home;  // the user's home directory, for HOME
  bool operator==(const Command&) const = default;
};

// The scheduling class renice may set: SCHED_BATCH or SCHED_IDLE.
enum class SchedClass { kBatch, kIdle };

struct Action {
  ActionKind kind = ActionKind::kLog;
  // renice: any of these, all undone together
  std::optional<int> nice;           // -20..19
  std::optional<IoPriority> ionice;  // I/O class and level
  std::optional<SchedClass> sched;   // scheduling class
  std::vector<int> cpus;             // CPU affinity (empty: unchanged)
  std::optional<int> oom_score_adj;  // -1000..1000
  double cpu_limit = 0;              // throttle: percent of one core
  double duration = 5;               // freeze: seconds
  std::string service;               // restart: systemd unit with its suffix
  // kill: SIGKILL at once (no grace period) and reap the memory with process_mrelease. Set
  // by the memory-pressure responder, never by a rule.
  bool immediate = false;
  Command command;                // exec
  std::optional<Command> before;  // run first; the action waits for it (or its timeout)
  std::optional<Command> after;   // run once the action's outcome is known

  // Renice and throttle hold until the rule no longer applies; freeze undoes itself by timer.
  [[nodiscard]] bool lasting() const {
    return kind == ActionKind::kRenice || kind == ActionKind::kThrottle;
  }
  // Whether the action signals or changes processes (and so honours the protected list).
  [[nodiscard]] bool touches_processes() const {
    return kind != ActionKind::kLog && kind != ActionKind::kRestart && kind != ActionKind::kExec;
  }
  bool operator==(const Action&) const = default;
};

// One rung of a ladder: thresholds, how long they must hold, and what to do.
struct Step {
  std::optional<double> cpu_percent;    // percent of one core; violated when strictly above
  std::optional<double> memory_mb;      // MiB of the rule's memory_metric; violated strictly above
  std::optional<double> io_read_mbps;   // disk reads, MiB per second, strictly above
  std::optional<double> io_write_mbps;  // disk writes, MiB per second, strictly above
  // Pressure gates: PSI "some avg10" (percent) of the system. With thresholds above, the step
  // is violated only while every gate given is strictly above its value too; alone, the gates
  // are the step's condition (while the rule's processes run).
  std::optional<double> cpu_pressure, io_pressure, memory_pressure;
  // With memory_mb: also violated when a steady leak is predicted to reach memory_mb within
  // this many minutes.
  std::optional<double> predict_minutes;
  int violations = 3;  // violating scans before acting: consecutive, or within window
  // With window (> violations): act when `violations` of the last `window` scans broke the
  // step ("3 of 5"), in a row or not. 0: the violations must be consecutive.
  int window = 0;
  Action action;
  double cooldown = 0;  // seconds between two actions of this step (rule-wide)
  bool operator==(const Step&) const = default;

  [[nodiscard]] bool gated() const { return cpu_pressure || io_pressure || memory_pressure; }
  // The gates in the order of Measure::pressure: cpu, io, memory.
  [[nodiscard]] std::array<std::optional<double>, 3> gates() const {
    return {cpu_pressure, io_pressure, memory_pressure};
  }
  [[nodiscard]] bool uses_io() const { return io_read_mbps || io_write_mbps; }
};

struct Match;

// A named kind of program (browser, IDE, ...): matched when any of its patterns matches.
struct Category {
  std::string name;
  std::string description;
  std::vector<Match> any;
};

// All given criteria must hold; at least one is given.
struct Match {
  std::vector<std::string> comm;      // exact process names (15-char kernel comm)
  std::vector<std::string> exe;       // basenames, or absolute paths when containing '/'
  std::optional<Regex> cmdline;       // searched in the space-joined command line
  std::vector<std::string> user;      // names as written in the config
  std::vector<std::uint32_t> uids;    // the same users, resolved
  std::vector<std::string> category;  // category names as written in the config
  std::vector<Category> categories;   // the same, resolved: any of them
  // Where the process lives (proc::Placement), each a list of alternatives: unit globs
  // (its own unit or its system manager's), slice globs (any slice above it), containers
  // (a name or an id prefix, optionally "engine:").
  std::vector<std::string> unit, slice, container;
  [[nodiscard]] bool by_place() const {
    return !unit.empty() || !slice.empty() || !container.empty();
  }
};

enum class PressureScope { kSystem, kCgroup };

struct Rule {
  std::string name;
  Match match;
  // A rule written with single-action keys has exactly one step; a ladder (`steps = [...]`)
  // escalates: step i+1 may act only after step i has acted. A rule with on_exec alone has
  // none.
  std::vector<Step> steps;
  // Done once to each process as soon as it matches: at its exec (or rename), or at the first
  // scan that finds it.
  std::optional<Action> on_exec;
  Aggregate aggregate = Aggregate::kProcess;
  // Whether processes are summed (a group, or one per unit or user) rather than judged alone.
  [[nodiscard]] bool sums() const { return aggregate != Aggregate::kProcess; }
  // What memory_mb measures: the resident set, or (read from smaps_rollup) the proportional
  // or unique set, or the resident set plus what is swapped out.
  MemoryMetric memory_metric = MemoryMetric::kRss;
  // Whose PSI the pressure gates read: the system's, or (cgroup v2) each process's own cgroup
  // (a group: the highest of its processes' cgroups).
  PressureScope pressure_of = PressureScope::kSystem;
  Target target = Target::kAll;
  Scope scope = Scope::kProcess;
  bool restore = true;     // undo renice/throttle when the rule no longer applies
  int max_actions = 0;     // rate limit: at most this many actions ...
  double per_seconds = 0;  // ... per this many seconds (0: no limit)
  bool enabled = true;

  // Whether a step reads disk I/O, and whether memory is read from smaps_rollup: what the
  // scanner reads for the rule's processes beyond their stat.
  [[nodiscard]] bool uses_io() const;
  [[nodiscard]] bool uses_smaps() const { return memory_metric != MemoryMetric::kRss; }
  // Whether the scanner reads the processes' cgroup PSI (pressure_of cgroup, with gates).
  [[nodiscard]] bool uses_cgroup_pressure() const;
};

// True when a and b are the same rule in every setting (used to keep state across reloads).
bool same_rule(const Rule& a, const Rule& b);

// The rule's action in a word: "kill", "ladder", or "on_exec renice" for exec-only rules.
std::string action_summary(const Rule& r);
// The command as a shell would show it: arguments with spaces or quotes in single quotes.
std::string command_line(const Command& c);

}  // namespace freezr::engine
