#include "engine/policy.h"

#include <gtest/gtest.h>

#include "engine_fixtures.h"

namespace freezr::engine {
namespace {

using testing::FakeInfo;
using testing::proc;
using testing::snap;

constexpr Pid kSelf = 500;

Step step(ActionKind kind, std::optional<double> cpu, int violations,
          std::optional<double> mem = std::nullopt) {
  Step s;
  s.cpu_percent = cpu;
  s.memory_mb = mem;
  s.violations = violations;
  s.action.kind = kind;
  return s;
}

Rule kill_rule(const std::string& comm, double cpu, int violations = 3) {
  Rule r;
  r.name = comm;
  r.match.comm = {comm};
  r.steps = {step(ActionKind::kKill, cpu, violations)};
  return r;
}

// Runs the policy over a series of snapshots the way the daemon does.
class PolicyRun {
 public:
  explicit PolicyRun(std::vector<Rule> rules, std::vector<std::string> protect = {})
      : rules_(std::move(rules)),
        classifier_(&rules_),
        policy_(&rules_),
        protection_(kSelf, std::move(protect)) {}

  std::vector<Decision> tick(const Snapshot& s) {
    protection_.refresh(s);
    return policy_.evaluate(s, classifier_.classify(s, info_), protection_);
  }
  Policy& policy() { return policy_; }
  std::vector<Rule>& rules() { return rules_; }
  FakeInfo& info() { return info_; }

