#include "engine/thermal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "config_errors.h"
#include "engine_fixtures.h"
#include "proc/thermal_sensors.h"

namespace freezr {
namespace {

using testing::proc;
using testing::snap;

engine::ThermalSpec spec(engine::ActionKind kind) {
  engine::ThermalSpec s;
  s.name = "hot";
  s.sensor = "zone";
  s.above = 80;
  s.below = 60;
  s.violations = 2;
  s.action.kind = kind;
  s.action.cpu_limit = 20;
  s.action.duration = 5;
  s.rule_indexes = {0};
  s.hottest = 1;
  return s;
}

struct ThermalRun {
  explicit ThermalRun(std::vector<engine::ThermalSpec> s)
      : specs(std::move(s)), responder(&specs) {}
  std::vector<engine::Decision> at(Seconds t, double celsius, std::vector<engine::ProcessSample> ps,
                                   std::vector<std::string> protect = {}) {
    const auto sn = snap(t, std::move(ps));
    engine::Classification cls;
    cls.members = {{}};
    for (std::size_t i = 0; i < sn.processes.size(); ++i) cls.members[0].push_back(i);
    cls.category.assign(sn.processes.size(), -1);
    engine::Protection prot(9999, std::move(protect));
    prot.refresh(sn);
    return responder.evaluate(sn, cls, {celsius}, prot, t);
  }
  std::vector<engine::ThermalSpec> specs;
  engine::ThermalResponder responder;
};

TEST(Thermal, HotForItsScansThrottlesTheHottestThenCoolingReleasesIt) {
  ThermalRun run({spec(engine::ActionKind::kThrottle)});
  const std::vector<engine::ProcessSample> ps = {proc(10, "cc1", 20, 1), proc(11, "cc1", 95, 1)};
  EXPECT_TRUE(run.at(1, 85, ps).empty());
  auto d = run.at(2, 85, ps);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].origin, engine::Origin::kThermal);
  EXPECT_EQ(d[0].rule, "thermal:hot");
  ASSERT_EQ(d[0].targets.size(), 1U);
  EXPECT_EQ(d[0].targets[0].id.pid, 11);  // the hottest
  EXPECT_EQ(d[0].reason(),
            "hot: zone at 85.0 °C > 80.0 °C for 2 scans; the hottest process of its rules: cc1");
  EXPECT_TRUE(run.responder.hot(0));
  // Still hot: the next hottest not held yet is taken after two more hot scans.
  EXPECT_TRUE(run.at(3, 85, ps).empty());
  d = run.at(4, 85, ps);
  ASSERT_EQ(d.size(), 1U);
  EXPECT_EQ(d[0].targets[0].id.pid, 10);
  // Between below and above: nothing; then cool for two scans releases both.
  EXPECT_TRUE(run.at(5, 70, ps).empty());
  EXPECT_TRUE(run.at(6, 55, ps).empty());
  d = run.at(7, 55, ps);
  ASSERT_EQ(d.size(), 2U);
  for (const auto& r : d) EXPECT_EQ(r.verdict, engine::Verdict::kRelease);
  EXPECT_FALSE(run.responder.hot(0));
}

TEST(Thermal, AProtectedProcessIsSkippedAndAFreezeWaitsForTheLastOne) {
  ThermalRun run({spec(engine::ActionKind::kFreeze)});
  const std::vector<engine::ProcessSample> ps = {proc(10, "game", 99, 1), proc(11, "cc1", 50, 1)};
  run.at(1, 90, ps, {"game"});
  auto d = run.at(2, 90, ps, {"game"});
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0].verdict, engine::Verdict::kProtected);
  EXPECT_EQ(d[1].targets[0].id.pid, 11);
  // While the 5 s freeze lasts, no other.
  for (Seconds t = 3; t < 7; ++t) EXPECT_TRUE(run.at(t, 90, ps, {"game"}).empty()) << t;
  EXPECT_EQ(run.at(7, 90, ps, {"game"}).size(), 2U);
}

TEST(Thermal, ACategoryBringsItsProcessesInWithTheRulesOnes) {
  auto s = spec(engine::ActionKind::kRenice);
  s.rule_indexes.clear();
  s.category_indexes = {1};
  s.hottest = 2;
  ThermalRun run({s});
  const auto sn = snap(1, {proc(10, "firefox", 80, 1), proc(11, "cc1", 99, 1),
                           proc(12, "chrome", 40, 1), proc(13, "vim", 1, 1)});
  engine::Classification cls;
  cls.members = {{1}};
  cls.category = {1, -1, 1, 0};  // 10 and 12 are browsers, 13 another category
  engine::Protection prot(9999, {});
  prot.refresh(sn);
  EXPECT_TRUE(run.responder.evaluate(sn, cls, {95}, prot, 1).empty());
  const auto d = run.responder.evaluate(sn, cls, {95}, prot, 2);
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0].targets[0].id.pid, 10);  // the hottest browser first, not the rule's cc1
  EXPECT_EQ(d[1].targets[0].id.pid, 12);
}

