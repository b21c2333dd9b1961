#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace freezr::config {
namespace {

// Expects parse_config(text) to fail at line:column with a message containing `what`.
void expect_error(const std::string& text, unsigned line, unsigned column,
                  const std::string& what) {
  try {
    parse_config(text, "test.toml");
    FAIL() << "no error for:\n" << text;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "test.toml");
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.column(), column) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind(
                  "test.toml:" + std::to_string(line) + ":" + std::to_string(column) + ": ", 0),
              0U)
        << e.what();
  }
}

TEST(DefaultConfig, ReproducesTheSeed) {
  const auto c = default_config();
  EXPECT_EQ(c.source, kEmbeddedSource);
  EXPECT_DOUBLE_EQ(c.monitor.interval, 3.0);
  EXPECT_FALSE(c.monitor.dry_run);
  ASSERT_EQ(c.rules.size(), 2U);
  const auto& kesl = c.rules[0];
  EXPECT_EQ(kesl.name, "kesl");
  EXPECT_DOUBLE_EQ(*kesl.steps[0].cpu_percent, 30.0);
  EXPECT_DOUBLE_EQ(*kesl.steps[0].memory_mb, 600.0);
  EXPECT_EQ(kesl.steps[0].violations, 3);
  EXPECT_EQ(kesl.steps[0].action.kind, engine::ActionKind::kRestart);
  EXPECT_EQ(kesl.steps[0].action.service, "kesl.service");
  EXPECT_DOUBLE_EQ(kesl.steps[0].cooldown, 100.0);
  const auto& node = c.rules[1];
  EXPECT_EQ(node.name, "node");
  EXPECT_DOUBLE_EQ(*node.steps[0].cpu_percent, 80.0);
  EXPECT_EQ(node.steps[0].action.kind, engine::ActionKind::kKill);
  EXPECT_EQ(node.match.exe, (std::vector<std::string>{"node", "nodejs"}));
}

TEST(Config, FullRule) {
  const auto c = parse_config(R"(
[monitor]
interval = 0.5
dry_run = true
kill_grace = 2
[protect]
comm = ["precious"]
defaults = false
[[rule]]
name = "r"
match = { comm = ["a", "b"], exe = ["/usr/bin/a"], cmdline = "x.*y", user = ["root"] }
cpu_percent = 150
memory_mb = 1024
violations = 5
aggregate = "group"
target = "hottest"
action = "kill"
cooldown = 30
enabled = false
)",
                              "t.toml");
  EXPECT_DOUBLE_EQ(c.monitor.interval, 0.5);
  EXPECT_TRUE(c.monitor.dry_run);
  EXPECT_DOUBLE_EQ(c.monitor.kill_grace, 2.0);
  EXPECT_EQ(c.protected_names(), (std::vector<std::string>{"precious"}));
  ASSERT_EQ(c.rules.size(), 1U);
  const auto& r = c.rules[0];
  EXPECT_EQ(r.match.comm.size(), 2U);
  EXPECT_TRUE(r.match.cmdline->search("axxy"));
  EXPECT_EQ(r.match.uids, (std::vector<std::uint32_t>{0}));
  EXPECT_EQ(r.steps[0].violations, 5);
  EXPECT_EQ(r.aggregate, engine::Aggregate::kGroup);
  EXPECT_EQ(r.target, engine::Target::kHottest);
  EXPECT_DOUBLE_EQ(r.steps[0].cooldown, 30.0);
  EXPECT_FALSE(r.enabled);
}

TEST(Config, ServiceGetsItsSuffix) {
  const auto c = parse_config(
      "[[rule]]\nname='k'\nmatch={comm=['k']}\ncpu_percent=1\naction='restart'\nservice='kesl'\n",
      "t");
  EXPECT_EQ(c.rules[0].steps[0].action.service, "kesl.service");
}

TEST(ConfigErrors, SyntaxErrorHasLineAndColumn) {
  expect_error("[monitor]\ninterval = = 3\n", 2, 12, "");
}

TEST(Config, MatchByPlaceReadsRendersAndRestartsWithoutService) {
  const auto c = parse_config(
      "[[rule]]\nname='a'\nmatch={unit='app-*.scope', slice=['user.slice', 'machine*'], "
      "container='docker:3f2a'}\ncpu_percent=50\naction='restart'\naggregate='unit'\n",
      "p");
  EXPECT_EQ(c.rules[0].aggregate, engine::Aggregate::kUnit);
  EXPECT_EQ(
      parse_config("[[rule]]\nname='u'\nmatch={comm=['a']}\ncpu_percent=5\naggregate='user'\n", "u")
          .rules[0]
          .aggregate,
      engine::Aggregate::kUser);
  const auto& m = c.rules[0].match;
  EXPECT_EQ(m.unit, std::vector<std::string>{"app-*.scope"});
  EXPECT_EQ(m.slice, (std::vector<std::string>{"user.slice", "machine*"}));
  EXPECT_EQ(m.container, std::vector<std::string>{"docker:3f2a"});
  EXPECT_EQ(c.rules[0].steps[0].action.service, "");  // the unit of the process, when acting
  const auto again = parse_config(render_config(c), "p2");
  EXPECT_TRUE(engine::same_rule(again.rules[0], c.rules[0]));
  auto other = again.rules[0];
  other.match.slice = {"user.slice"};
  EXPECT_FALSE(engine::same_rule(other, c.rules[0]));
}

