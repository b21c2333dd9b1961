// Policy: per-rule ladders of violation counters, cooldowns, rate limits, and the decisions
// they lead to. Pure: it reads a snapshot and returns decisions; it never touches a process.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/classifier.h"
#include "engine/forecast.h"
#include "engine/protection.h"
#include "engine/rule.h"
#include "engine/snapshot.h"

namespace freezr::engine {

enum class Verdict {
  kAct,          // carry the action out
  kProtected,    // every target is protected; nothing is done
  kCooldown,     // the step acted less than its cooldown ago; reported once per cooldown
  kRateLimited,  // the rule used up its max_actions; reported once per window
  kRelease,      // the rule no longer applies to the entity: undo its renice/throttle
};
const char* to_string(Verdict v);

struct TargetInfo {
  ProcessId id;
  std::string comm;
  double cpu_percent = 0;
  double rss_mb = 0;
};

// The entity a rule judges: one process, or (for group rules) the whole group, whose
// ProcessId is {0, 0}.
inline constexpr ProcessId kGroupEntity{0, 0};

// What made a decision: a rule's ladder, a rule's on_exec action, memory pressure, or heat.
enum class Origin { kRule, kExec, kPressure, kThermal };
const char* to_string(Origin o);

struct Decision {
  Origin origin = Origin::kRule;
  std::size_t rule_index = 0;
  std::string rule;
  std::size_t step = 0;  // index into the rule's steps
  Action action;
  Verdict verdict = Verdict::kAct;
  ProcessId entity;  // the process judged, kGroupEntity, or a unit's or user's (part_id)
  // For a unit's or user's entity: "unit" or "user", and its name ("kesl.service", "uid 1000").
  std::string entity_kind, entity_name;
  // Set by the daemon when the action is carried out on a unit as a whole, through systemd
  // (FreezeUnit, a runtime CPUQuota=, KillUnit): the unit's name. See act::whole_unit.
  std::string whole_unit;
  // "cpu", "memory", "io_read", "io_write", or for a step judged on its gates alone
  // "cpu_pressure", "io_pressure", "memory_pressure".
  std::string metric;
  double value = 0;  // measured (CPU % of one core, MiB, MiB/s, or pressure %)
  double threshold = 0;
  int streak = 0;  // violating scans: consecutive, or within the window
  int window = 0;  // the step's window ("3 of 5"), 0 for consecutive scans
  // Memory violations that are only predicted: when the leak reaches the threshold, and how
  // fast it grows (MiB per minute).
  std::optional<double> predicted_seconds;
  double predicted_rate = 0;
  std::vector<TargetInfo> targets;  // processes to act on, or that caused a restart
  std::vector<std::pair<TargetInfo, std::string>> skipped;  // protected processes and why
  // The reason in words for exec and pressure decisions (rule decisions compose theirs).
  std::string note;
  // The pressure gates that held, in words ("cpu pressure 52.0% > 40.0%"), or empty.
  std::string gates;

