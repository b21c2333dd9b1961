// The memory-pressure responder's state machine and decisions, on hand-built readings.
#include "engine/pressure_response.h"

#include <gtest/gtest.h>

#include "engine/exec_rules.h"
#include "engine_fixtures.h"

namespace freezr::engine {
namespace {

using testing::FakeInfo;
using testing::proc;

PressureSample mem(double available_percent) {
  PressureSample s;
  s.mem_available_percent = available_percent;
  return s;
}

PressureLevels levels(ActionKind warning, ActionKind critical) {
  PressureLevels l;
  l.warning.mem_available_percent = 10;
  l.warning.action.kind = warning;
  l.warning.action.nice = 19;
  l.critical.mem_available_percent = 5;
  l.critical.action.kind = critical;
  return l;
}

TEST(PressureResponse, OneKillAtATimeWhileTheConditionHolds) {
  PressureState st;
  const auto l = levels(ActionKind::kLog, ActionKind::kKill);
  auto step = advance_pressure(st, {mem(3), std::nullopt, 10}, l);
  EXPECT_TRUE(step.changed());
  EXPECT_EQ(step.to, PressureLevel::kCritical);
  ASSERT_EQ(step.want, PressureWant::kVictim);
  EXPECT_EQ(step.action.kind, ActionKind::kKill);
  pressure_acted(st, step, {42, 7}, 10, 6);
  // Busy with that kill: nothing more, however low memory is.
  EXPECT_EQ(advance_pressure(st, {mem(2), std::nullopt, 11}, l).want, PressureWant::kNothing);
  // The kill's outcome came back (the caller clears busy_until): the next victim.
  st.busy_until.reset();
  EXPECT_EQ(advance_pressure(st, {mem(2), std::nullopt, 12}, l).want, PressureWant::kVictim);
  pressure_acted(st, step, {43, 7}, 12, 6);
  // Not cleared by an outcome: the busy time runs out by itself.
  EXPECT_EQ(advance_pressure(st, {mem(2), std::nullopt, 17.9}, l).want, PressureWant::kNothing);
  EXPECT_EQ(advance_pressure(st, {mem(2), std::nullopt, 18.1}, l).want, PressureWant::kVictim);
}

TEST(PressureResponse, InsideTheHysteresisBandNothingMoreDies) {
  PressureState st;
  const auto l = levels(ActionKind::kLog, ActionKind::kKill);
  ASSERT_EQ(advance_pressure(st, {mem(4), std::nullopt, 0}, l).want, PressureWant::kVictim);
  // 6% is above the critical 5% but not clear of it (7%): the level holds, no kill.
  const auto step = advance_pressure(st, {mem(6), std::nullopt, 1}, l);
  EXPECT_EQ(st.level, PressureLevel::kCritical);
  EXPECT_EQ(step.want, PressureWant::kNothing);
}

TEST(PressureResponse, AGentleActionOncePerLevelAndReleasedWhenThePressureEnds) {
  PressureState st;
  const auto l = levels(ActionKind::kRenice, ActionKind::kKill);
  auto step = advance_pressure(st, {mem(8), std::nullopt, 0}, l);
  ASSERT_EQ(step.want, PressureWant::kVictim);
  EXPECT_EQ(step.action.kind, ActionKind::kRenice);
  pressure_acted(st, step, {9, 1}, 0, 6);
  EXPECT_EQ(st.held, (ProcessId{9, 1}));
  EXPECT_EQ(advance_pressure(st, {mem(8), std::nullopt, 1}, l).want, PressureWant::kNothing);
  step = advance_pressure(st, {mem(50), std::nullopt, 2}, l);
  EXPECT_EQ(step.to, PressureLevel::kNone);
  EXPECT_EQ(step.want, PressureWant::kRelease);
  const auto d = pressure_release(*st.held);
  EXPECT_EQ(d.verdict, Verdict::kRelease);
  EXPECT_EQ(d.origin, Origin::kPressure);
  EXPECT_EQ(d.entity, (ProcessId{9, 1}));
}

TEST(PressureResponse, APredictionActsOnceThenWaits) {
  PressureState st;
  auto l = levels(ActionKind::kFreeze, ActionKind::kKill);
  l.predict_minutes = 2;
  auto step = advance_pressure(st, {mem(40), 90.0, 0}, l);
  EXPECT_TRUE(step.predicted);
  EXPECT_EQ(step.to, PressureLevel::kWarning);
  EXPECT_EQ(step.want, PressureWant::kVictim);
  EXPECT_EQ(advance_pressure(st, {mem(40), 80.0, 1}, l).want, PressureWant::kNothing);
  // Exhaustion further away than predict_minutes: the level ends.
  step = advance_pressure(st, {mem(40), 600.0, 2}, l);
  EXPECT_EQ(step.to, PressureLevel::kNone);
  EXPECT_FALSE(step.predicted);
}

TEST(PressureResponse, TheDecisionIsAnImmediateKillWithItsReason) {
  PressureState st;
  const auto l = levels(ActionKind::kLog, ActionKind::kKill);
  auto s = mem(3);
  s.some_avg10 = 42;
  const auto step = advance_pressure(st, {s, std::nullopt, 0}, l);
  const auto d = pressure_decision(step, s, l.critical, {{77, 5}, "hog", 1, 900}, "largest");
  EXPECT_EQ(d.origin, Origin::kPressure);
  EXPECT_EQ(d.verdict, Verdict::kAct);
  EXPECT_EQ(d.action.kind, ActionKind::kKill);
  EXPECT_TRUE(d.action.immediate);
  ASSERT_EQ(d.targets.size(), 1U);
  EXPECT_EQ(d.targets[0].id, (ProcessId{77, 5}));
  EXPECT_EQ(d.reason(),
            "critical memory pressure at MemAvailable 3.0%, PSI some 42.00; chosen because "
            "largest");
}

Rule exec_rule(const std::string& name, const std::string& comm) {
  Rule r;
  r.name = name;
  r.match.comm = {comm};
  Action a;
  a.kind = ActionKind::kKill;
  r.on_exec = a;
  return r;
}

TEST(ExecDecisions, OnePerMatchingRuleNotYetDoneAndProtectedOnesAreOnlyReported) {
  FakeInfo info;
  const std::vector<Rule> rules = {exec_rule("a", "victim"), exec_rule("b", "victim"),
                                   exec_rule("c", "other")};
  Protection prot(1, {"guarded"});
  const auto s = proc(50, "victim", 0, 1);
  auto ds = exec_decisions(
      rules, s, info, prot, [](std::size_t i) { return i == 1; }, "exec");
  ASSERT_EQ(ds.size(), 1U);
  EXPECT_EQ(ds[0].rule, "a");
  EXPECT_EQ(ds[0].origin, Origin::kExec);
  EXPECT_EQ(ds[0].verdict, Verdict::kAct);
  ASSERT_EQ(ds[0].targets.size(), 1U);
  EXPECT_EQ(ds[0].targets[0].id, s.id);
  EXPECT_EQ(ds[0].reason(), "matched rule 'a' at exec");

  const std::vector<Rule> guarded = {exec_rule("g", "guarded")};
  ds = exec_decisions(
      guarded, proc(51, "guarded", 0, 1), info, prot, [](std::size_t) { return false; }, "scan");
  ASSERT_EQ(ds.size(), 1U);
  EXPECT_EQ(ds[0].verdict, Verdict::kProtected);
  EXPECT_TRUE(ds[0].targets.empty());
  ASSERT_EQ(ds[0].skipped.size(), 1U);
}

}  // namespace
}  // namespace freezr::engine