TEST(Config, ViolationsWithinAWindow) {
  const auto c = parse_config(
      "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=50\nviolations='3 of 5'\n", "w");
  EXPECT_EQ(c.rules[0].steps[0].violations, 3);
  EXPECT_EQ(c.rules[0].steps[0].window, 5);
  // "N of N" is N in a row; the rendered form reads back the same.
  const auto plain = parse_config(
      "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=50\nviolations='4 of 4'\n", "w");
  EXPECT_EQ(plain.rules[0].steps[0].window, 0);
  EXPECT_TRUE(engine::same_rule(parse_config(render_config(c), "w2").rules[0], c.rules[0]));
  for (const char* bad : {"'3 of 2'", "'0 of 5'", "'3 of 65'", "'3of'", "'3 of 5 scans'", "''"}) {
    expect_error(std::string("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\nviolations=") +
                     bad + "\n",
                 5, 12, "\"N of M\"");
  }
}

TEST(Config, ReniceLevers) {
  const auto c = parse_config(
      "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=50\naction='renice'\n"
      "sched='idle'\ncpus='0-1,3'\noom_score_adj=500\n",
      "l");
  const auto& a = c.rules[0].steps[0].action;
  EXPECT_EQ(a.sched, engine::SchedClass::kIdle);
  EXPECT_EQ(a.cpus, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(a.oom_score_adj, 500);
  EXPECT_TRUE(engine::same_rule(parse_config(render_config(c), "l2").rules[0], c.rules[0]));
  const std::string head = "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\n";
  expect_error(head + "action='renice'\ncpus='2-1'\n", 6, 6, "CPU list");
  expect_error(head + "action='renice'\noom_score_adj=1001\n", 6, 15, "between -1000");
  expect_error(head + "action='renice'\nsched='fifo'\n", 6, 7, "must be one of");
  expect_error(head + "action='kill'\nsched='idle'\n", 6, 7, "only used with action");
}

TEST(Config, MoreRuleInputs) {
  const auto c = parse_config(
      "[[rule]]\nname='a'\nmatch={comm=['a']}\nmemory_metric='pss'\n"
      "steps=[{io_write_mbps=20, cpu_pressure=40, action='log'},"
      "{memory_mb=500, io_pressure=10, memory_pressure=5, action='log'}]\n"
      "[[rule]]\nname='b'\nmatch={comm=['b']}\ncpu_pressure=30\naction='log'\n"
      "[pressure]\nmemory_metric='swap'\nkill_order=['/^chrom/>100']\n",
      "m");
  const auto& r = c.rules[0];
  EXPECT_EQ(r.memory_metric, engine::MemoryMetric::kPss);
  EXPECT_EQ(r.steps[0].io_write_mbps, 20);
  EXPECT_EQ(r.steps[0].cpu_pressure, 40);
  EXPECT_EQ(r.steps[1].memory_pressure, 5);
  EXPECT_TRUE(r.uses_io());
  EXPECT_TRUE(c.rules[1].steps[0].gated());
  EXPECT_EQ(c.pressure.victims.memory_metric, engine::MemoryMetric::kSwap);
  ASSERT_TRUE(c.pressure.victims.kill_order[0].regex);
  const auto again = parse_config(render_config(c), "m2");
  EXPECT_TRUE(engine::same_rule(again.rules[0], r));
  EXPECT_TRUE(engine::same_rule(again.rules[1], c.rules[1]));
  EXPECT_EQ(again.pressure.victims.kill_order, c.pressure.victims.kill_order);
  EXPECT_EQ(again.pressure.victims.memory_metric, engine::MemoryMetric::kSwap);
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_pressure=101\n", 4, 14, "between 0");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\nmemory_metric='vss'\ncpu_percent=1\n", 4,
               15, "must be one of");
  expect_error("[pressure]\nkill_order=['/(/']\n", 2, 12, "regular expression");
}

TEST(ConfigErrors, UnknownKeys) {
  expect_error("[monitor]\ninterval = 3\ncheck_interval_ms = 100\n", 3, 1,
               "unknown key 'check_interval_ms'");
  expect_error("[bogus]\nx = 1\n", 1, 2, "unknown key 'bogus'");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a'], nmae='x'}\ncpu_percent=1\n", 3, 20,
               "unknown key 'nmae'");
}

TEST(ConfigErrors, WrongTypes) {
  expect_error("[monitor]\ninterval = \"3\"\n", 2, 12, "expected a number");
  expect_error("[monitor]\ndry_run = 1\n", 2, 11, "expected true or false");
  expect_error("[[rule]]\nname='a'\nmatch={comm='a'}\ncpu_percent=1\n", 3, 13,
               "expected a list of strings");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=1\nviolations=2.5\n", 5, 12,
               "expected an integer");
  expect_error("rule = 3\n", 1, 8, "array of tables");
}

