#include "engine/pressure.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "engine/victims.h"
#include "engine_fixtures.h"

namespace freezr::engine {
namespace {

using testing::FakeInfo;
using testing::proc;
using testing::snap;

PressureSample sample(double mem, std::optional<double> some = std::nullopt,
                      std::optional<double> full = std::nullopt,
                      std::optional<double> swap = std::nullopt) {
  PressureSample s;
  s.mem_available_percent = mem;
  s.some_avg10 = some;
  s.full_avg10 = full;
  s.swap_free_percent = swap;
  return s;
}

LevelThresholds level(std::optional<double> mem, std::optional<double> some = std::nullopt,
                      std::optional<double> full = std::nullopt,
                      std::optional<double> swap = std::nullopt) {
  LevelThresholds t;
  t.mem_available_percent = mem;
  t.some_avg10 = some;
  t.full_avg10 = full;
  t.swap_free_percent = swap;
  return t;
}

TEST(PressureLevel, EntersOnAnyFigureAndLeavesOnlyWhenClearlyClear) {
  const auto warn = level(10, 10);
  const auto crit = level(5, std::nullopt, 15);
  auto l = PressureLevel::kNone;
  l = next_level(l, sample(50, 2), warn, crit);
  EXPECT_EQ(l, PressureLevel::kNone);
  l = next_level(l, sample(50, 12), warn, crit);  // PSI some crosses warning
  EXPECT_EQ(l, PressureLevel::kWarning);
  l = next_level(l, sample(50, 8), warn, crit);  // under 10 but not under 7: kept
  EXPECT_EQ(l, PressureLevel::kWarning);
  l = next_level(l, sample(50, 6.9), warn, crit);
  EXPECT_EQ(l, PressureLevel::kNone);
  l = next_level(l, sample(4.5, 0, 1), warn, crit);  // MemAvailable under 5%
  EXPECT_EQ(l, PressureLevel::kCritical);
  l = next_level(l, sample(6.5, 0, 1), warn, crit);  // 5 < 6.5 < 7: still critical
  EXPECT_EQ(l, PressureLevel::kCritical);
  l = next_level(l, sample(7.5, 0, 1), warn, crit);  // clear of critical, but warning crosses
  EXPECT_EQ(l, PressureLevel::kWarning);
  l = next_level(l, sample(40, 0, 20), warn, crit);  // full avg10 crosses critical
  EXPECT_EQ(l, PressureLevel::kCritical);
}

TEST(PressureLevel, SwapCountsOnlyWhenThereIsSwapAndBothAreLow) {
  const auto crit = level(10, std::nullopt, std::nullopt, 20);
  EXPECT_TRUE(crosses(sample(5), crit));                // no swap at all: memory alone
  EXPECT_FALSE(crosses(sample(5, {}, {}, 50), crit));   // swap still plenty
  EXPECT_TRUE(crosses(sample(5, {}, {}, 10), crit));    // both low
  EXPECT_FALSE(crosses(sample(30, {}, {}, 10), crit));  // memory fine
  EXPECT_FALSE(crosses(sample(30), level(std::nullopt, std::nullopt, std::nullopt, 20)));
}

TEST(PressureLevel, MissingPsiNeverCrosses) {
  EXPECT_FALSE(crosses(sample(50), level(std::nullopt, 10, 5)));
  EXPECT_TRUE(clear_of(sample(50), level(std::nullopt, 10, 5)));
}

TEST(PressureLevel, CheckIntervalShortensAsHeadroomShrinks) {
  const auto crit = level(5);
  EXPECT_DOUBLE_EQ(pressure_check_interval(sample(80), crit, 3), 3.0);
  EXPECT_DOUBLE_EQ(pressure_check_interval(sample(15), crit, 3), 1.0);
  EXPECT_DOUBLE_EQ(pressure_check_interval(sample(5.5), crit, 3), 0.1);
  EXPECT_DOUBLE_EQ(pressure_check_interval(sample(2), crit, 3), 0.1);
  EXPECT_DOUBLE_EQ(pressure_check_interval(sample(2), level(std::nullopt, 10), 3), 3.0);
}

TEST(PressureSample, FromProcFigures) {
  proc::MemInfo m;
  m.total_kb = 1000;
  m.available_kb = 250;
  m.swap_total_kb = 100;
  m.swap_free_kb = 40;
  proc::Pressure p;
  p.some.avg10 = 3;
  const auto s = pressure_sample(m, p);
  EXPECT_DOUBLE_EQ(s.mem_available_percent, 25.0);
  EXPECT_DOUBLE_EQ(*s.swap_free_percent, 40.0);
  EXPECT_DOUBLE_EQ(*s.some_avg10, 3.0);
  EXPECT_FALSE(s.full_avg10);  // old kernels: no full line
}

TEST(NamePattern, Parses) {
  EXPECT_EQ(parse_name_pattern("brave"), (NamePattern{"brave", std::nullopt, std::nullopt}));
  EXPECT_EQ(parse_name_pattern("nvim>1024"), (NamePattern{"nvim", 1024.0, std::nullopt}));
  EXPECT_FALSE(parse_name_pattern(""));
  EXPECT_FALSE(parse_name_pattern(">5"));
  EXPECT_FALSE(parse_name_pattern("nvim>x"));
  const auto re = parse_name_pattern("/^(chrome|brave)$/>100");
  ASSERT_TRUE(re);
  EXPECT_EQ(re->name, "/^(chrome|brave)$/");
  EXPECT_EQ(re->min_rss_mb, 100.0);
  ASSERT_TRUE(re->regex);
  EXPECT_TRUE(re->regex->search("brave"));
  EXPECT_FALSE(re->regex->search("bravest"));
  EXPECT_TRUE(parse_name_pattern("/a>b/"));  // '>' inside the expression is its own
  EXPECT_FALSE(parse_name_pattern("/unclosed"));
  EXPECT_FALSE(parse_name_pattern("/(/"));  // not a regular expression
  EXPECT_FALSE(parse_name_pattern("//"));
  EXPECT_FALSE(parse_name_pattern("nvim>-1"));
}

class VictimsTest : public ::testing::Test {
 protected:
  std::vector<Pid> order(const VictimPolicy& policy, const Snapshot& s,
                         std::map<Pid, OomFacts> facts = {}, std::vector<Rule> rules = {},
                         std::vector<std::string> protect = {}) {
    Classifier c(&rules);
    auto cls = c.classify(s, info_);
    Protection prot(9999, std::move(protect));
    prot.refresh(s);
    last_ = rank_victims(s, cls, rules, policy, prot, info_,
                         [&](Pid p) { return facts.count(p) ? facts[p] : OomFacts{}; });
    std::vector<Pid> out;
    for (const auto& v : last_.ranked) out.push_back(s.processes[v.index].id.pid);
    return out;
  }
  VictimOrder last_;
  FakeInfo info_;
};

TEST_F(VictimsTest, LargestFirstThenOomScoreThenPid) {
  const auto s = snap(0, {proc(10, "a", 0, 100), proc(11, "b", 0, 500), proc(12, "c", 0, 300),
                          proc(13, "d", 0, 300), proc(14, "e", 0, 300)});
  EXPECT_EQ(order({}, s, {{13, {900, 0}}}), (std::vector<Pid>{11, 13, 12, 14, 10}));
  EXPECT_NE(last_.ranked[0].reason.find("RSS 500 MiB"), std::string::npos);
}

TEST_F(VictimsTest, ARegularExpressionInKillOrderAndAvoid) {
  const auto s = snap(0, {proc(10, "big", 0, 4000), proc(11, "chromium", 0, 100),
                          proc(12, "chrome", 0, 200), proc(13, "Xwayland", 0, 50)});
  VictimPolicy p;
  p.kill_order = {*parse_name_pattern("/^chrom/")};
  p.avoid = {*parse_name_pattern("/^X/")};
  EXPECT_EQ(order(p, s), (std::vector<Pid>{12, 11, 10, 13}));
  EXPECT_NE(last_.ranked[0].reason.find("kill_order #1 ('/^chrom/')"), std::string::npos);
}

TEST_F(VictimsTest, RankedByProportionalSetWhenAsked) {
  // Two processes sharing one large mapping each show it all in their resident set; their
  // proportional sets split it, and the one with more of its own memory goes first.
  const auto s =
      snap(0, {proc(10, "parent", 0, 1000), proc(11, "child", 0, 1000), proc(12, "loner", 0, 700)});
  auto detail = [](double pss_mb) {
    OomFacts f;
    f.memory = MemoryDetail{static_cast<std::uint64_t>(pss_mb * kMiB), 0, 0};
    return f;
  };
  std::map<Pid, OomFacts> facts = {{10, detail(520)}, {11, detail(500)}, {12, detail(700)}};
  EXPECT_EQ(order({}, s, facts), (std::vector<Pid>{10, 11, 12}));  // by RSS
  VictimPolicy p;
  p.memory_metric = MemoryMetric::kPss;
  EXPECT_EQ(order(p, s, facts), (std::vector<Pid>{12, 10, 11}));
  EXPECT_NE(last_.ranked[0].reason.find("PSS 700 MiB"), std::string::npos);
}

TEST_F(VictimsTest, KillOrderFirstAvoidLastByNameRuleOrSize) {
  Rule chat;
  chat.name = "chat";
  chat.match.comm = {"telegram"};
  chat.steps = {Step{}};
  chat.steps[0].cpu_percent = 1;
  const auto s =
      snap(0, {proc(10, "big", 0, 4000), proc(11, "telegram", 0, 100), proc(12, "nvim", 0, 500),
               proc(13, "nvim", 0, 2000), proc(14, "brave", 0, 50), proc(15, "Xorg", 0, 9000)});
  VictimPolicy p;
  p.kill_order = {{"brave", std::nullopt}, {"chat", std::nullopt}, {"nvim", 1024.0}};
  p.avoid = {{"Xorg", std::nullopt}};
  EXPECT_EQ(order(p, s, {}, {chat}), (std::vector<Pid>{14, 11, 13, 10, 12, 15}));
  EXPECT_NE(last_.ranked[0].reason.find("kill_order #1 ('brave')"), std::string::npos);
  EXPECT_NE(last_.ranked[2].reason.find("kill_order #3 ('nvim' over 1024 MiB)"), std::string::npos);
  EXPECT_NE(last_.ranked[5].reason.find("avoid list"), std::string::npos);
}

TEST_F(VictimsTest, KillOrderCanNameSlicesAndUnits) {
  const auto s = snap(0, {proc(10, "big", 0, 4000), proc(11, "firefox", 0, 300),
                          proc(12, "steam", 0, 500), proc(13, "postgres", 0, 900)});
  info_.facts[11].placement = proc::parse_placement(
      "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-9.scope\n");
  info_.facts[12].placement =
      proc::parse_placement("0::/user.slice/user-1000.slice/session-2.scope\n");
  info_.facts[13].placement = proc::parse_placement("0::/system.slice/postgresql.service\n");
  VictimPolicy p;
  p.kill_order = {*parse_name_pattern("app-*firefox*.scope"),
                  *parse_name_pattern("user.slice>400")};
  p.avoid = {*parse_name_pattern("postgresql.service")};
  EXPECT_EQ(order(p, s), (std::vector<Pid>{11, 12, 10, 13}));
  EXPECT_NE(last_.ranked[0].reason.find("kill_order #1 ('app-*firefox*.scope')"),
            std::string::npos);
  EXPECT_NE(last_.ranked[1].reason.find("kill_order #2 ('user.slice' over 400 MiB)"),
            std::string::npos);
  EXPECT_NE(last_.ranked[3].reason.find("avoid list ('postgresql.service')"), std::string::npos);
}

TEST_F(VictimsTest, ProtectedAndUnkillableAreExcludedWithTheReason) {
  const auto s = snap(0, {proc(1, "init", 0, 50), proc(20, "sshd", 0, 900),
                          proc(21, "critical", 0, 800), proc(22, "victim", 0, 10)});
  EXPECT_EQ(order({}, s, {{21, {0, -1000}}}, {}, {"sshd"}), (std::vector<Pid>{22}));
  ASSERT_EQ(last_.excluded.size(), 3U);
  EXPECT_EQ(last_.excluded[0].second, "PID 1");
  EXPECT_EQ(last_.excluded[2].second, "oom_score_adj is -1000");
}

TEST_F(VictimsTest, CandidatesLimitTheChoice) {
  const auto s =
      snap(0, {proc(10, "huge", 0, 9000), proc(11, "mine1", 0, 10), proc(12, "mine2", 0, 20)});
  VictimPolicy p;
  Match m;
  m.comm = {"mine1", "mine2"};
  p.candidates = m;
  EXPECT_EQ(order(p, s), (std::vector<Pid>{12, 11}));
}

TEST(PressureConfig, LevelsKillOrderAndTheRustSection) {
  const auto c = config::parse_config(R"(
[pressure]
window = 4
kill_order = ["brave", "nvim>1024"]
avoid = ["Xorg"]
candidates = { comm = ["a", "b"] }
[pressure.warning]
some_avg10 = 5
action = "renice"
nice = 10
[pressure.critical]
mem_available_percent = 3
swap_free_percent = 10
action = "kill"
)",
                                      "t");
  EXPECT_DOUBLE_EQ(c.pressure.window, 4);
  EXPECT_EQ(c.pressure.warning.action.nice, 10);
  EXPECT_FALSE(c.pressure.warning.mem_available_percent);  // a given level replaces the default
  EXPECT_EQ(c.pressure.critical.swap_free_percent, 10.0);
  ASSERT_EQ(c.pressure.victims.kill_order.size(), 2U);
  EXPECT_EQ(c.pressure.victims.kill_order[1].min_rss_mb, 1024.0);
  EXPECT_TRUE(c.pressure.victims.candidates.has_value());
  EXPECT_THROW(config::parse_config("[pressure.critical]\naction = \"kill\"\n", "t"),
               config::ConfigError);
  EXPECT_THROW(config::parse_config("[pressure.critical]\nfull_avg10 = 5\naction = \"throttle\"\n"
                                    "cpu_limit = 5\n",
                                    "t"),
               config::ConfigError);
  EXPECT_THROW(config::parse_config("[pressure]\nkill_order = [\"x>big\"]\n", "t"),
               config::ConfigError);

  const auto rust = config::parse_config(R"(
[memory_pressure]
enabled = true
some_threshold_warning = 12.0
some_threshold_critical = 35.0
full_threshold_warning = 6.0
full_threshold_critical = 18.0
action_warning = "log"
action_critical = "kill"
check_interval_secs = 5
)",
                                         "old");
  EXPECT_EQ(rust.pressure.warning.some_avg10, 12.0);
  EXPECT_EQ(rust.pressure.critical.full_avg10, 18.0);
  EXPECT_EQ(rust.pressure.critical.action.kind, ActionKind::kKill);
  ASSERT_EQ(rust.pressure.victims.kill_order.size(), 4U);
  EXPECT_EQ(rust.pressure.victims.kill_order[2], (NamePattern{"nvim", 1024.0}));
  const auto again = config::parse_config(config::render_config(rust), "converted");
  EXPECT_EQ(again.pressure.victims.kill_order, rust.pressure.victims.kill_order);
  EXPECT_EQ(again.pressure.critical.full_avg10, 18.0);
}

}  // namespace
}  // namespace freezr::engine