 private:
  std::vector<Rule> rules_;
  FakeInfo info_;
  Classifier classifier_;
  Policy policy_;
  Protection protection_;
};

TEST(Policy, ActsOnlyAfterTheConfiguredConsecutiveViolations) {
  PolicyRun run({kill_rule("hog", 80, 3)});
  EXPECT_TRUE(run.tick(snap(1, {proc(10, "hog", 95, 10)})).empty());
  EXPECT_TRUE(run.tick(snap(2, {proc(10, "hog", 95, 10)})).empty());
  auto d = run.tick(snap(3, {proc(10, "hog", 96, 10)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kAct);
  EXPECT_EQ(d[0].action.kind, ActionKind::kKill);
  ASSERT_EQ(d[0].targets.size(), 1U);
  EXPECT_EQ(d[0].targets[0].id.pid, 10);
  EXPECT_EQ(d[0].metric, "cpu");
  EXPECT_EQ(d[0].streak, 3);
  EXPECT_EQ(d[0].reason(), "cpu 96.0% > 80.0% for 3 scans");
}

TEST(Policy, AWindowCatchesAnIntermittentHogThatAStreakNeverDoes) {
  auto windowed = kill_rule("hog", 80, 3);
  windowed.steps[0].window = 5;
  PolicyRun streak({kill_rule("hog", 80, 3)});
  PolicyRun window({windowed});
  // Hot every other scan: never three in a row, three of five by the fifth scan.
  std::vector<Decision> last;
  for (int t = 1; t <= 12; ++t) {
    const double cpu = t % 2 == 1 ? 95 : 10;
    EXPECT_TRUE(streak.tick(snap(t, {proc(10, "hog", cpu, 10)})).empty()) << t;
    auto d = window.tick(snap(t, {proc(10, "hog", cpu, 10)}));
    if (t < 5) EXPECT_TRUE(d.empty()) << t;
    if (t == 5) last = d;
  }
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0].action.kind, ActionKind::kKill);
  EXPECT_EQ(last[0].streak, 3);
  EXPECT_EQ(last[0].reason(), "cpu 95.0% > 80.0% in 3 of the last 5 scans");
}

TEST(Policy, AWindowForgetsViolationsOlderThanItself) {
  auto r = kill_rule("hog", 80, 3);
  r.steps[0].window = 4;
  PolicyRun run({r});
  // Hot, cool, cool, hot, cool, cool, hot ...: at most two in any four scans.
  for (int t = 1; t <= 15; ++t) {
    const double cpu = t % 3 == 1 ? 95 : 10;
    EXPECT_TRUE(run.tick(snap(t, {proc(10, "hog", cpu, 10)})).empty()) << t;
  }
}

TEST(Policy, ARecoveredScanResetsTheCounter) {
  PolicyRun run({kill_rule("hog", 80, 3)});
  run.tick(snap(1, {proc(10, "hog", 95, 10)}));
  run.tick(snap(2, {proc(10, "hog", 95, 10)}));
  EXPECT_TRUE(run.tick(snap(3, {proc(10, "hog", 80, 10)})).empty());  // not strictly above
  EXPECT_TRUE(run.tick(snap(4, {proc(10, "hog", 95, 10)})).empty());
  EXPECT_TRUE(run.tick(snap(5, {proc(10, "hog", 95, 10)})).empty());
  EXPECT_EQ(run.tick(snap(6, {proc(10, "hog", 95, 10)})).size(), 1U);
}

TEST(Policy, CountersArePerProcessIdentity) {
  PolicyRun run({kill_rule("hog", 80, 2)});
  run.tick(snap(1, {proc(10, "hog", 95, 1, 1, 100)}));
  // PID 10 reused by a new process: its count starts again.
  EXPECT_TRUE(run.tick(snap(2, {proc(10, "hog", 95, 1, 1, 200)})).empty());
  EXPECT_EQ(run.tick(snap(3, {proc(10, "hog", 95, 1, 1, 200)})).size(), 1U);
}

TEST(Policy, CpuOfAFirstSampleIsNotAViolation) {
  PolicyRun run({kill_rule("hog", 80, 1)});
  auto p = proc(10, "hog", 0, 1);
  p.cpu_valid = false;
  EXPECT_TRUE(run.tick(snap(1, {p})).empty());
}

TEST(Policy, MemoryAndCpuCountSeparately) {
  Rule r = kill_rule("hog", 80, 2);
  r.steps[0].memory_mb = 100;
  PolicyRun run({r});
  run.tick(snap(1, {proc(10, "hog", 95, 50)}));
  EXPECT_TRUE(run.tick(snap(2, {proc(10, "hog", 10, 150)})).empty());  // cpu reset, mem 1
  auto d = run.tick(snap(3, {proc(10, "hog", 10, 150)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].metric, "memory");
  const auto& c = run.policy().counters(0);
  EXPECT_EQ(c.cpu_violations, 1U);
  EXPECT_EQ(c.memory_violations, 2U);
  EXPECT_EQ(c.checks, 3U);
  EXPECT_EQ(c.violating_checks, 3U);
  EXPECT_EQ(c.actions, 1U);
  EXPECT_EQ(c.memory_since_action, 0U);
}

TEST(Policy, IdleMatchingAndNonMatchingHogsAreUntouched) {
  PolicyRun run({kill_rule("hog", 80, 1)});
  auto d = run.tick(snap(1, {proc(10, "hog", 5, 1), proc(11, "other", 400, 1)}));
  EXPECT_TRUE(d.empty());
}

TEST(Policy, GroupAggregationSumsTheApplication) {
  Rule r = kill_rule("renderer", 300, 2);
  r.aggregate = Aggregate::kGroup;
  PolicyRun run({r});
  std::vector<ProcessSample> twenty;
  for (Pid p = 100; p < 120; ++p) twenty.push_back(proc(p, "renderer", 50, 10));
  EXPECT_TRUE(run.tick(snap(1, twenty)).empty());
  auto d = run.tick(snap(2, twenty));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_DOUBLE_EQ(d[0].value, 1000.0);
  EXPECT_EQ(d[0].targets.size(), 20U);
  EXPECT_EQ(run.policy().counters(0).processes, 20U);
}

TEST(Policy, UnitAggregationJudgesEachUnitsSumOnItsOwn) {
  Rule r = kill_rule("web", 100, 2);
  r.aggregate = Aggregate::kUnit;
  PolicyRun run({r});
  for (Pid p : {10, 11, 12}) {
    run.info().facts[p].placement = proc::parse_placement("0::/system.slice/a.service\n");
  }
  run.info().facts[20].placement = proc::parse_placement("0::/system.slice/b.service\n");
  const std::vector<ProcessSample> ps = {proc(10, "web", 40, 1), proc(11, "web", 40, 1),
                                         proc(12, "web", 40, 1), proc(20, "web", 90, 1),
                                         proc(30, "web", 150, 1)};  // 30: in no unit known
  EXPECT_TRUE(run.tick(snap(1, ps)).empty());
  EXPECT_EQ(run.policy().entity_streak(0, ps[1].id), 1);  // the streak of its unit
  EXPECT_EQ(run.policy().entity_streak(0, ps[3].id), 0);
  const auto d = run.tick(snap(2, ps));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].entity_kind, "unit");
  EXPECT_EQ(d[0].entity_name, "a.service");
  EXPECT_EQ(d[0].entity, part_id("a.service"));
  EXPECT_NE(d[0].entity, kGroupEntity);
  EXPECT_DOUBLE_EQ(d[0].value, 120.0);
  ASSERT_EQ(d[0].targets.size(), 3U);
  EXPECT_EQ(d[0].targets[0].id.pid, 10);
  EXPECT_EQ(d[0].targets[2].id.pid, 12);
}

TEST(Policy, UserAggregationSumsEachUsersProcesses) {
  Rule r = kill_rule("job", 100, 1);
  r.aggregate = Aggregate::kUser;
  r.target = Target::kHottest;
  PolicyRun run({r});
  run.info().facts[10].uid = 1000;
  run.info().facts[11].uid = 1000;
  run.info().facts[20].uid = 1001;
  const auto d =
      run.tick(snap(1, {proc(10, "job", 70, 1), proc(11, "job", 50, 1), proc(20, "job", 95, 1)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].entity_kind, "user");
  EXPECT_EQ(d[0].entity_name, "uid 1000");
  ASSERT_EQ(d[0].targets.size(), 1U);  // the hottest of that user's
  EXPECT_EQ(d[0].targets[0].id.pid, 10);
}

TEST(Policy, GroupTargetHottestPicksOne) {
  Rule r = kill_rule("renderer", 100, 1);
  r.aggregate = Aggregate::kGroup;
  r.target = Target::kHottest;
  PolicyRun run({r});
  auto d = run.tick(snap(1, {proc(1000, "renderer", 30, 1), proc(1001, "renderer", 90, 1),
                             proc(1002, "renderer", 20, 1)}));
  ASSERT_EQ(d.size(), 1U);
  ASSERT_EQ(d[0].targets.size(), 1U);
  EXPECT_EQ(d[0].targets[0].id.pid, 1001);
}

TEST(Policy, CooldownHoldsBackTheNextActionAndIsReportedOnce) {
  Rule r = kill_rule("hog", 80, 1);
  r.steps[0].cooldown = 10;
  PolicyRun run({r});
  EXPECT_EQ(run.tick(snap(100, {proc(10, "hog", 95, 1)}))[0].verdict, Verdict::kAct);
  auto d = run.tick(snap(101, {proc(11, "hog", 95, 1)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kCooldown);
  EXPECT_TRUE(run.tick(snap(105, {proc(11, "hog", 95, 1)})).empty());  // reported once
  auto after = run.tick(snap(110.5, {proc(11, "hog", 95, 1)}));
  ASSERT_EQ(after.size(), 1U);
  EXPECT_EQ(after[0].verdict, Verdict::kAct);
  EXPECT_EQ(after[0].targets[0].id.pid, 11);
}

TEST(Policy, RestartIsOneDecisionForTheRuleAndRespectsCooldown) {
  Rule r;
  r.name = "kesl";
  r.match.comm = {"kesl"};
  r.steps = {step(ActionKind::kRestart, 30, 2)};
  r.steps[0].action.service = "kesl.service";
  r.steps[0].cooldown = 100;
  PolicyRun run({r});
  auto two = [](Seconds t) { return snap(t, {proc(1, "kesl", 50, 1), proc(2, "kesl", 60, 1)}); };
  EXPECT_TRUE(run.tick(two(0)).empty());
  auto d = run.tick(two(3));
  ASSERT_EQ(d.size(), 1U);  // one restart for the rule, not one per process
  EXPECT_EQ(d[0].action.kind, ActionKind::kRestart);
  EXPECT_EQ(d[0].action.service, "kesl.service");
  EXPECT_EQ(d[0].verdict, Verdict::kAct);  // PID 1 protection does not apply to restarts
  int acts = 0;
  for (Seconds t = 6; t < 100; t += 3) {
    for (const auto& x : run.tick(two(t))) acts += x.verdict == Verdict::kAct ? 1 : 0;
  }
  EXPECT_EQ(acts, 0);
  bool acted = false;
  for (const auto& x : run.tick(two(104))) acted = acted || x.verdict == Verdict::kAct;
  EXPECT_TRUE(acted);
}

TEST(Policy, ProtectedProcessesAreNeverTargets) {
  std::vector<Rule> rules = {kill_rule("hog", 10, 1)};
  rules[0].match.comm = {"hog", "hog-protect", "kworker"};
  PolicyRun run2(rules, {"hog-protect"});
  auto init = proc(1, "hog", 99, 1, 0);
  auto self = proc(kSelf, "hog", 99, 1, 400);
  auto parent = proc(400, "hog", 99, 1, 300);
  auto grandparent = proc(300, "hog", 99, 1, 1);
  auto named = proc(600, "hog-protect", 99, 1);
  auto kthread = proc(700, "kworker", 99, 0, 2);
  kthread.kernel_thread = true;
  auto victim = proc(800, "hog", 99, 1);
  auto d = run2.tick(snap(1, {init, self, parent, grandparent, named, kthread, victim}));
  std::vector<Pid> acted, skipped;
  std::vector<std::string> reasons;
  for (const auto& x : d) {
    if (x.verdict == Verdict::kAct) {
      for (const auto& t : x.targets) acted.push_back(t.id.pid);
    }
    for (const auto& [t, why] : x.skipped) {
      skipped.push_back(t.id.pid);
      reasons.push_back(why);
    }
  }
  EXPECT_EQ(acted, (std::vector<Pid>{800}));
  EXPECT_EQ(skipped, (std::vector<Pid>{1, kSelf, 400, 300, 600}));  // kthread never matches
  EXPECT_EQ(reasons[0], "PID 1");
  EXPECT_EQ(reasons[1], "FreezR itself");
  EXPECT_EQ(reasons[2], "an ancestor of FreezR");
  EXPECT_EQ(reasons[4], "on the protected list ('hog-protect')");
}

TEST(Policy, GroupKillWithOnlyProtectedMembersIsReportedNotActed) {
  Rule r = kill_rule("sshd", 10, 1);
  r.aggregate = Aggregate::kGroup;
  PolicyRun run({r}, {"sshd"});
  auto d = run.tick(snap(1, {proc(50, "sshd", 99, 1)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kProtected);
  EXPECT_TRUE(d[0].targets.empty());
  EXPECT_EQ(run.policy().counters(0).actions, 0U);
}

TEST(Policy, ResetKeepsTheStateOfRulesThatStay) {
  PolicyRun run({kill_rule("hog", 80, 3), kill_rule("other", 80, 3)});
  run.tick(snap(1, {proc(10, "hog", 95, 1)}));
  run.tick(snap(2, {proc(10, "hog", 95, 1)}));
  std::vector<Rule> next = {kill_rule("new", 80, 3), kill_rule("hog", 80, 3)};
  run.policy().reset(&next);
  EXPECT_EQ(run.policy().counters(1).cpu_violations, 2U);
  EXPECT_EQ(run.policy().counters(0).cpu_violations, 0U);
  EXPECT_EQ(run.policy().streak(1), 2);
}

TEST(Policy, ResetStartsAChangedRuleAfresh) {
  PolicyRun run({kill_rule("hog", 80, 3)});
  run.tick(snap(1, {proc(10, "hog", 95, 1)}));
  std::vector<Rule> next = {kill_rule("hog", 70, 3)};
  run.policy().reset(&next);
  EXPECT_EQ(run.policy().counters(0).cpu_violations, 0U);
  EXPECT_EQ(run.policy().streak(0), 0);
}

}  // namespace
}  // namespace freezr::engine

namespace freezr::engine {
namespace {

Rule ladder_rule(const std::string& comm) {
  Rule r;
  r.name = comm;
  r.match.comm = {comm};
  Step renice = step(ActionKind::kRenice, 60, 2);
  renice.action.nice = 10;
  Step freeze = step(ActionKind::kFreeze, 80, 2);
  freeze.action.duration = 5;
  r.steps = {renice, freeze, step(ActionKind::kKill, 95, 2)};
  return r;
}

std::vector<ActionKind> acted(const std::vector<Decision>& ds) {
  std::vector<ActionKind> out;
  for (const auto& d : ds) {
    if (d.verdict == Verdict::kAct) out.push_back(d.action.kind);
  }
  return out;
}

TEST(Ladder, EscalatesOneStepAtATimeAndOnlyAfterThePreviousActed) {
  PolicyRun run({ladder_rule("hog")});
  auto hot = [](Seconds t) { return snap(t, {proc(10, "hog", 99, 1)}); };
  EXPECT_TRUE(acted(run.tick(hot(1))).empty());
  // All three steps are due at once, but only the first may act.
  EXPECT_EQ(acted(run.tick(hot(2))), (std::vector<ActionKind>{ActionKind::kRenice}));
  EXPECT_TRUE(acted(run.tick(hot(3))).empty());
  EXPECT_EQ(acted(run.tick(hot(4))), (std::vector<ActionKind>{ActionKind::kFreeze}));
  // While frozen (5 s) the process is not judged at all.
  for (Seconds t = 5; t < 10; t += 1) EXPECT_TRUE(run.tick(hot(t)).empty()) << t;
  EXPECT_TRUE(acted(run.tick(hot(10))).empty());
  EXPECT_EQ(acted(run.tick(hot(11))), (std::vector<ActionKind>{ActionKind::kKill}));
}

// The Rust FreezR's two-tier policy as a ladder: the freeze needs fewer scans than the kill
// above it and repeats while the kill counts; the kill's count goes on through the repeats.
TEST(Ladder, ARepeatedFreezeDoesNotResetTheKillAboveIt) {
  Rule r;
  r.name = "ff";
  r.match.comm = {"ff"};
  Step freeze = step(ActionKind::kFreeze, 80, 2);
  freeze.action.duration = 1;
  r.steps = {freeze, step(ActionKind::kKill, 95, 3)};
  PolicyRun run({r});
  auto hot = [](Seconds t) { return snap(t, {proc(10, "ff", 99, 1)}); };
  std::vector<ActionKind> all;
  for (Seconds t = 1; t <= 20 && (all.empty() || all.back() != ActionKind::kKill); t += 1) {
    for (auto k : acted(run.tick(hot(t)))) all.push_back(k);
  }
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), ActionKind::kFreeze);
  EXPECT_EQ(all.back(), ActionKind::kKill);
  EXPECT_LE(all.size(), 3U);  // at most one repeat of the freeze before the kill
}

TEST(Ladder, CalmingDownReleasesAndStartsFromTheBottom) {
  PolicyRun run({ladder_rule("hog")});
  run.tick(snap(1, {proc(10, "hog", 99, 1)}));
  EXPECT_EQ(acted(run.tick(snap(2, {proc(10, "hog", 99, 1)}))).size(), 1U);
  EXPECT_TRUE(run.tick(snap(3, {proc(10, "hog", 5, 1)})).empty());
  auto d = run.tick(snap(4, {proc(10, "hog", 5, 1)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kRelease);
  EXPECT_EQ(d[0].entity.pid, 10);
  EXPECT_EQ(d[0].reason(), "back under its thresholds for 2 scans");
  // Hot again: the ladder starts again with renice, not freeze.
  run.tick(snap(5, {proc(10, "hog", 99, 1)}));
  EXPECT_EQ(acted(run.tick(snap(6, {proc(10, "hog", 99, 1)}))),
            (std::vector<ActionKind>{ActionKind::kRenice}));
}

TEST(Ladder, NoReleaseWhenRestoreIsOff) {
  Rule r = ladder_rule("hog");
  r.restore = false;
  PolicyRun run({r});
  run.tick(snap(1, {proc(10, "hog", 99, 1)}));
  run.tick(snap(2, {proc(10, "hog", 99, 1)}));
  EXPECT_TRUE(run.tick(snap(3, {proc(10, "hog", 5, 1)})).empty());
  EXPECT_TRUE(run.tick(snap(4, {proc(10, "hog", 5, 1)})).empty());
}

TEST(Ladder, AProcessThatLeavesTheRuleIsReleased) {
  PolicyRun run({ladder_rule("hog")});
  run.tick(snap(1, {proc(10, "hog", 99, 1)}));
  run.tick(snap(2, {proc(10, "hog", 99, 1)}));
  auto d = run.tick(snap(3, {}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kRelease);
  EXPECT_EQ(d[0].entity.pid, 10);
}

TEST(Throttle, AThrottledProcessAtItsCapIsNeitherEscalatedNorReleased) {
  Rule r;
  r.name = "t";
  r.match.comm = {"t"};
  Step s = step(ActionKind::kThrottle, 50, 2);
  s.action.cpu_limit = 20;
  r.steps = {s};
  PolicyRun run({r});
  run.tick(snap(1, {proc(10, "t", 99, 1)}));
  EXPECT_EQ(acted(run.tick(snap(2, {proc(10, "t", 99, 1)}))),
            (std::vector<ActionKind>{ActionKind::kThrottle}));
  for (Seconds t = 3; t < 10; t += 1) {
    EXPECT_TRUE(run.tick(snap(t, {proc(10, "t", 20, 1)})).empty());  // at its cap
  }
  run.tick(snap(10, {proc(10, "t", 2, 1)}));  // well under the cap: recovered
  auto d = run.tick(snap(11, {proc(10, "t", 2, 1)}));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kRelease);
}

TEST(RateLimit, AtMostNActionsPerWindowReportedOnce) {
  Rule r = kill_rule("hog", 50, 1);
  r.steps[0].action.kind = ActionKind::kLog;
  r.max_actions = 2;
  r.per_seconds = 60;
  PolicyRun run({r});
  int acts = 0, limited = 0;
  for (Seconds t = 0; t < 30; t += 1) {
    for (const auto& d : run.tick(snap(t, {proc(10, "hog", 99, 1)}))) {
      acts += d.verdict == Verdict::kAct;
      limited += d.verdict == Verdict::kRateLimited;
    }
  }
  EXPECT_EQ(acts, 2);
  EXPECT_EQ(limited, 1);
  bool again = false;
  for (const auto& d : run.tick(snap(61, {proc(10, "hog", 99, 1)}))) {
    again = again || d.verdict == Verdict::kAct;
  }
  EXPECT_TRUE(again);
}

TEST(Scope, TreeScopeAddsDescendantsButNotProtectedOnes) {
  Rule r = kill_rule("parent", 50, 1);
  r.scope = Scope::kTree;
  PolicyRun run({r}, {"sshd"});
  auto d = run.tick(snap(
      1, {proc(10, "parent", 99, 1), proc(11, "child", 0, 1, 10), proc(12, "grandchild", 0, 1, 11),
          proc(13, "sshd", 0, 1, 11), proc(14, "unrelated", 0, 1, 1)}));
  ASSERT_EQ(d.size(), 1U);
  std::vector<Pid> targets;
  for (const auto& t : d[0].targets) targets.push_back(t.id.pid);
  EXPECT_EQ(targets, (std::vector<Pid>{10, 11, 12}));
  ASSERT_EQ(d[0].skipped.size(), 1U);
  EXPECT_EQ(d[0].skipped[0].first.id.pid, 13);
}

Snapshot with_cpu_pressure(Snapshot s, double avg10) {
  s.cpu_pressure = proc::Pressure{proc::PressureLine{avg10, 0, 0, 0}, std::nullopt};
  return s;
}

TEST(Gates, AStepActsOnlyWhileItsPressureGateHolds) {
  auto r = kill_rule("build", 50, 2);
  r.steps[0].action.kind = ActionKind::kLog;
  r.steps[0].cpu_pressure = 40;
  PolicyRun run({r});
  auto hot = [](Seconds t, double psi) {
    return with_cpu_pressure(snap(t, {proc(10, "build", 90, 10)}), psi);
  };
  for (int t = 1; t <= 4; ++t) EXPECT_TRUE(run.tick(hot(t, 10)).empty()) << t;
  EXPECT_TRUE(run.tick(hot(5, 55)).empty());
  auto d = run.tick(hot(6, 55));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].metric, "cpu");
  EXPECT_EQ(d[0].reason(), "cpu 90.0% > 50.0% while cpu pressure 55.0% > 40.0% for 2 scans");
  // Without PSI a gate never opens.
  PolicyRun blind({r});
  for (int t = 1; t <= 4; ++t)
    EXPECT_TRUE(blind.tick(snap(t, {proc(10, "build", 90, 10)})).empty());
}

TEST(Gates, AStepOfGatesAloneActsOnTheRulesProcessesUnderPressure) {
  Rule r;
  r.name = "renice-build";
  r.match.comm = {"build"};
  Step s;
  s.cpu_pressure = 40;
  s.violations = 2;
  s.action.kind = ActionKind::kRenice;
  s.action.nice = 19;
  r.steps = {s};
  PolicyRun run({r});
  EXPECT_TRUE(run.tick(with_cpu_pressure(snap(1, {proc(10, "build", 1, 10)}), 60)).empty());
  auto d = run.tick(with_cpu_pressure(snap(2, {proc(10, "build", 1, 10)}), 61));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].metric, "cpu_pressure");
  EXPECT_EQ(d[0].reason(), "cpu pressure 61.0% > 40.0% for 2 scans");
  EXPECT_EQ(run.policy().counters(0).pressure_violations, 2U);
  // The pressure gone, the renice is released.
  run.tick(with_cpu_pressure(snap(3, {proc(10, "build", 1, 10)}), 5));
  d = run.tick(with_cpu_pressure(snap(4, {proc(10, "build", 1, 10)}), 5));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].verdict, Verdict::kRelease);
}