  // One-line human reason, e.g. "cpu 95.2% > 80% for 3 scans".
  [[nodiscard]] std::string reason() const;
  // " for 3 scans", or " in 3 of the last 5 scans" for a window.
  [[nodiscard]] std::string scans() const;
};

// Where a rule's entities stand on its ladder (for displays): the highest step that has acted
// for any of them and, per step, the longest current streak.
struct LadderView {
  int highest_tried = -1;
  std::vector<int> streaks;
};

struct RuleCounters {
  std::uint64_t checks = 0;            // process-checks (group-checks for group rules)
  std::uint64_t violating_checks = 0;  // checks where any step's threshold was exceeded
  std::uint64_t cpu_violations = 0;
  std::uint64_t memory_violations = 0;
  std::uint64_t io_violations = 0;        // reads or writes
  std::uint64_t pressure_violations = 0;  // steps judged on their pressure gates alone
  std::uint64_t cpu_since_action = 0;
  std::uint64_t memory_since_action = 0;
  std::uint64_t actions = 0;
  // Adds the counts (not the last scan's view below).
  RuleCounters& operator+=(const RuleCounters& o);
  // Last scan's view of the rule.
  std::size_t processes = 0;
  double cpu_percent = 0;  // summed over matched processes
  double rss_mb = 0;
  double io_read_bps = 0, io_write_bps = 0;  // of those whose I/O was read
  // CPU time the rule's processes used, since the rule's state began (summed scan by scan).
  double cpu_seconds = 0;
};

// A rule's entity starting or ending a violation (for the history's events).
struct Transition {
  std::string rule;
  ProcessId entity;
  std::string comm;  // empty for group entities
  bool started = false;
  std::string metric;
  double value = 0;
};

// One entity of a rule (a process, or the group) as measured in one scan.
struct Measure {
  double cpu = 0;  // percent of one core, with reaped children
  bool cpu_valid = false;
  double mem = 0;  // MiB of the rule's memory metric
  std::optional<Trend> leak;
  std::optional<double> io_read, io_write;  // MiB per second, once two readings exist
  // PSI "some avg10" of the system, percent: cpu, io, memory (nullopt without PSI).
  std::array<std::optional<double>, 3> pressure;
};

// What a step's violation is about. kPressure: a step whose only conditions are its pressure
// gates.
enum class Metric { kCpu, kMemory, kIoRead, kIoWrite, kPressure };
inline constexpr std::size_t kMetrics = 5;
const char* to_string(Metric m);

struct StepViolation {
  std::array<bool, kMetrics> by{};  // per Metric
  bool predicted = false;           // the memory violation is a prediction
  // The step has pressure gates and every one is over its value (false without gates).
  bool gates_hold = false;
  [[nodiscard]] bool any() const { return std::find(by.begin(), by.end(), true) != by.end(); }
  [[nodiscard]] bool of(Metric m) const { return by[static_cast<std::size_t>(m)]; }
};

// A metric as a decision names it ("cpu", "io_write", "cpu_pressure", ...), with the measured
// value and the step's threshold.
struct Observed {
  std::string metric;
  double value = 0;
  double threshold = 0;
};
Observed observed(const Step& s, Metric k, const Measure& m);
// The pressure gates of a step in words: "cpu pressure 52.0% > 40.0%, io pressure ...".
std::string gate_words(const Step& s, const Measure& m);

// Which of the rule's steps m violates: the test the policy applies at every scan (and
// `freezr check` once).
std::vector<StepViolation> step_violations(const Rule& r, const Measure& m);

// One entity a rule judges: a process, the rule's whole group, or the processes of one unit or
// one user.
struct Part {
  ProcessId id;                      // the process, kGroupEntity, or part_id(name)
  std::string name;                  // the unit, or "uid N"; empty for a process and for the group
  std::vector<std::size_t> members;  // indexes into Snapshot::processes
};
// The entity of a unit or user of that name: {0, a hash of the name that is never 0}.
ProcessId part_id(const std::string& name);
// The entities of rule ri among its members (cls: the classification they come from, whose
// places name each member's unit or user). Members whose unit or user is not known are in no
// entity of a rule summed per unit or user.
std::vector<Part> parts(const Rule& r, std::size_t ri, const std::vector<std::size_t>& members,
                        const Classification& cls);

// The entities rule ri judges in snap and their measures, in the order of ps.
std::vector<std::pair<ProcessId, Measure>> measures(const Rule& r, std::size_t ri,
                                                    const std::vector<Part>& ps,
                                                    const Snapshot& snap, const Forecast* forecast);

class Policy {
 public:
  explicit Policy(const std::vector<Rule>* rules);

  // Swaps in a new rule list. State of rules that are unchanged (same name and settings)
  // survives; changed and new rules start afresh. rules must outlive the policy. Returns the
  // counts of the rules whose state ended (changed or removed), for totals that must not go
  // backwards.
  RuleCounters reset(const std::vector<Rule>* rules);