TEST(ConfigErrors, ImpossibleValues) {
  expect_error("[monitor]\ninterval = 0.05\n", 2, 12, "between 0.1 and");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=-5\n", 4, 13, "between 0");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\nviolations=0\n", 5, 12,
               "between 1");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\naction='explode'\n", 5, 8,
               "must be one of");
  expect_error("[[rule]]\nname='a'\nmatch={unit='kesl'}\ncpu_percent=5\n", 3, 13,
               "write it with its suffix (\"kesl.service\"");
  expect_error("[[rule]]\nname='a'\nmatch={slice='user'}\ncpu_percent=5\n", 3, 14,
               "not a slice name");
  expect_error("[[rule]]\nname='a'\nmatch={container=''}\ncpu_percent=5\n", 3, 18,
               "an empty container matches nothing");
  expect_error("[[rule]]\nname='a'\nmatch={unit=3}\ncpu_percent=5\n", 3, 13, "");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\nservice='x'\n", 5, 9,
               "only used with action");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['averyveryverylongname']}\ncpu_percent=5\n", 3, 13,
               "longer than 15");
  expect_error("[[rule]]\nname='a'\nmatch={user=['no-such-user-xyz']}\ncpu_percent=5\n", 3, 13,
               "no such user");
  expect_error("[[rule]]\nname='a'\nmatch={}\ncpu_percent=5\n", 3, 7, "at least one of");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\n", 1, 1, "cpu_percent, memory_mb");
  expect_error("[[rule]]\nmatch={comm=['a']}\ncpu_percent=1\n", 1, 1, "'name' is required");
  expect_error(
      "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=1\n"
      "[[rule]]\nname='a'\nmatch={comm=['b']}\ncpu_percent=1\n",
      5, 1, "duplicate name");
}

TEST(ConfigErrors, BadRegex) {
  expect_error("[[rule]]\nname='a'\nmatch={cmdline='(unclosed'}\ncpu_percent=5\n", 3, 16,
               "invalid regular expression");
  expect_error("[[rule]]\nname='a'\nmatch={cmdline='(.*)(.*)\\2c'}\ncpu_percent=5\n", 3, 16,
               "back-references are not supported");
  expect_error("[[rule]]\nname='a'\nmatch={cmdline=''}\ncpu_percent=5\n", 3, 16,
               "an empty pattern matches everything");
  expect_error("[[rule]]\nname='a'\nmatch={cmdline=\"\\u0000x\"}\ncpu_percent=5\n", 3, 16,
               "a NUL character");
  expect_error("[[rule]]\nname='a'\nmatch={cmdline='((((a{50}){50}){50}){50})'}\ncpu_percent=5\n",
               3, 16, "invalid regular expression");
}

TEST(ConfigErrors, UnreadableFile) {
  try {
    load_config("/nonexistent/freezr.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 0U);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/freezr.toml"), std::string::npos);
  }
}

constexpr const char* kRustConfig = R"(# config/examples/config.toml of the Rust FreezR
[kesl]
cpu_threshold = 25.0
memory_threshold_mb = 500
max_violations = 4
service_name = "kesl"
enabled = true

[node]
cpu_threshold = 70.0
enabled = true
auto_kill = true
confirm_kill = false

[logging]
log_dir = "./logs"
kesl_log = "kesl-monitor.log"
node_log = "node-monitor.log"
actions_log = "actions.log"
max_file_size_mb = 10
rotate_count = 5

[monitoring]
check_interval_secs = 5
min_restart_interval_secs = 120
)";

TEST(LegacyConfig, RustFormatIsTranslatedIntoRules) {
  const auto c = parse_config(kRustConfig, "old.toml");
  EXPECT_TRUE(c.legacy);
  EXPECT_DOUBLE_EQ(c.monitor.interval, 5.0);
  EXPECT_EQ(c.logging.dir, "./logs");
  // kesl and node as written; snap, firefox, brave and telegram absent: the Rust defaults.
  ASSERT_EQ(c.rules.size(), 6U);
  EXPECT_EQ(c.rules[0].name, "kesl");
  EXPECT_DOUBLE_EQ(*c.rules[0].steps[0].cpu_percent, 25.0);
  EXPECT_DOUBLE_EQ(*c.rules[0].steps[0].memory_mb, 500.0);
  EXPECT_EQ(c.rules[0].steps[0].violations, 4);
  EXPECT_EQ(c.rules[0].steps[0].action.service, "kesl.service");
  EXPECT_DOUBLE_EQ(c.rules[0].steps[0].cooldown, 120.0);  // min_restart_interval_secs is honoured
  EXPECT_EQ(c.rules[1].steps[0].action.kind, engine::ActionKind::kKill);
  EXPECT_DOUBLE_EQ(*c.rules[1].steps[0].cpu_percent, 70.0);
  EXPECT_FALSE(c.notes.empty());
}