TEST(Gates, OfTheCgroupEachProcessIsJudgedOnItsOwnCgroupsPressure) {
  Rule r;
  r.name = "tenants";
  r.match.comm = {"worker"};
  r.pressure_of = PressureScope::kCgroup;
  Step s;
  s.memory_pressure = 30;
  s.violations = 2;
  s.action.kind = ActionKind::kLog;
  r.steps = {s};
  EXPECT_TRUE(r.uses_cgroup_pressure());
  // The system is calm; one tenant's cgroup is thrashing, the other's is not, a third's was not
  // read (its gate stays closed).
  auto scan = [](Seconds t) {
    auto sn =
        snap(t, {proc(10, "worker", 1, 10), proc(11, "worker", 1, 10), proc(12, "worker", 1, 10)});
    sn.memory_pressure = proc::Pressure{proc::PressureLine{1, 0, 0, 0}, std::nullopt};
    sn.processes[0].cgroup_pressure = std::array<std::optional<double>, 3>{0, 0, 65};
    sn.processes[1].cgroup_pressure = std::array<std::optional<double>, 3>{0, 0, 10};
    return sn;
  };
  PolicyRun run({r});
  EXPECT_TRUE(run.tick(scan(1)).empty());
  auto d = run.tick(scan(2));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].targets[0].id.pid, 10);
  EXPECT_EQ(d[0].reason(), "memory pressure 65.0% > 30.0% for 2 scans");
  // Judged as a group: the highest of its processes' cgroups.
  r.aggregate = Aggregate::kGroup;
  PolicyRun group({r});
  EXPECT_TRUE(group.tick(scan(1)).empty());
  d = group.tick(scan(2));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].reason(), "memory pressure 65.0% > 30.0% for 2 scans");
  // Of the system, the same processes are left alone: the system is calm.
  r.pressure_of = PressureScope::kSystem;
  PolicyRun system({r});
  for (int t = 1; t <= 3; ++t) EXPECT_TRUE(system.tick(scan(t)).empty());
}