  // With a forecast, steps with predict_minutes also judge the predicted memory.
  std::vector<Decision> evaluate(const Snapshot& snap, const Classification& cls,
                                 const Protection& protection, const Forecast* forecast = nullptr);

  [[nodiscard]] const RuleCounters& counters(std::size_t rule) const {
    return states_[rule].counters;
  }
  // Current longest streak of a rule (for displays).
  [[nodiscard]] int streak(std::size_t rule) const;
  // Current streak of one process under a rule (the group's for group rules).
  [[nodiscard]] int entity_streak(std::size_t rule, const ProcessId& id) const;
  [[nodiscard]] LadderView ladder(std::size_t rule) const;
  // Violations that started or ended in the last evaluate().
  [[nodiscard]] const std::vector<Transition>& transitions() const { return transitions_; }

  // Violating scans of a step, per Metric: the counts its `violations` is held against (the
  // current run, or the violations within its window); the bits are the last scans, the
  // newest in bit 0, for windows.
  struct Streak {
    std::array<int, kMetrics> n{};
    std::array<std::uint64_t, kMetrics> bits{};
    [[nodiscard]] int longest() const { return *std::max_element(n.begin(), n.end()); }
  };

 private:
  struct Entity {
    std::vector<Streak> steps;
    int calm = 0;            // consecutive scans without any violation
    int highest_tried = -1;  // highest step that has acted
    bool holds = false;      // a lasting action (renice/throttle) is in force
    bool violating = false;  // in a violation (for start/end transitions)
    // A throttle in force: the entity counts as calm only well under its cap, since the cap
    // itself keeps it under the thresholds.
    std::optional<double> throttle_limit;
    // A freeze in force: no judging until it is over and one scan has measured it running.
    std::optional<Seconds> frozen_until;
  };
  struct State {
    std::unordered_map<ProcessId, Entity, ProcessIdHash> entities;
    // For rules summed per unit or user: the entity each process of the last scan is in.
    std::unordered_map<ProcessId, ProcessId, ProcessIdHash> part_of;
    std::vector<std::optional<Seconds>> step_last_action;
    std::vector<bool> cooldown_reported;
    std::deque<Seconds> action_times;
    bool rate_reported = false;
    RuleCounters counters;
  };
  void judge(std::size_t ri, const ProcessId& key, const Measure& m,
             const std::vector<std::size_t>& members, const Snapshot& snap, const Protection& prot,
             std::vector<Decision>& out);
  // Counts the scan's violations into the entity's streaks and the rule's counters; returns
  // whether any step was violated.
  bool count(std::size_t ri, const ProcessId& key, Entity& e, const Measure& m,
             const std::vector<std::size_t>& members, const Snapshot& snap);
  // A calm entity: after enough calm scans the ladder starts again and holds are released.
  void calm_down(std::size_t ri, const ProcessId& key, Entity& e,
                 const std::vector<std::size_t>& members, const Snapshot& snap,
                 std::vector<Decision>& out);
  // The highest step that is due and allowed acts (or is held back).
  void escalate(std::size_t ri, const ProcessId& key, Entity& e, const Measure& m,
                const std::vector<std::size_t>& members, const Snapshot& snap,
                const Protection& prot, std::vector<Decision>& out);
  // Makes the decision of step i for the entity.
  Decision decide(std::size_t ri, std::size_t i, const ProcessId& key, const Entity& e,
                  const Measure& m) const;
  void fill_targets(const Rule& r, Metric by, const std::vector<std::size_t>& members,
                    const Snapshot& snap, const Protection& prot, Decision& d) const;
  bool held_back(const Rule& r, std::size_t step, State& st, Seconds now, Decision& d);

  const std::vector<Rule>* rules_;
  std::vector<State> states_;
  std::vector<Transition> transitions_;
};

}  // namespace freezr::engine