TEST(LegacyConfig, AbsentOptionalSectionsGetTheRustDefaultsWithANoteEach) {
  const auto c = parse_config(kRustConfig, "old.toml");
  std::vector<std::string> names;
  for (const auto& r : c.rules) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"kesl", "node", "snap", "firefox", "brave", "telegram"}));
  const auto& snap = c.rules[2].steps.at(0);
  EXPECT_DOUBLE_EQ(*snap.cpu_percent, 300);
  EXPECT_EQ(snap.action.kind, engine::ActionKind::kRenice);
  EXPECT_EQ(snap.action.nice, 15);
  const auto& brave = c.rules[4];
  ASSERT_EQ(brave.steps.size(), 2U);
  EXPECT_EQ(brave.steps[0].action.kind, engine::ActionKind::kFreeze);
  EXPECT_DOUBLE_EQ(*brave.steps[0].cpu_percent, 80);
  EXPECT_EQ(brave.steps[1].action.kind, engine::ActionKind::kKill);
  // Memory pressure as the Rust FreezR had it: critical freezes, not FreezR's kill.
  EXPECT_EQ(c.pressure.critical.action.kind, engine::ActionKind::kFreeze);
  EXPECT_DOUBLE_EQ(*c.pressure.critical.some_avg10, 30);
  for (const char* section : {"[snap] absent", "[firefox] absent", "[brave] absent",
                              "[telegram] absent", "[memory_pressure] absent"}) {
    EXPECT_TRUE(std::any_of(c.notes.begin(), c.notes.end(), [&](const std::string& n) {
      return n.rfind(section, 0) == 0 && n.find("enabled = false") != std::string::npos;
    })) << section;
  }
  // Written, a section is what it says; FreezR's own format gets none of this.
  const auto off = parse_config("[kesl]\n[snap]\nenabled = false\n", "old.toml");
  EXPECT_FALSE(off.rules[1].enabled);
  // A [[rule]] of one of those names stands in for its default.
  const auto mine = parse_config(
      "[kesl]\n[[rule]]\nname = \"brave\"\nmatch = { comm = [\"brave\"] }\ncpu_percent = 300\n",
      "mixed.toml");
  EXPECT_EQ(std::count_if(mine.rules.begin(), mine.rules.end(),
                          [](const engine::Rule& r) { return r.name == "brave"; }),
            1);
  EXPECT_EQ(default_config().rules.size(), 2U);
  EXPECT_EQ(default_config().pressure.critical.action.kind, engine::ActionKind::kKill);
}

TEST(LegacyConfig, DisabledAndNoAutoKillAreHonoured) {
  const auto c = parse_config("[kesl]\nenabled = false\n[node]\nauto_kill = false\n", "old");
  EXPECT_FALSE(c.rules[0].enabled);
  EXPECT_EQ(c.rules[1].steps[0].action.kind, engine::ActionKind::kLog);
}

TEST(LegacyConfig, ValidatedLikeTheRest) {
  expect_error("[kesl]\ncpu_threshold = 150\n", 2, 17, "between 0 and 100");
  expect_error("[node]\ncpu_treshold = 50\n", 2, 1, "unknown key 'cpu_treshold'");
  expect_error("[cgroups]\nstrategy = \"random\"\n", 2, 12, "must be one of");
  expect_error("[nvim]\nmemory_threshold_mb = \"big\"\n", 2, 23, "expected an integer");
  expect_error("[firefox]\ncpu_threshold_freeze = 90\ncpu_threshold_kill = 80\n", 1, 1,
               "cpu_threshold_kill must be above cpu_threshold_freeze");
  expect_error("[snap]\naction = \"explode\"\n", 2, 10, "must be one of");
}

