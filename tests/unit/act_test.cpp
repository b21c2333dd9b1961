// The actuators over fakes: the ledger's record -> apply -> rollback, undo by timer, crash
// recovery, holds ended by the machine, kill escalation, and dry-run's simulated freezes.
#include <gtest/gtest.h>
#include <sched.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "act/linux_actuator.h"
#include "act/reversible.h"
#include "act_fakes.h"

namespace freezr::act {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeControl;
using testing::FakeProcSource;
using testing::FakeServices;

engine::Decision decision(engine::ActionKind kind, const ProcessId& id) {
  engine::Decision d;
  d.rule = "r";
  d.action.kind = kind;
  d.action.nice = 10;
  d.action.duration = 0.05;
  d.entity = id;
  d.targets = {{id, "victim", 90, 10}};
  d.metric = "cpu";
  d.value = 90;
  d.threshold = 50;
  d.streak = 3;
  return d;
}

struct Rig {
  Rig() : control(source), cgroups({"", ""}) {}
  boost::asio::io_context io;
  FakeProcSource source;
  FakeControl control;
  FakeClock clock;
  Cgroups cgroups;  // no hierarchies: freezes by signal, throttles fall back to renice
  store::Ledger ledger;
  FakeServices services;  // systemd, for units held as a whole (after use_services)
  std::vector<ActionOutcome> outcomes;
  Reversibles rev{io, source, control, clock, cgroups, ledger, [this](const ActionOutcome& o) {
                    outcomes.push_back(o);
                  }};
};

TEST(Reversibles, AReniceIsRecordedBeforeAndUndoneOnRelease) {
  Rig r;
  r.source.add(10, 500);
  r.rev.renice(decision(engine::ActionKind::kRenice, {10, 500}));
  EXPECT_EQ(r.control.prio[10].nice, 10);
  ASSERT_EQ(r.ledger.all().size(), 1U);
  EXPECT_EQ(r.ledger.all()[0].kind, "renice");
  EXPECT_EQ(r.ledger.all()[0].applied_at, r.clock.wall());
  ASSERT_EQ(r.outcomes.size(), 1U);
  EXPECT_TRUE(r.outcomes[0].ok);
  EXPECT_EQ(r.outcomes[0].reason, "cpu 90.0% > 50.0% for 3 scans");
  auto release = decision(engine::ActionKind::kRenice, {10, 500});
  release.verdict = engine::Verdict::kRelease;
  r.rev.release(release);
  EXPECT_EQ(r.control.prio[10].nice, 0);
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_TRUE(r.outcomes.back().undo);
}

TEST(Reversibles, OomScoreAdjIsSetWithTheRestAndPutBackOnlyWhereItStillStands) {
  Rig r;
  r.source.add(10, 500);
  r.control.oom[10] = 0;
  auto d = decision(engine::ActionKind::kRenice, {10, 500});
  d.action.oom_score_adj = 700;
  d.action.sched = engine::SchedClass::kIdle;
  d.action.cpus = {0, 1};
  r.rev.renice(d);
  EXPECT_EQ(r.control.oom[10], 700);
  EXPECT_EQ(r.control.prio[10].policy, SCHED_IDLE);
  EXPECT_EQ(r.control.prio[10].cpus, (std::vector<int>{0, 1}));
  ASSERT_EQ(r.outcomes.size(), 1U);
  EXPECT_NE(r.outcomes[0].detail.find("nice 10, sched idle, cpus 0-1, oom_score_adj 700"),
            std::string::npos)
      << r.outcomes[0].detail;
  EXPECT_EQ(r.rev.undo_all(), 1);
  EXPECT_EQ(r.control.oom[10], 0);
  EXPECT_EQ(r.control.prio[10].nice, 0);
  // Changed by someone else meanwhile: theirs stays.
  r.rev.renice(d);
  r.control.oom[10] = 100;
  r.rev.undo_all();
  EXPECT_EQ(r.control.oom[10], 100);
}

TEST(Reversibles, ARefusedOomScoreAdjUndoesTheRestOfTheRenice) {
  Rig r;
  r.source.add(10, 500);
  r.control.fail_oom = true;
  auto d = decision(engine::ActionKind::kRenice, {10, 500});
  d.action.oom_score_adj = 700;
  r.rev.renice(d);
  EXPECT_EQ(r.control.prio[10].nice, 0);
  EXPECT_TRUE(r.ledger.all().empty());
  ASSERT_EQ(r.outcomes.size(), 1U);
  EXPECT_FALSE(r.outcomes[0].ok);
  EXPECT_NE(r.outcomes[0].detail.find("Permission denied"), std::string::npos);
}

TEST(Reversibles, AFailedReniceRollsTheLedgerBack) {
  Rig r;
  r.source.add(10, 500);
  r.control.fail_priorities = true;
  r.rev.renice(decision(engine::ActionKind::kRenice, {10, 500}));
  EXPECT_TRUE(r.ledger.all().empty());
  ASSERT_EQ(r.outcomes.size(), 1U);
  EXPECT_FALSE(r.outcomes[0].ok);
  EXPECT_NE(r.outcomes[0].detail.find("not permitted"), std::string::npos);
  EXPECT_EQ(r.rev.undo_all(), 0);
}

TEST(Reversibles, AFreezeIsUndoneByItsTimer) {
  Rig r;
  r.source.add(10, 500);
  r.rev.freeze(decision(engine::ActionKind::kFreeze, {10, 500}));
  EXPECT_EQ(r.control.signals_to(10), std::vector<int>{SIGSTOP});
  EXPECT_EQ(r.rev.frozen().size(), 1U);
  r.io.run_for(300ms);
  EXPECT_EQ(r.control.signals_to(10), (std::vector<int>{SIGSTOP, SIGCONT}));
  EXPECT_TRUE(r.rev.frozen().empty());
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_NE(r.outcomes.back().detail.find("freeze time over"), std::string::npos);
}

TEST(Reversibles, AFailedSignalRollsTheLedgerBack) {
  Rig r;
  r.source.add(10, 500);
  r.control.fail_signals = true;
  r.rev.freeze(decision(engine::ActionKind::kFreeze, {10, 500}));
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_TRUE(r.rev.frozen().empty());
  EXPECT_FALSE(r.outcomes.back().ok);
}

TEST(Reversibles, AProcessStoppedBySomeoneElseIsNeitherFrozenNorResumed) {
  Rig r;
  r.source.add(10, 500, 'T');
  r.rev.freeze(decision(engine::ActionKind::kFreeze, {10, 500}));
  EXPECT_TRUE(r.control.signals.empty());
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_NE(r.outcomes.back().detail.find("already stopped by someone else"), std::string::npos);
}

TEST(Reversibles, RecoveryUndoesOnlyWhatStillBelongsToTheSameProcess) {
  Rig r;
  r.source.add(10, 500);
  r.source.add(11, 999);  // PID 11 now belongs to another process
  ASSERT_TRUE(r.ledger.add({0, {10, 500}, kFreezeSignal, "old", "{}", 1}));
  ASSERT_TRUE(r.ledger.add({0, {11, 600}, kFreezeSignal, "old", "{}", 1}));
  ASSERT_TRUE(r.ledger.add({0, {12, 700}, kRenice, "old", renice_data({{12, {0, 0}}}, 5), 1}));
  ASSERT_TRUE(r.ledger.add({0, {10, 500}, kRenice, "old", R"({"threads":{"x":[0,0]}})", 1}));
  const auto lines = r.rev.recover();
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(r.control.signals_to(10), std::vector<int>{SIGCONT});
  EXPECT_TRUE(r.control.signals_to(11).empty());
  EXPECT_NE(lines[0].find("ledger entry"), std::string::npos) << lines[0];  // the bad row
  EXPECT_TRUE(r.ledger.all().empty());
}

TEST(Reversibles, AHoldTheMachineEndedIsDroppedNotUndone) {
  Rig r;
  r.source.add(10, 500);
  auto d = decision(engine::ActionKind::kFreeze, {10, 500});
  d.action.duration = 600;
  r.rev.freeze(d);
  r.source.add(10, 500, 'T');
  r.rev.reconcile();
  EXPECT_EQ(r.rev.frozen().size(), 1U);  // still stopped: still held
  r.source.add(10, 500, 'S');            // someone sent SIGCONT
  r.rev.reconcile();
  EXPECT_TRUE(r.rev.frozen().empty());
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_NE(r.outcomes.back().detail.find("resumed by someone else"), std::string::npos);
  EXPECT_EQ(r.rev.undo_all(), 0);
  EXPECT_EQ(r.control.signals_to(10), std::vector<int>{SIGSTOP});  // no SIGCONT of its own

  r.rev.renice(decision(engine::ActionKind::kRenice, {10, 500}));
  r.source.add(10, 500, 'S', 3);  // reniced to 3 by someone else
  r.rev.reconcile();
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_NE(r.outcomes.back().detail.find("reniced by someone else"), std::string::npos);
}

struct KillRig : Rig {
  CommandRunner commands{io, clock};
  LinuxActuator actuator{
      io,  control,  clock, services,
      rev, commands, 0.05,  [this](const ActionOutcome& o) { outcomes.push_back(o); }};
};

TEST(LinuxActuator, SigtermThenSigkillAfterTheGracePeriod) {
  KillRig k;
  k.source.add(20, 800);
  k.actuator.apply(decision(engine::ActionKind::kKill, {20, 800}));
  EXPECT_EQ(k.control.signals_to(20), std::vector<int>{SIGTERM});
  EXPECT_EQ(k.actuator.pending(), 1U);
  k.io.run_for(200ms);  // it ignores SIGTERM
  EXPECT_EQ(k.control.signals_to(20), (std::vector<int>{SIGTERM, SIGKILL}));
  k.control.exit(20);
  k.io.run_for(100ms);
  EXPECT_EQ(k.actuator.pending(), 0U);
  ASSERT_TRUE(k.outcomes.back().final);
  EXPECT_TRUE(k.outcomes.back().ok);
  EXPECT_NE(k.outcomes.back().detail.find("needed SIGKILL"), std::string::npos);
}

TEST(LinuxActuator, AProcessThatExitsOnSigtermGetsNoSigkill) {
  KillRig k;
  k.source.add(20, 800);
  k.actuator.apply(decision(engine::ActionKind::kKill, {20, 800}));
  k.control.exit(20);
  k.io.run_for(200ms);
  EXPECT_EQ(k.control.signals_to(20), std::vector<int>{SIGTERM});
  EXPECT_NE(k.outcomes.back().detail.find("after SIGTERM"), std::string::npos);
}

TEST(LinuxActuator, AnImmediateKillIsSigkillAndReapsTheMemory) {
  KillRig k;
  k.source.add(21, 900);
  auto d = decision(engine::ActionKind::kKill, {21, 900});
  d.action.immediate = true;
  d.origin = engine::Origin::kPressure;
  k.actuator.apply(d);
  EXPECT_EQ(k.control.signals_to(21), std::vector<int>{SIGKILL});
  EXPECT_EQ(k.control.released, std::vector<Pid>{21});
  EXPECT_EQ(k.outcomes.back().detail, "SIGKILL sent");
  EXPECT_EQ(k.outcomes.back().origin, engine::Origin::kPressure);
  k.control.exit(21);
  k.io.run_for(100ms);
  EXPECT_NE(k.outcomes.back().detail.find("after SIGKILL"), std::string::npos);
}

TEST(LinuxActuator, AReusedPidIsNeverSignalled) {
  KillRig k;
  k.source.add(22, 1234);
  k.actuator.apply(decision(engine::ActionKind::kKill, {22, 1000}));
  EXPECT_TRUE(k.control.signals.empty());
  EXPECT_TRUE(k.outcomes.back().ok);
  EXPECT_NE(k.outcomes.back().detail.find("already gone"), std::string::npos);
  EXPECT_EQ(k.actuator.pending(), 0U);
}

TEST(DryRunActuator, KeepsTheFreezesItWouldMakeForTheirDuration) {
  FakeClock clock;
  std::vector<ActionOutcome> outcomes;
  DryRunActuator dry([&](const ActionOutcome& o) { outcomes.push_back(o); },
                     [&] { return clock.wall(); });
  auto d = decision(engine::ActionKind::kFreeze, {30, 1});
  d.action.duration = 10;
  dry.apply(d);
  ASSERT_EQ(outcomes.size(), 1U);
  EXPECT_TRUE(outcomes[0].dry_run);
  ASSERT_EQ(dry.frozen().size(), 1U);
  EXPECT_EQ(dry.frozen()[0].kind, "freeze-dry-run");
  clock.now += 11;
  EXPECT_TRUE(dry.frozen().empty());
  dry.apply(d);
  EXPECT_EQ(dry.thaw(Pid{30}), std::vector<Pid>{30});
  EXPECT_TRUE(dry.frozen().empty());
}

}  // namespace
}  // namespace freezr::act