TEST(IoRules, DiskWritesOverTheThresholdAct) {
  Rule r;
  r.name = "writer";
  r.match.comm = {"writer"};
  Step s;
  s.io_write_mbps = 20;
  s.violations = 2;
  s.action.kind = ActionKind::kLog;
  r.steps = {s};
  PolicyRun run({r});
  auto at = [](Seconds t, std::optional<double> write_mib) {
    auto p = proc(10, "writer", 5, 10);
    if (write_mib) p.io_write_bps = *write_mib * kMiB, p.io_read_bps = 0;
    return snap(t, {p});
  };
  EXPECT_TRUE(run.tick(at(1, std::nullopt)).empty());  // no rate yet
  EXPECT_TRUE(run.tick(at(2, 50)).empty());
  auto d = run.tick(at(3, 50));
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].metric, "io_write");
  EXPECT_EQ(d[0].reason(), "disk writes 50.0 MiB/s > 20.0 MiB/s for 2 scans");
  EXPECT_EQ(run.policy().counters(0).io_violations, 2U);
}

TEST(MemoryMetric, AForkedChildSharingItsParentsPagesIsJudgedByItsShare) {
  // Parent and child each map the same 600 MiB: resident 600 each, proportional 300 each.
  auto rule = [](MemoryMetric m) {
    Rule r;
    r.name = "app";
    r.match.comm = {"app"};
    r.aggregate = Aggregate::kGroup;
    r.memory_metric = m;
    Step s;
    s.memory_mb = 1000;
    s.violations = 1;
    s.action.kind = ActionKind::kLog;
    r.steps = {s};
    return r;
  };
  auto shared = [](Pid pid) {
    auto p = proc(pid, "app", 0, 600);
    p.memory = MemoryDetail{300 * static_cast<std::uint64_t>(kMiB), 10, 0};
    return p;
  };
  const auto s = snap(1, {shared(10), shared(11)});
  PolicyRun rss({rule(MemoryMetric::kRss)});
  PolicyRun pss({rule(MemoryMetric::kPss)});
  EXPECT_EQ(rss.tick(s).size(), 1U);  // 1200 MiB counted: the pages twice
  EXPECT_TRUE(pss.tick(s).empty());   // 600 MiB: what the two really hold
}

}  // namespace
}  // namespace freezr::engine