TEST(LegacyConfig, CgroupsAndNvimOfTheRustFormatLoad) {
  // What the Rust FreezR's generate-config writes, and the [nvim] its README documents.
  const auto c = parse_config(R"(
[memory_pressure]
enabled = true
[cgroups]
enabled = false
root_path = "/sys/fs/cgroup/freezr.slice"
strategy = "hybrid"
auto_cleanup_on_stop = true
restore_processes_on_stop = true
[[cgroups.static_groups]]
name = "browsers"
process_patterns = ["firefox", "brave"]
cpu_limit_percent = 200.0
memory_max_mb = 4096
memory_high_mb = 3072
[cgroups.dynamic_settings]
max_dynamic_cgroups = 50
cleanup_timeout_secs = 300
default_cpu_limit = 50.0
default_memory_limit_mb = 1024
[nvim]
enabled = true
memory_threshold_mb = 2048
)",
                              "old");
  EXPECT_TRUE(c.legacy);
  std::vector<std::string> order;
  for (const auto& p : c.pressure.victims.kill_order) order.push_back(p.name);
  EXPECT_EQ(order, (std::vector<std::string>{"brave", "telegram-deskto", "nvim", "firefox"}));
  EXPECT_DOUBLE_EQ(*c.pressure.victims.kill_order[2].min_rss_mb, 2048);
  auto noted = [&](const std::string& what) {
    return std::any_of(c.notes.begin(), c.notes.end(),
                       [&](const std::string& n) { return n.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(noted("[cgroups] does nothing"));
  EXPECT_TRUE(noted("[nvim] memory_threshold_mb = 2048"));
  // nvim off: not first any more.
  const auto off = parse_config("[memory_pressure]\n[nvim]\nenabled = false\n", "old");
  for (const auto& p : off.pressure.victims.kill_order) EXPECT_NE(p.name, "nvim");
}

TEST(LegacyConfig, SnapAndTwoTierSectionsBecomeLadders) {
  const auto c = parse_config(R"(
[snap]
cpu_threshold = 250.0
action = "nice"
nice_level = 12
max_violations = 2
[firefox]
cpu_threshold_freeze = 70.0
cpu_threshold_kill = 90.0
freeze_duration_secs = 4
max_violations_freeze = 2
max_violations_kill = 3
[telegram]
enabled = false
)",
                              "old.toml");
  ASSERT_EQ(c.rules.size(), 3U);
  const auto& snap = c.rules[0];
  ASSERT_EQ(snap.steps.size(), 1U);
  EXPECT_EQ(snap.steps[0].action.kind, engine::ActionKind::kRenice);
  EXPECT_EQ(snap.steps[0].action.nice, 12);
  EXPECT_EQ(snap.steps[0].violations, 2);
  const auto& ff = c.rules[1];
  EXPECT_EQ(ff.name, "firefox");
  ASSERT_EQ(ff.steps.size(), 2U);
  EXPECT_EQ(ff.steps[0].action.kind, engine::ActionKind::kFreeze);
  EXPECT_DOUBLE_EQ(ff.steps[0].action.duration, 4.0);
  EXPECT_DOUBLE_EQ(*ff.steps[0].cpu_percent, 70.0);
  EXPECT_EQ(ff.steps[1].action.kind, engine::ActionKind::kKill);
  EXPECT_EQ(ff.steps[1].violations, 3);
  EXPECT_FALSE(c.rules[2].enabled);
  // The translation renders as FreezR rules and reads back the same.
  const auto again = parse_config(render_config(c), "converted.toml");
  ASSERT_EQ(again.rules.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(engine::same_rule(again.rules[i], c.rules[i]));
}

TEST(Config, LadderStepsAndActionParameters) {
  const auto c = parse_config(R"(
[[rule]]
name = "browser"
match = { comm = ["browser"] }
aggregate = "group"
target = "hottest"
scope = "tree"
max_actions = 4
per_minutes = 10
steps = [
  { cpu_percent = 60, violations = 2, action = "renice", nice = 10, ionice = "idle" },
  { cpu_percent = 80, violations = 3, action = "freeze", duration = 5, cooldown = 30 },
  { cpu_percent = 80, violations = 3, action = "throttle", cpu_limit = 50 },
  { cpu_percent = 95, memory_mb = 4096, violations = 3, action = "kill" },
]
)",
                              "t");
  const auto& r = c.rules[0];
  ASSERT_EQ(r.steps.size(), 4U);
  EXPECT_EQ(r.steps[0].action.nice, 10);
  EXPECT_EQ(r.steps[0].action.ionice->io_class, 3);
  EXPECT_DOUBLE_EQ(r.steps[1].action.duration, 5.0);
  EXPECT_DOUBLE_EQ(r.steps[1].cooldown, 30.0);
  EXPECT_DOUBLE_EQ(r.steps[2].action.cpu_limit, 50.0);
  EXPECT_EQ(r.scope, engine::Scope::kTree);
  EXPECT_EQ(r.max_actions, 4);
  EXPECT_DOUBLE_EQ(r.per_seconds, 600.0);
  EXPECT_TRUE(engine::same_rule(parse_config(render_config(c), "t2").rules[0], r));
}

TEST(ConfigErrors, ActionParameters) {
  const std::string head = "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\n";
  expect_error(head + "action='renice'\n", 1, 1, "needs at least one of nice, ionice, sched, cpus");
  expect_error(head + "action='renice'\nnice=25\n", 6, 6, "between -20 and 19");
  expect_error(head + "action='renice'\nionice='lazy'\n", 6, 8, "must be \"idle\"");
  expect_error(head + "action='throttle'\n", 1, 1, "needs cpu_limit");
  expect_error(head + "action='kill'\nduration=5\n", 6, 10, "only used with action = \"freeze\"");
  expect_error(head + "action='freeze'\nduration=0\n", 6, 10, "between 0.1");
  expect_error(head + "max_actions=3\n", 1, 1, "max_actions and per_minutes go together");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\nsteps=[]\n", 4, 7, "non-empty list");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\nsteps=[{cpu_percent=1}]\n",
               4, 13, "belongs inside each of the steps");
  expect_error("[[rule]]\nname='a'\nmatch={comm=['a']}\nsteps=[{cpu_percent=1, nope=2}]\n", 4, 24,
               "unknown key 'nope'");
}