TEST(Thermal, AnUnreadableSensorChangesNothing) {
  ThermalRun run({spec(engine::ActionKind::kThrottle)});
  const auto sn = snap(1, {proc(10, "cc1", 90, 1)});
  engine::Classification cls;
  cls.members = {{0}};
  engine::Protection prot(9999, {});
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(run.responder.evaluate(sn, cls, {std::nullopt}, prot, i).empty());
}

TEST(Thermal, AChangedSectionReleasesWhatItHeld) {
  ThermalRun run({spec(engine::ActionKind::kThrottle)});
  run.at(1, 90, {proc(10, "cc1", 90, 1)});
  ASSERT_EQ(run.at(2, 90, {proc(10, "cc1", 90, 1)}).size(), 1U);
  std::vector<engine::ThermalSpec> next = {spec(engine::ActionKind::kThrottle)};
  next[0].above = 70;
  const auto released = run.responder.reset(&next);
  ASSERT_EQ(released.size(), 1U);
  EXPECT_EQ(released[0].verdict, engine::Verdict::kRelease);
  EXPECT_EQ(released[0].entity.pid, 10);
}

TEST(ThermalSensors, ZonesByTypeAndHwmonByNameOrLabel) {
  namespace fs = std::filesystem;
  const auto root = fs::temp_directory_path() / ("sys-" + std::to_string(::getpid()));
  auto put = [&](const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  };
  put(root / "class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
  put(root / "class/thermal/thermal_zone0/temp", "67000\n");
  put(root / "class/hwmon/hwmon1/name", "k10temp\n");
  put(root / "class/hwmon/hwmon1/temp1_input", "71500\n");
  put(root / "class/hwmon/hwmon1/temp1_label", "Tctl\n");
  put(root / "class/hwmon/hwmon1/temp3_input", "50250\n");
  put(root / "class/hwmon/hwmon1/temp3_label", "Tccd1\n");
  put(root / "class/thermal/thermal_zone1/type", "broken\n");
  put(root / "class/thermal/thermal_zone1/temp", "hot\n");
  proc::ThermalSensors s(root.string());
  EXPECT_EQ(s.read("x86_pkg_temp"), 67.0);
  EXPECT_EQ(s.read("k10temp"), 71.5);
  EXPECT_EQ(s.read("Tccd1"), 50.25);
  EXPECT_EQ(s.read("k10temp/Tctl"), 71.5);
  EXPECT_FALSE(s.read("broken"));
  EXPECT_FALSE(s.read("nothing"));
  put(root / "class/thermal/thermal_zone0/temp", "88000\n");
  EXPECT_EQ(s.read("x86_pkg_temp"), 88.0);  // read afresh each time
  EXPECT_EQ(s.list().size(), 6U);           // each sensor under each of its names
  fs::remove_all(root);
}

TEST(ThermalConfig, ParsedRenderedAndValidated) {
  const std::string rule = "[[rule]]\nname='build'\nmatch={comm=['make']}\ncpu_percent=500\n";
  const auto c = config::parse_config(
      rule +
          "[[thermal]]\nname='cpu'\nsensor='x86_pkg_temp'\nabove=90\nrules=['build']\n"
          "categories=['browser']\naction='throttle'\ncpu_limit=50\nhottest=2\n",
      "t");
  ASSERT_EQ(c.thermal.size(), 1U);
  const auto& t = c.thermal[0];
  EXPECT_EQ(t.below, 85);
  EXPECT_EQ(t.rule_indexes, std::vector<std::size_t>{0});
  EXPECT_EQ(t.category_indexes.size(), 1U);
  EXPECT_EQ(t.hottest, 2);
  EXPECT_EQ(config::parse_config(config::render_config(c), "t2").thermal[0], t);
  const std::string head = rule + "[[thermal]]\nname='cpu'\nsensor='z'\nabove=90\n";
  testing::expect_config_error(head + "action='log'\n", "give 'rules' or 'categories'");
  testing::expect_config_error(head + "rules=['nope']\n", "no rule named 'nope'");
  testing::expect_config_error(head + "rules=['build']\naction='kill'\n",
                               "must be log, renice, throttle or freeze");
  testing::expect_config_error(head + "rules=['build']\nbelow=95\n", "must not be above");
  testing::expect_config_error(rule + "[[thermal]]\nname='cpu'\nabove=90\nrules=['build']\n",
                               "'sensor' is required");
}

}  // namespace
}  // namespace freezr
