// Policy: per-rule violation counters, cooldowns and the decisions they lead to. Pure: it reads
// a snapshot and returns decisions; it never signals anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/classifier.h"
#include "engine/protection.h"
#include "engine/rule.h"
#include "engine/snapshot.h"

namespace freezr::engine {

enum class Verdict {
  kAct,        // carry the action out
  kProtected,  // every target is protected; nothing is done
  kCooldown,   // the rule acted less than `cooldown` seconds ago; reported once per cooldown
};
const char* to_string(Verdict v);

struct TargetInfo {
  ProcessId id;
  std::string comm;
  double cpu_percent = 0;
  double rss_mb = 0;
};

struct Decision {
  std::size_t rule_index = 0;
  std::string rule;
  ActionKind action = ActionKind::kLog;
  Verdict verdict = Verdict::kAct;
  std::string metric;      // "cpu" or "memory"
  double value = 0;        // measured (CPU % of one core, or MiB)
  double threshold = 0;
  int streak = 0;          // consecutive violating scans
  std::vector<TargetInfo> targets;  // processes to act on (kill/log) or that caused it (restart)
  std::vector<std::pair<TargetInfo, std::string>> skipped;  // protected processes and why
  std::string service;     // for restart

  // One-line human reason, e.g. "cpu 95.2% > 80% for 3 scans".
  [[nodiscard]] std::string reason() const;
};

struct RuleCounters {
  std::uint64_t checks = 0;            // process-checks (group-checks for group rules)
  std::uint64_t violating_checks = 0;  // checks where any threshold was exceeded
  std::uint64_t cpu_violations = 0;
  std::uint64_t memory_violations = 0;
  std::uint64_t cpu_since_action = 0;
  std::uint64_t memory_since_action = 0;
  std::uint64_t actions = 0;
  // Last scan's view of the rule.
  std::size_t processes = 0;
  double cpu_percent = 0;  // summed over matched processes
  double rss_mb = 0;
};

class Policy {
 public:
  explicit Policy(const std::vector<Rule>* rules);

  // Swaps in a new rule list. State (counters, streaks, cooldown) of rules that are unchanged
  // (same name and settings) survives; changed and new rules start afresh. rules must outlive
  // the policy.
  void reset(const std::vector<Rule>* rules);

  std::vector<Decision> evaluate(const Snapshot& snap, const Classification& cls,
                                 const Protection& protection);

  [[nodiscard]] const RuleCounters& counters(std::size_t rule) const {
    return states_[rule].counters;
  }
  // Current longest streak of a rule (for displays).
  [[nodiscard]] int streak(std::size_t rule) const;

 private:
  struct Streak {
    int cpu = 0;
    int mem = 0;
  };
  struct State {
    std::unordered_map<ProcessId, Streak, ProcessIdHash> per_process;
    Streak group;
    std::optional<Seconds> last_action;
    bool cooldown_reported = false;
    RuleCounters counters;
  };
  struct Trigger {
    std::size_t index;  // into snapshot processes
    const char* metric;
    double value;
    double threshold;
    int streak;
  };

  Streak step(const Rule& r, Streak s, double cpu, bool cpu_valid, double mem, State& st);
  void evaluate_process_rule(std::size_t ri, const Snapshot& snap,
                             const std::vector<std::size_t>& members, const Protection& prot,
                             std::vector<Decision>& out);
  void evaluate_group_rule(std::size_t ri, const Snapshot& snap,
                           const std::vector<std::size_t>& members, const Protection& prot,
                           std::vector<Decision>& out);
  bool in_cooldown(const Rule& r, const State& st, Seconds now) const;
  void mark_acted(State& st, Seconds now);

  const std::vector<Rule>* rules_;
  std::vector<State> states_;
};

}  // namespace freezr::engine