TEST(Config, ExecActionAndHooks) {
  const auto c = parse_config(R"(
[[rule]]
name = "report"
match = { comm = ["worker"] }
[[rule.steps]]
cpu_percent = 60
violations = 2
action = "exec"
command = ["/usr/local/bin/tell", "a b"]
timeout = 3
user = "nobody"
[[rule.steps]]
cpu_percent = 90
action = "kill"
before = ["dump-state"]
after = ["echo $FREEZR_OK"]
shell = true
)",
                              "t");
  const auto& s = c.rules[0].steps;
  EXPECT_EQ(s[0].action.kind, engine::ActionKind::kExec);
  EXPECT_EQ(s[0].action.command.argv, (std::vector<std::string>{"/usr/local/bin/tell", "a b"}));
  EXPECT_DOUBLE_EQ(s[0].action.command.timeout, 3.0);
  EXPECT_EQ(s[0].action.command.user, "nobody");
  EXPECT_TRUE(s[0].action.command.uid.has_value());
  ASSERT_TRUE(s[1].action.before && s[1].action.after);
  EXPECT_EQ(s[1].action.before->argv, (std::vector<std::string>{"dump-state"}));
  EXPECT_TRUE(s[1].action.after->shell);
  EXPECT_EQ(engine::command_line(s[0].action.command), "/usr/local/bin/tell 'a b'");
  EXPECT_TRUE(engine::same_rule(parse_config(render_config(c), "t2").rules[0], c.rules[0]));
}

TEST(ConfigErrors, ExecAndHooks) {
  const std::string head = "[[rule]]\nname='a'\nmatch={comm=['a']}\ncpu_percent=5\n";
  expect_error(head + "action='exec'\n", 1, 1, "needs command = [");
  expect_error(head + "action='kill'\ncommand=['x']\n", 6, 9, "only used with action = \"exec\"");
  expect_error(head + "action='exec'\ncommand=[]\n", 6, 9, "give the program and its arguments");
  expect_error(head + "action='exec'\ncommand=['x']\nuser='fz-no-such-user'\n", 7, 6,
               "no such user 'fz-no-such-user'");
  expect_error(head + "action='exec'\ncommand=['a', 'b']\nshell=true\n", 6, 9,
               "with shell = true, give one string");
  expect_error(head + "action='kill'\ntimeout=3\n", 6, 9, "only used with action = \"exec\" or");
  expect_error(head + "action='exec'\ncommand=['x']\ntimeout=0\n", 7, 9, "between 0.1");
  expect_error("[pressure.critical]\nsome_avg10=40\naction='exec'\ncommand=['x']\n", 3, 8,
               "must be log, renice, freeze or kill");
  expect_error("[pressure.critical]\nsome_avg10=40\naction='kill'\nbefore=['x']\n", 4, 8,
               "a pressure level acts at once");
}

TEST(LegacyConfig, ConvertOutputParsesToTheSameRules) {
  const auto c = parse_config(kRustConfig, "old.toml");
  const auto text = render_config(c);
  const auto again = parse_config(text, "converted.toml");
  EXPECT_FALSE(again.legacy);
  ASSERT_EQ(again.rules.size(), c.rules.size());
  for (std::size_t i = 0; i < c.rules.size(); ++i) {
    EXPECT_EQ(again.rules[i].name, c.rules[i].name);
    EXPECT_EQ(again.rules[i].steps[0].cpu_percent, c.rules[i].steps[0].cpu_percent);
    EXPECT_EQ(again.rules[i].steps[0].memory_mb, c.rules[i].steps[0].memory_mb);
    EXPECT_EQ(again.rules[i].steps[0].violations, c.rules[i].steps[0].violations);
    EXPECT_EQ(again.rules[i].steps[0].action.kind, c.rules[i].steps[0].action.kind);
    EXPECT_EQ(again.rules[i].steps[0].action.service, c.rules[i].steps[0].action.service);
    EXPECT_EQ(again.rules[i].steps[0].cooldown, c.rules[i].steps[0].cooldown);
    EXPECT_EQ(again.rules[i].match.exe, c.rules[i].match.exe);
  }
  EXPECT_DOUBLE_EQ(again.monitor.interval, 5.0);
  EXPECT_EQ(again.logging.dir, "./logs");
}

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(FREEZR_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every shape of the Rust FreezR's configuration — what its generate-config writes, its
// examples, each section alone — loads, and `config convert` writes a FreezR configuration that
// reads back as the same rules, the same pressure levels and the same kill order.
TEST(LegacyConfig, EveryRustShapeLoadsConvertsAndReadsBackTheSame) {
  std::vector<std::pair<std::string, std::string>> shapes = {
      {"generated default", source_file("tests/fixtures/rust/generated-default.toml")},
      {"README example", source_file("tests/fixtures/rust/readme-example.toml")},
      {"config/examples/config.toml", kRustConfig}};
  for (const char* section : {"kesl", "node", "snap", "firefox", "brave", "telegram",
                              "memory_pressure", "monitoring", "logging", "cgroups", "nvim"}) {
    shapes.emplace_back(std::string("[") + section + "] alone", std::string("[") + section + "]\n");
  }
  for (const auto& [what, text] : shapes) {
    SCOPED_TRACE(what);
    const auto c = parse_config(text, what);
    const auto again = parse_config(render_config(c), "converted.toml");
    EXPECT_FALSE(again.legacy);
    ASSERT_EQ(again.rules.size(), c.rules.size());
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
      EXPECT_TRUE(engine::same_rule(again.rules[i], c.rules[i])) << c.rules[i].name;
    }
    EXPECT_EQ(again.pressure.enabled, c.pressure.enabled);
    EXPECT_EQ(again.pressure.warning.action.kind, c.pressure.warning.action.kind);
    EXPECT_EQ(again.pressure.critical.action.kind, c.pressure.critical.action.kind);
    EXPECT_EQ(again.pressure.critical.some_avg10, c.pressure.critical.some_avg10);
    EXPECT_EQ(again.pressure.critical.full_avg10, c.pressure.critical.full_avg10);
    ASSERT_EQ(again.pressure.victims.kill_order.size(), c.pressure.victims.kill_order.size());
    for (std::size_t i = 0; i < c.pressure.victims.kill_order.size(); ++i) {
      EXPECT_EQ(again.pressure.victims.kill_order[i].name, c.pressure.victims.kill_order[i].name);
      EXPECT_EQ(again.pressure.victims.kill_order[i].min_rss_mb,
                c.pressure.victims.kill_order[i].min_rss_mb);
    }
    EXPECT_DOUBLE_EQ(again.monitor.interval, c.monitor.interval);
  }
  // The generated default is all of the Rust FreezR's policies, as it ran them.
  const auto generated = parse_config(shapes[0].second, "generated");
  std::vector<std::string> names;
  for (const auto& r : generated.rules) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"kesl", "node", "snap", "firefox", "brave", "telegram"}));
  EXPECT_EQ(generated.pressure.critical.action.kind, engine::ActionKind::kFreeze);
  EXPECT_DOUBLE_EQ(generated.monitor.interval, 3.0);
  EXPECT_DOUBLE_EQ(generated.rules[0].steps[0].cooldown, 100.0);
}