namespace freezr::act {
namespace {

// The hostile ledger corpus: each row parses as a ledger line but is not one FreezR writes.
TEST(LedgerValidation, EveryRowOfTheHostileCorpusIsRefusedWithItsReason) {
  const Cgroups cgroups({"/sys/fs/cgroup", ""});
  int checked = 0;
  for (const auto& f :
       std::filesystem::directory_iterator(std::string(FREEZR_FIXTURES) + "/hostile/ledger")) {
    std::ifstream in(f.path());
    std::string first, rest;
    std::getline(in, first);
    rest.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ASSERT_EQ(first.rfind("# expect: ", 0), 0U) << f.path();
    const auto ledger = store::parse_ledger(rest);
    EXPECT_TRUE(ledger.problems.empty()) << f.path();
    ASSERT_EQ(ledger.entries.size(), 1U) << f.path();
    const auto r = validate(ledger.entries[0], cgroups);
    ASSERT_FALSE(r) << f.path();
    EXPECT_TRUE(std::regex_search(r.error().message, std::regex(first.substr(10))))
        << f.path() << ": " << r.error().message;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(LedgerValidation, WhatFreezrWritesIsAccepted) {
  const Cgroups cgroups({"/sys/fs/cgroup", "/sys/fs/cgroup/cpu"}, "freezr", "0badcafe");
  const ProcessId id{4242, 777};
  const std::vector<store::LedgerEntry> good = {
      {1, id, kFreezeSignal, "r", "{}", 1},
      {2, id, kRenice, "r", renice_data({{4242, {-5, (2 << 13) | 4}}, {4243, {0, 0}}}, 10, 99), 1},
      {3, id, kThrottle, "r",
       group_data("/sys/fs/cgroup/freezr/" + cgroups.leaf("thr", "r-4242"),
                  "/sys/fs/cgroup/user.slice/app.scope"),
       1},
      {4, id, kThrottle, "r",
       group_data("/sys/fs/cgroup/cpu/freezr/" + cgroups.leaf("thr", "r-group"),
                  "/sys/fs/cgroup/cpu"),
       1},
      {5, id, kFreezeCgroup, "r",
       group_data("/sys/fs/cgroup/freezr/" + cgroups.leaf("frz", "r-4242"), "/sys/fs/cgroup"), 1},
  };
  for (const auto& e : good) {
    const auto r = validate(e, cgroups);
    EXPECT_TRUE(r) << e.kind << " " << e.data << ": " << r.error().message;
  }
  // A cgroup freeze lives in the v2 hierarchy only.
  EXPECT_FALSE(validate(
      {6, id, kFreezeCgroup, "r",
       group_data("/sys/fs/cgroup/cpu/freezr/" + cgroups.leaf("frz", "r-1"), "/sys/fs/cgroup/cpu"),
       1},
      cgroups));
}

// A decision on the unit burn.service as a whole, as the daemon makes it (act::whole_unit).
engine::Decision on_unit(engine::ActionKind kind) {
  auto d = decision(kind, {10, 500});
  d.entity = engine::part_id("burn.service");
  d.entity_kind = "unit";
  d.entity_name = d.whole_unit = "burn.service";
  d.targets = {{{10, 500}, "burner", 90, 10}, {{11, 510}, "burner", 80, 10}};
  d.action.cpu_limit = 25;
  return d;
}

TEST(UnitHolds, AUnitIsFrozenBySystemdRecordedFirstAndThawedWhenItsTimeIsOver) {
  Rig r;
  r.rev.use_services(&r.services);
  r.rev.freeze(on_unit(engine::ActionKind::kFreeze));
  // Recorded before systemd answers: a crash now still leaves the thaw to do.
  ASSERT_EQ(r.ledger.all().size(), 1U);
  EXPECT_EQ(r.ledger.all()[0].kind, kFreezeUnit);
  EXPECT_EQ(unit_of(r.ledger.all()[0]), "burn.service");
  EXPECT_TRUE(validate(r.ledger.all()[0], r.cgroups));
  EXPECT_EQ(r.services.calls, std::vector<std::string>{"FreezeUnit burn.service"});
  EXPECT_TRUE(r.outcomes.empty());
  r.services.answer();
  ASSERT_EQ(r.outcomes.size(), 2U);  // one per process of the unit
  EXPECT_TRUE(r.outcomes[0].ok);
  EXPECT_EQ(r.outcomes[0].unit, "burn.service");
  EXPECT_EQ(r.outcomes[0].detail, "frozen for 0.05s by systemd (FreezeUnit burn.service)");
  EXPECT_TRUE(r.control.signals.empty());  // no process is signalled
  ASSERT_EQ(r.rev.frozen().size(), 1U);
  r.io.run_for(300ms);
  EXPECT_EQ(r.services.calls.back(), "ThawUnit burn.service (at once)");
  EXPECT_FALSE(r.services.frozen["burn.service"]);
  EXPECT_TRUE(r.ledger.all().empty());
  EXPECT_TRUE(r.outcomes.back().undo);
  EXPECT_EQ(r.outcomes.back().unit, "burn.service");
  EXPECT_FALSE(r.outcomes.back().target);
}

TEST(UnitHolds, AThrottleSetsARuntimeQuotaAndReleasePutsBackTheOneBefore) {
  Rig r;
  r.rev.use_services(&r.services);
  r.services.quota["burn.service"] = 500000;  // CPUQuota=50% already
  const auto d = on_unit(engine::ActionKind::kThrottle);
  r.rev.throttle(d);
  r.services.answer();  // the quota now
  ASSERT_EQ(r.ledger.all().size(), 1U);
  EXPECT_EQ(r.ledger.all()[0].kind, kThrottleUnit);
  EXPECT_NE(r.ledger.all()[0].data.find("\"quota_before\":500000"), std::string::npos);
  r.services.answer();  // the quota set
  EXPECT_EQ(r.services.quota["burn.service"], 250000U);
  ASSERT_FALSE(r.outcomes.empty());
  EXPECT_NE(r.outcomes.back().detail.find("CPUQuota=25% on burn.service"), std::string::npos);
  auto release = d;
  release.verdict = engine::Verdict::kRelease;
  r.rev.release(release);
  EXPECT_EQ(r.services.quota["burn.service"], 500000U);
  EXPECT_EQ(r.services.calls.back(),
            "SetUnitProperties burn.service CPUQuotaPerSecUSec=500000 (at once)");
  EXPECT_TRUE(r.ledger.all().empty());
}

TEST(UnitHolds, WhenSystemdRefusesTheUnitsProcessesAreFrozenOneByOne) {
  Rig r;
  r.rev.use_services(&r.services);
  r.services.fail = true;
  r.source.add(10, 500);
  r.source.add(11, 510);
  r.rev.freeze(on_unit(engine::ActionKind::kFreeze));
  r.services.answer();
  ASSERT_FALSE(r.outcomes.empty());
  EXPECT_FALSE(r.outcomes[0].final);
  EXPECT_NE(r.outcomes[0].detail.find("FreezeUnit burn.service failed (no systemd in a test)"),
            std::string::npos)
      << r.outcomes[0].detail;
  EXPECT_EQ(r.control.signals_to(10), std::vector<int>{SIGSTOP});
  EXPECT_EQ(r.control.signals_to(11), std::vector<int>{SIGSTOP});
  ASSERT_EQ(r.ledger.all().size(), 2U);
  for (const auto& e : r.ledger.all()) EXPECT_EQ(e.kind, kFreezeSignal);
}

TEST(UnitHolds, AThawOfOneOfTheUnitsPidsThawsTheUnit) {
  Rig r;
  r.rev.use_services(&r.services);
  r.source.add(10, 500);
  r.source.add(12, 520);
  r.source.cgroups[10] = "0::/system.slice/burn.service\n";
  r.source.cgroups[12] = "0::/system.slice/other.service\n";
  r.rev.freeze(on_unit(engine::ActionKind::kFreeze));
  r.services.answer();
  EXPECT_TRUE(r.rev.thaw(12).empty());  // another unit's process
  EXPECT_EQ(r.rev.frozen().size(), 1U);
  EXPECT_EQ(r.rev.thaw(10), std::vector<Pid>{10});
  EXPECT_EQ(r.services.calls.back(), "ThawUnit burn.service (at once)");
  EXPECT_TRUE(r.rev.frozen().empty());
}

TEST(UnitHolds, AThawBeforeSystemdAnswersThawsWhatItFroze) {
  Rig r;
  r.rev.use_services(&r.services);
  r.rev.freeze(on_unit(engine::ActionKind::kFreeze));
  EXPECT_EQ(r.rev.undo_all(), 1);  // FreezR stops with the call in flight
  r.services.answer();
  EXPECT_FALSE(r.services.frozen["burn.service"]);
  EXPECT_EQ(r.services.calls.back(), "ThawUnit burn.service (at once)");
  EXPECT_TRUE(r.ledger.all().empty());
}

TEST(UnitHolds, AQuotaReadAnsweredAfterFreezrStoppedThrottlesNothing) {
  for (const bool fail : {false, true}) {  // read, or refused (no fallback to processes either)
    Rig r;
    r.rev.use_services(&r.services);
    r.services.fail = fail;
    r.source.add(10, 500);
    r.rev.throttle(on_unit(engine::ActionKind::kThrottle));
    EXPECT_EQ(r.rev.undo_all(), 0);  // FreezR stops with the read in flight
    r.services.answer();
    EXPECT_EQ(r.services.quota.count("burn.service"), 0U) << fail;
    EXPECT_EQ(r.services.calls, std::vector<std::string>{"Get CPUQuotaPerSecUSec burn.service"})
        << fail;  // and no SetUnitProperties
    EXPECT_TRUE(r.ledger.all().empty()) << fail;
    EXPECT_TRUE(r.control.signals_to(10).empty()) << fail;
    EXPECT_EQ(r.control.prio.count(10), 0U) << fail;
    ASSERT_FALSE(r.outcomes.empty()) << fail;
    EXPECT_FALSE(r.outcomes.back().ok);
    EXPECT_NE(r.outcomes.back().detail.find("FreezR is stopping"), std::string::npos)
        << r.outcomes.back().detail;
  }
}

TEST(UnitHolds, RecoveryAfterACrashThawsTheUnitAndPutsBackItsQuota) {
  Rig r;
  r.rev.use_services(&r.services);
  ASSERT_TRUE(r.ledger.add({0, kUnitHold, kFreezeUnit, "old", unit_data("burn.service"), 1}));
  ASSERT_TRUE(r.ledger.add(
      {0, kUnitHold, kThrottleUnit, "old", unit_data("web.service", ServiceManager::kNoQuota), 1}));
  const auto lines = r.rev.recover();
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0], "throttle-unit of web.service by rule 'old' left by an earlier run: undone");
  EXPECT_EQ(lines[1], "freeze-unit of burn.service by rule 'old' left by an earlier run: undone");
  EXPECT_EQ(r.services.calls,
            (std::vector<std::string>{
                "SetUnitProperties web.service CPUQuotaPerSecUSec=18446744073709551615 (at once)",
                "ThawUnit burn.service (at once)"}));
  EXPECT_TRUE(r.ledger.all().empty());
}

TEST(UnitHolds, AUnitIsKilledThroughKillUnitAndItsProcessesWatchedUntilTheyExit) {
  KillRig k;
  k.source.add(10, 500);
  k.source.add(11, 510);
  k.actuator.apply(on_unit(engine::ActionKind::kKill));
  EXPECT_EQ(k.services.calls, std::vector<std::string>{"KillUnit burn.service 15"});
  k.services.answer();
  EXPECT_TRUE(k.control.signals_to(10).empty());  // systemd signalled them
  ASSERT_EQ(k.outcomes.size(), 2U);
  EXPECT_EQ(k.outcomes[0].detail, "SIGTERM sent to every process of burn.service (KillUnit)");
  k.control.exit(11);
  k.io.run_for(200ms);  // 10 ignores SIGTERM: SIGKILL to it, and to the unit once
  EXPECT_EQ(k.control.signals_to(10), std::vector<int>{SIGKILL});
  EXPECT_EQ(k.services.calls.back(), "KillUnit burn.service 9");
  k.control.exit(10);
  k.io.run_for(100ms);
  k.services.answer();
  EXPECT_EQ(k.actuator.pending(), 0U);
  EXPECT_TRUE(k.outcomes.back().final);
  EXPECT_TRUE(k.outcomes.back().ok);
}

TEST(UnitHolds, WhenKillUnitIsRefusedEachProcessIsSignalledItself) {
  KillRig k;
  k.services.fail = true;
  k.source.add(10, 500);
  k.source.add(11, 510);
  k.actuator.apply(on_unit(engine::ActionKind::kKill));
  k.services.answer();
  EXPECT_EQ(k.control.signals_to(10), std::vector<int>{SIGTERM});
  EXPECT_EQ(k.control.signals_to(11), std::vector<int>{SIGTERM});
  ASSERT_FALSE(k.outcomes.empty());
  EXPECT_NE(k.outcomes[0].detail.find("KillUnit burn.service failed"), std::string::npos);
  k.control.exit(10);
  k.control.exit(11);
  k.io.run_for(100ms);
  EXPECT_EQ(k.actuator.pending(), 0U);
}

TEST(LedgerValidation, AUnitHoldNamesAServiceOrScopeAndNoProcess) {
  const Cgroups cgroups({"", ""});
  const auto entry = [](ProcessId id, const char* kind, const std::string& data) {
    return store::LedgerEntry{1, id, kind, "r", data, 1};
  };
  EXPECT_TRUE(validate(entry(kUnitHold, kFreezeUnit, unit_data("app-web\\x2d1.scope")), cgroups));
  EXPECT_TRUE(validate(entry(kUnitHold, kThrottleUnit, unit_data("kesl.service", 1)), cgroups));
  const std::vector<store::LedgerEntry> bad = {
      entry({42, 500}, kFreezeUnit, unit_data("kesl.service")),  // names a process
      entry(kUnitHold, kFreezeUnit, unit_data("user.slice")),    // a slice
      entry(kUnitHold, kFreezeUnit, unit_data("../kesl.service")),
      entry(kUnitHold, kFreezeUnit, unit_data("-.service")),
      entry(kUnitHold, kFreezeUnit, R"({"unit":7})"),
      entry(kUnitHold, kThrottleUnit, unit_data("kesl.service")),  // no quota to put back
      entry(kUnitHold, kFreezeSignal, "{}"),                       // a process kind, PID 0
  };
  for (const auto& e : bad) {
    const auto r = validate(e, cgroups);
    EXPECT_FALSE(r) << e.kind << " " << e.data;
  }
}

TEST(LedgerValidation, InvalidRowsAreNeverActedOn) {
  Rig r;
  r.source.add(12, 700);
  r.control.prio[12] = {10, 0};
  const store::LedgerEntry bad{1, {12, 700}, kRenice, "r", R"({"threads":{"12":[-40,0]}})", 1};
  const auto undone = undo_entry(bad, r.source, r.control, r.cgroups);
  ASSERT_FALSE(undone);
  EXPECT_EQ(undone.error().kind(), ErrorKind::kParse);
  EXPECT_EQ(r.control.prio[12].nice, 10);
}

// A made-up cgroup v2 tree: ROOT/system.slice/freezr.service is the unit's cgroup.
struct DelegatedTree {
  DelegatedTree()
      : root(std::filesystem::temp_directory_path() /
             ("freezr-delegated-" + std::to_string(::getpid()))),
        unit(root / "system.slice" / "freezr.service") {
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(unit / Cgroups::kSelfLeaf);
    std::ofstream(unit / "cgroup.controllers") << "cpu memory pids\n";
    std::ofstream(unit / "cgroup.subtree_control") << "";
    std::ofstream(unit / "cgroup.freeze") << "0\n";
    std::ofstream(unit / Cgroups::kSelfLeaf / "cgroup.procs") << "";
  }
  ~DelegatedTree() { std::filesystem::remove_all(root); }
  std::filesystem::path root, unit;
};

TEST(DelegatedCgroups, FreezrMovesIntoItsLeafAndFreezesBesideItAndEnablesNothingThere) {
  DelegatedTree t;
  Cgroups cgroups({t.root.string(), ""}, "freezr", "0badcafe");
  cgroups.delegate_to(t.unit.string());
  cgroups.setup();
  EXPECT_EQ(cgroups.delegated(), t.unit.string());
  EXPECT_EQ(Cgroups::read((t.unit / Cgroups::kSelfLeaf).string(), "cgroup.procs"),
            std::to_string(::getpid()));
  EXPECT_TRUE(cgroups.can_freeze());
  const auto frozen = cgroups.make(true, cgroups.leaf("frz", "r-42"));
  ASSERT_TRUE(frozen) << frozen.error().message;
  EXPECT_EQ(*frozen, (t.unit / "frz-0badcafe-r-42").string());
  EXPECT_TRUE(std::filesystem::is_directory(*frozen));
  // Throttles need the cpu controller: at the root's directory, never enabled in the unit's.
  const auto throttled = cgroups.make(true, cgroups.leaf("thr", "r-42"));
  ASSERT_TRUE(throttled) << throttled.error().message;
  EXPECT_EQ(*throttled, (t.root / "freezr" / "thr-0badcafe-r-42").string());
  EXPECT_EQ(Cgroups::read(t.unit.string(), "cgroup.subtree_control"), "");
  EXPECT_EQ(cgroups.bases(true),
            (std::vector<std::string>{t.unit.string(), (t.root / "freezr").string()}));
  EXPECT_NE(cgroups.describe().find("freezes in the delegated " + t.unit.string()),
            std::string::npos);
}

TEST(DelegatedCgroups, AFreezrThatCannotMoveKeepsItsGroupsAtTheRootAndSaysSo) {
  DelegatedTree t;
  std::filesystem::remove_all(t.unit / Cgroups::kSelfLeaf);  // no cgroup.procs to write
  std::filesystem::create_directories(t.unit / Cgroups::kSelfLeaf);
  Cgroups cgroups({t.root.string(), ""}, "freezr", "0badcafe");
  cgroups.delegate_to(t.unit.string());
  cgroups.setup();
  EXPECT_EQ(cgroups.delegated(), "");
  EXPECT_EQ(cgroups.base(true), (t.root / "freezr").string());
  EXPECT_NE(cgroups.describe().find("could not move into the delegated " + t.unit.string()),
            std::string::npos);
  const auto frozen = cgroups.make(true, cgroups.leaf("frz", "r-42"));
  ASSERT_TRUE(frozen) << frozen.error().message;
  EXPECT_EQ(*frozen, (t.root / "freezr" / "frz-0badcafe-r-42").string());
}

TEST(DelegatedCgroups, TheDelegatedDirectoryIsRecordedAndOnlyAServiceUnderTheRootAccepted) {
  DelegatedTree t;
  auto data = fs::Directory::open((t.root / "data").string());
  ASSERT_TRUE(data) << data.error().message;
  Cgroups before({t.root.string(), ""});
  before.delegate_to(t.unit.string());
  ASSERT_TRUE(before.record(*data));
  Cgroups after({t.root.string(), ""});
  after.accept_recorded(*data);
  EXPECT_EQ(after.bases(true),
            (std::vector<std::string>{(t.root / "freezr").string(), t.unit.string()}));
  Cgroups picky({"/sys/fs/cgroup", ""});
  for (const std::string bad :
       {"/sys/fs/cgroup/user.slice", "/etc/freezr.service", "/sys/fs/cgroup/../x.service",
        "/sys/fs/cgroup/.service", "/sys/fs/cgroupfoo/x.service"}) {
    picky.also_accept(bad);
  }
  EXPECT_EQ(picky.bases(true), std::vector<std::string>{"/sys/fs/cgroup/freezr"});
}

TEST(LedgerValidation, GroupsInTheDelegatedCgroupAreFreezrsAndTheirOriginIsOutsideIt) {
  Cgroups cgroups({"/sys/fs/cgroup", ""}, "freezr", "0badcafe");
  const std::string unit = "/sys/fs/cgroup/system.slice/freezr.service";
  cgroups.delegate_to(unit);
  cgroups.also_accept("/sys/fs/cgroup/system.slice/freezr-old.service");
  const ProcessId id{4242, 777};
  const std::string app = "/sys/fs/cgroup/user.slice/app.scope";
  for (const std::string& base : {unit, std::string("/sys/fs/cgroup/freezr"),
                                  std::string("/sys/fs/cgroup/system.slice/freezr-old.service")}) {
    const store::LedgerEntry e{
        1, id, kFreezeCgroup, "r", group_data(base + "/" + cgroups.leaf("frz", "r-4242"), app), 1};
    const auto r = validate(e, cgroups);
    EXPECT_TRUE(r) << base << ": " << r.error().message;
  }
  const auto inside = validate(
      {2, id, kThrottle, "r",
       group_data(unit + "/" + cgroups.leaf("thr", "r-1"), unit + "/" + Cgroups::kSelfLeaf), 1},
      cgroups);
  ASSERT_FALSE(inside);
  EXPECT_NE(inside.error().message.find("outside FreezR's"), std::string::npos);
  const auto elsewhere =
      validate({3, id, kFreezeCgroup, "r",
                group_data("/sys/fs/cgroup/system.slice/sshd.service/frz-x", app), 1},
               cgroups);
  ASSERT_FALSE(elsewhere);
  EXPECT_NE(elsewhere.error().message.find("not under FreezR's own"), std::string::npos);
}

}  // namespace
}  // namespace freezr::act