// One note for each place where FreezR will act differently from the Rust FreezR.
TEST(LegacyConfig, EachDifferenceInBehaviourHasItsNote) {
  const auto c = parse_config(source_file("tests/fixtures/rust/generated-default.toml"), "gen");
  auto noted = [&](const std::string& start, const std::string& what) {
    return std::any_of(c.notes.begin(), c.notes.end(), [&](const std::string& n) {
      return n.rfind(start, 0) == 0 && n.find(what) != std::string::npos;
    });
  };
  EXPECT_TRUE(noted("[kesl]:", "every KESL process counts"));
  EXPECT_TRUE(noted("[node]:", "waits for 3 consecutive violating scans"));
  EXPECT_TRUE(noted("[snap]:", "judged on its own"));
  for (const char* app : {"[firefox]:", "[brave]:", "[telegram]:"}) {
    EXPECT_TRUE(noted(app, "only after the freeze has acted")) << app;
  }
  EXPECT_TRUE(noted("[memory_pressure] action_critical", "frozen for 5 s"));
  EXPECT_TRUE(noted("[memory_pressure]:", "then every other process by memory"));
  EXPECT_TRUE(noted("[cgroups]", "does nothing"));
  // The converted file says them all, as comments.
  const auto text = render_config(c);
  for (const auto& n : c.notes) EXPECT_NE(text.find(n.substr(0, 40)), std::string::npos) << n;
}

TEST(Config, RenderQuotesHostileStrings) {
  const auto c = parse_config(
      "[[rule]]\nname = 'we\"ird\\\\'\nmatch = { cmdline = 'a\"b' }\ncpu_percent = 1\n", "t");
  const auto again = parse_config(render_config(c), "t2");
  EXPECT_EQ(again.rules[0].name, c.rules[0].name);
  EXPECT_EQ(again.rules[0].match.cmdline->pattern(), "a\"b");
}

// A scratch directory holding config.toml and conf.d/.
struct ConfDir {
  std::string root = [] {
    char tmpl[] = "/tmp/freezr-confd-XXXXXX";
    return std::string(::mkdtemp(tmpl));
  }();
  ConfDir() { std::filesystem::create_directory(root + "/conf.d"); }
  ~ConfDir() { std::filesystem::remove_all(root); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(root + "/" + name) << text;
  }
  [[nodiscard]] std::string main() const { return root + "/config.toml"; }
};

TEST(ConfD, PiecesMergeInNameOrderAddingRulesAndOverridingKeys) {
  ConfDir d;
  d.write("config.toml", std::string(default_config_text()));
  d.write("conf.d/20-later.toml", "[monitor]\ninterval = 2.5\n");
  d.write("conf.d/10-local.toml",
          "[monitor]\ninterval = 1.5\nkill_grace = 9\n"
          "[[rule]]\nname = \"node\"\nenabled = false\n"
          "[[rule]]\nname = \"extra\"\nmatch = { comm = [\"zz-extra\"] }\ncpu_percent = 50\n");
  d.write("conf.d/README", "not toml, not read");
  d.write("conf.d/.hidden.toml", "this = is not read");
  const auto c = load_config(d.main());
  EXPECT_DOUBLE_EQ(c.monitor.interval, 2.5);  // 20-later comes after 10-local
  EXPECT_DOUBLE_EQ(c.monitor.kill_grace, 9);  // kept from 10-local
  ASSERT_EQ(c.rules.size(), 3U);
  EXPECT_EQ(c.rules[1].name, "node");
  EXPECT_FALSE(c.rules[1].enabled);  // the shipped rule, turned off by one key
  EXPECT_DOUBLE_EQ(*c.rules[1].steps[0].cpu_percent, 80.0);  // the rest of it kept
  EXPECT_EQ(c.rules[2].name, "extra");
  EXPECT_EQ(c.pieces, (std::vector<std::string>{d.root + "/conf.d/10-local.toml",
                                                d.root + "/conf.d/20-later.toml"}));
}

TEST(ConfD, AnErrorInAPieceNamesThatFileLineAndColumn) {
  ConfDir d;
  d.write("config.toml", "[monitor]\ninterval = 1.0\n");
  d.write("conf.d/50-bad.toml", "\n[monitor]\n  bogus = 1\n");
  try {
    load_config(d.main());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), d.root + "/conf.d/50-bad.toml");
    EXPECT_EQ(e.line(), 3U);
    EXPECT_EQ(e.column(), 3U);
  }
  d.write("conf.d/50-bad.toml", "[monitor\n");
  try {
    load_config(d.main());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), d.root + "/conf.d/50-bad.toml");
    EXPECT_EQ(e.line(), 1U);
  }
}

// Every ```toml block in the README must parse (a conf.d piece, merged over the default): the
// Rust FreezR's own examples did not.
// The ```toml blocks of a Markdown file of the source tree.
std::vector<std::string> toml_blocks(const std::string& relative) {
  const std::string text = source_file(relative);
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = text.find("```toml\n", pos)) != std::string::npos) {
    pos += 8;
    const auto end = text.find("```", pos);
    EXPECT_NE(end, std::string::npos) << relative;
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 3;
  }
  return out;
}

// Loads a documentation block: a conf.d piece (it starts with its path) merged over the
// embedded default, else a whole configuration.
Config load_block(const std::string& block, const std::string& source) {
  const std::string piece = "# /etc/freezr/conf.d/";
  if (block.rfind(piece, 0) != 0) return parse_config(block, source);
  ConfDir d;
  d.write("config.toml", std::string(default_config_text()));
  d.write("conf.d/" + block.substr(piece.size(), block.find('\n') - piece.size()), block);
  return load_config(d.main());
}

TEST(Docs, EveryTomlExampleInTheReadmeParses) {
  const auto blocks = toml_blocks("README.md");
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_NO_THROW(load_block(blocks[i], "README.md block " + std::to_string(i + 1))) << blocks[i];
  }
  EXPECT_GE(blocks.size(), 3U);
}

TEST(Docs, EveryTomlExampleInTheGuideParses) {
  int blocks = 0;
  const std::filesystem::path source(FREEZR_SOURCE_DIR);
  for (const auto& e : std::filesystem::recursive_directory_iterator(source / "docs/guide")) {
    if (e.path().extension() != ".md") continue;
    const auto name = std::filesystem::relative(e.path(), source).string();
    for (auto block : toml_blocks(name)) {
      ++blocks;
      // The users of the guide's examples are not on this machine (a user FreezR cannot find
      // is a configuration error): root stands in for them.
      for (const char* user : {"\"alice\"", "\"bob\"", "\"gamer\""}) {
        for (auto at = block.find(user); at != std::string::npos; at = block.find(user)) {
          block.replace(at, std::strlen(user), "\"root\"");
        }
      }
      EXPECT_NO_THROW(load_block(block, name)) << block;
    }
  }
  EXPECT_GE(blocks, 19);  // the fifteen scenarios among them
}

// What the migration page promises of its Rust configuration.
TEST(Docs, TheGuidesRustConfigurationLoadsAsItSays) {
  const auto blocks = toml_blocks("docs/guide/migrating-from-rust-freezr.md");
  ASSERT_EQ(blocks.size(), 1U);
  const auto c = load_block(blocks[0], "guide");
  std::vector<std::string> names;
  for (const auto& r : c.rules) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"kesl", "node", "snap", "firefox", "brave", "telegram"}));
  EXPECT_EQ(c.pressure.critical.action.kind, engine::ActionKind::kFreeze);
  EXPECT_EQ(c.logging.dir, "/var/log/freezr");
  EXPECT_DOUBLE_EQ(c.rules[0].steps[0].cooldown, 100);
}

TEST(PressureOf, GatesReadTheSystemsPressureOrTheCgroupsAndNothingElseTakesIt) {
  const auto c = parse_config(
      "[[rule]]\nname = \"t\"\nmatch = { comm = [\"w\"] }\nmemory_pressure = 30\n"
      "pressure_of = \"cgroup\"\n",
      "test.toml");
  EXPECT_EQ(c.rules[0].pressure_of, engine::PressureScope::kCgroup);
  EXPECT_TRUE(c.rules[0].uses_cgroup_pressure());
  const auto back = parse_config(render_config(c), "rendered.toml");
  EXPECT_EQ(back.rules[0].pressure_of, engine::PressureScope::kCgroup);
  expect_error(
      "[[rule]]\nname = \"t\"\nmatch = { comm = [\"w\"] }\ncpu_percent = 30\n"
      "pressure_of = \"cgroup\"\n",
      5, 15, "only used with cpu_pressure, io_pressure or memory_pressure");
  expect_error(
      "[[rule]]\nname = \"t\"\nmatch = { comm = [\"w\"] }\ncpu_pressure = 30\n"
      "pressure_of = \"mine\"\n",
      5, 15, "pressure_of");
}

}  // namespace
}  // namespace freezr::config
