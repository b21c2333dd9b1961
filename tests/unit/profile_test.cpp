// Profiles: reading [profile.NAME], applying one, choosing one, and what the API, the metrics
// and the terminal dashboard show of them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "config/config.h"
#include "config/profile_choice.h"
#include "proc/power_supply.h"
#include "serve/metrics.h"
#include "serve/routes.h"
#include "serve/status.h"
#include "ui/dashboard_model.h"

namespace freezr {
namespace {

const std::string kBase = R"(
[monitor]
interval = 2

[[rule]]
name = "builder"
match = { comm = ["fzbuilder"] }
cpu_percent = 50
action = "log"

[[rule]]
name = "chat"
match = { comm = ["fzchat"] }
memory_mb = 500
action = "kill"
enabled = false
)";

const std::string kProfiles = R"(
[profile.gaming]
description = "a game runs: the builder is left alone, the chat watched"
priority = 5
disable = ["builder"]
enable = ["chat"]
[profile.gaming.when]
running = { comm = ["fzgame"] }

[profile.battery]
[profile.battery.monitor]
interval = 10
[[profile.battery.rule]]
name = "builder"
cpu_percent = 20
[[profile.battery.rule]]
name = "extra"
match = { comm = ["fzextra"] }
cpu_percent = 5
action = "log"
[profile.battery.when]
on_battery = true

[profile.manual]
[profile.manual.pressure]
enabled = false
)";

config::Config load(const std::string& text) { return config::parse_config(text, "test.toml"); }

const engine::Rule& rule(const config::Config& c, const std::string& name) {
  for (const auto& r : c.rules) {
    if (r.name == name) return r;
  }
  throw std::runtime_error("no rule " + name);
}

TEST(Profiles, AreReadWithTheirConditions) {
  const auto c = load(kBase + kProfiles);
  ASSERT_EQ(c.profiles.size(), 3U);
  const auto* gaming = config::find_profile(c, "gaming");
  ASSERT_NE(gaming, nullptr);
  EXPECT_EQ(gaming->priority, 5);
  EXPECT_EQ(gaming->disable, std::vector<std::string>{"builder"});
  ASSERT_TRUE(gaming->running);
  EXPECT_EQ(gaming->running->comm, std::vector<std::string>{"fzgame"});
  EXPECT_FALSE(gaming->on_battery);
  EXPECT_TRUE(config::find_profile(c, "battery")->on_battery.value_or(false));
  EXPECT_FALSE(config::find_profile(c, "manual")->automatic());
  EXPECT_EQ(c.profile, "");
  // The configuration as loaded has no profile applied.
  EXPECT_TRUE(rule(c, "builder").enabled);
  EXPECT_FALSE(rule(c, "chat").enabled);
  EXPECT_EQ(c.rules.size(), 2U);
}

TEST(Profiles, AppliedTurnRulesOffAndOnAndOverrideSections) {
  const auto base = load(kBase + kProfiles);
  const auto gaming = config::with_profile(base, "gaming");
  EXPECT_EQ(gaming.profile, "gaming");
  EXPECT_FALSE(rule(gaming, "builder").enabled);
  EXPECT_TRUE(rule(gaming, "chat").enabled);
  EXPECT_DOUBLE_EQ(gaming.monitor.interval, 2);

  const auto battery = config::with_profile(base, "battery");
  EXPECT_DOUBLE_EQ(battery.monitor.interval, 10);
  EXPECT_DOUBLE_EQ(*rule(battery, "builder").steps[0].cpu_percent, 20);
  EXPECT_EQ(rule(battery, "builder").steps[0].action.kind, engine::ActionKind::kLog);
  EXPECT_EQ(battery.rules.size(), 3U);  // a profile may add a rule
  EXPECT_DOUBLE_EQ(*rule(battery, "extra").steps[0].cpu_percent, 5);

  EXPECT_FALSE(config::with_profile(base, "manual").pressure.enabled);
  EXPECT_TRUE(base.pressure.enabled);
  // Back to none: the configuration as written; the profiles stay on offer.
  const auto none = config::with_profile(battery, "");
  EXPECT_EQ(none.profile, "battery");  // "" gives its argument as it is
  const auto again = config::with_profile(base, "");
  EXPECT_EQ(again.profile, "");
  EXPECT_EQ(again.rules.size(), 2U);
  EXPECT_EQ(battery.profiles.size(), 3U);
  EXPECT_THROW(config::with_profile(base, "nope"), config::ConfigError);
}

// Expects the configuration to be refused at line:column with a message containing what.
void expect_refused(const std::string& text, unsigned line, unsigned column,
                    const std::string& what) {
  try {
    load(text);
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.column(), column) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Profiles, MistakesAreFoundAtLoadTimeWithTheirPlace) {
  // Lines count from the newline kBase starts with.
  const unsigned at = 17;  // the first line after kBase
  expect_refused(kBase + "[profile.p]\ndisable = [\"nope\"]\n", at + 1, 11, "no rule named 'nope'");
  expect_refused(kBase + "[profile.p]\n[profile.p.http]\nlisten = \"0.0.0.0:1\"\n", at + 1, 1,
                 "a profile cannot change [http]");
  expect_refused(kBase + "[profile.p]\n[[profile.p.rule]]\nname = \"builder\"\ncpu_percent = -1\n",
                 at + 3, 15, "cpu_percent");
  expect_refused(kBase + "[profile.p]\nwhen = { on_battery = 1 }\n", at + 1, 23,
                 "expected true or false");
  expect_refused(kBase + "[profile.p]\nwhen = {}\n", at + 1, 8, "give running");
  expect_refused(kBase + "[profile.p]\nunknown_key = 1\n", at + 1, 15,
                 "cannot change [unknown_key]");
  expect_refused(kBase + "[profile.p]\ndisable = [\"chat\"]\nenable = [\"chat\"]\n", at + 2, 10,
                 "also in disable");
  expect_refused(kBase + "[profile.\"a b\"]\n", at, 1, "a profile's name");
  expect_refused("[monitor]\nprofile = \"zzz\"\n", 2, 11, "no [profile.zzz] section");
  expect_refused(kBase + "[profile.p]\n[profile.p.monitor]\nprofile = \"p\"\n", at + 1, 1,
                 "belongs at the top level");
}

TEST(Profiles, ErrorsInAConfDPieceNameThatFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("freezr-profile-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "config.toml") << kBase << kProfiles;
  std::ofstream(dir / "conf.d" / "50-mine.toml") << "[profile.gaming.pressure]\nenabled = 3\n";
  try {
    config::load_config((dir / "config.toml").string());
    ADD_FAILURE() << "accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(e.file(), (dir / "conf.d" / "50-mine.toml").string());
    EXPECT_EQ(e.line(), 2U);
  }
  // A piece may add a profile, and [monitor] profile may name it.
  std::ofstream(dir / "conf.d" / "50-mine.toml")
      << "[monitor]\nprofile = \"late\"\n[profile.late]\ndisable = [\"builder\"]\n";
  const auto c = config::load_config((dir / "config.toml").string());
  EXPECT_NE(config::find_profile(c, "late"), nullptr);
  EXPECT_EQ(c.monitor.profile, "late");
  EXPECT_FALSE(rule(config::with_profile(c, "late"), "builder").enabled);
  std::filesystem::remove_all(dir);
}

TEST(Profiles, AnotherActionReplacesTheParametersOfTheFirstAndALadderTheSingleStep) {
  const std::string base = R"(
[[rule]]
name = "build"
match = { comm = ["fzcc"] }
cpu_percent = 300
action = "renice"
nice = 10
)";
  const auto c = load(base + R"(
[profile.cap]
[[profile.cap.rule]]
name = "build"
action = "throttle"
cpu_limit = 100
[profile.ladder]
[[profile.ladder.rule]]
name = "build"
steps = [{ cpu_percent = 100, action = "log" }, { cpu_percent = 200, action = "kill" }]
)");
  const auto cap = config::with_profile(c, "cap");
  const auto& step = rule(cap, "build").steps.at(0);
  EXPECT_EQ(step.action.kind, engine::ActionKind::kThrottle);
  EXPECT_DOUBLE_EQ(step.action.cpu_limit, 100);
  EXPECT_FALSE(step.action.nice);
  EXPECT_DOUBLE_EQ(*step.cpu_percent, 300);  // the threshold stays
  const auto ladder = config::with_profile(c, "ladder");
  ASSERT_EQ(rule(ladder, "build").steps.size(), 2U);
  EXPECT_EQ(rule(ladder, "build").steps[1].action.kind, engine::ActionKind::kKill);
  // And the same in a conf.d piece: a key merge, not a trap.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("freezr-replace-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "config.toml") << base;
  std::ofstream(dir / "conf.d" / "50-kill.toml")
      << "[[rule]]\nname = \"build\"\naction = \"kill\"\n";
  const auto piece = config::load_config((dir / "config.toml").string());
  EXPECT_EQ(rule(piece, "build").steps.at(0).action.kind, engine::ActionKind::kKill);
  std::filesystem::remove_all(dir);
}

TEST(Profiles, RenderedConfigurationKeepsThemAndLoadsTheSame) {
  auto with_default = kBase;
  with_default.replace(with_default.find("interval = 2"), 12, "interval = 2\nprofile = \"gaming\"");
  const auto c = load(with_default + kProfiles);
  const auto text = config::render_config(c);
  const auto again = config::parse_config(text, "rendered.toml");
  EXPECT_EQ(again.monitor.profile, "gaming");
  ASSERT_EQ(again.profiles.size(), 3U);
  EXPECT_FALSE(rule(config::with_profile(again, "gaming"), "builder").enabled);
  EXPECT_DOUBLE_EQ(config::with_profile(again, "battery").monitor.interval, 10);
}

std::optional<std::string> none(const engine::Match& /*m*/) { return std::nullopt; }

TEST(ProfileChoice, ByHandAutomaticallyOrByDefault) {
  auto c = load(kBase + kProfiles);
  const auto game = [](const engine::Match& m) -> std::optional<std::string> {
    if (!m.comm.empty() && m.comm[0] == "fzgame") return "fzgame (PID 7)";
    return std::nullopt;
  };
  using config::choose_profile;
  // Nothing holds: no profile.
  EXPECT_EQ(choose_profile(c, {}, none, false).profile, "");
  // A running game.
  const auto g = choose_profile(c, {}, game, false);
  EXPECT_EQ(g.profile, "gaming");
  EXPECT_EQ(g.why, "fzgame (PID 7) runs");
  // On battery alone; with both, the higher priority (gaming, 5 against 0).
  EXPECT_EQ(choose_profile(c, {}, none, true).profile, "battery");
  EXPECT_EQ(choose_profile(c, {}, none, true).why, "on battery");
  EXPECT_EQ(choose_profile(c, {}, game, true).profile, "gaming");
  // Unknown power: a battery condition does not hold.
  EXPECT_EQ(choose_profile(c, {}, none, std::nullopt).profile, "");
  // By hand wins over every condition, "none" included.
  EXPECT_EQ(choose_profile(c, {true, "manual"}, game, true).profile, "manual");
  EXPECT_EQ(choose_profile(c, {true, ""}, game, true).profile, "");
  EXPECT_EQ(choose_profile(c, {true, ""}, game, true).why, "chosen by hand");
  // A name the configuration no longer has: the automatic choice.
  EXPECT_EQ(choose_profile(c, {true, "gone"}, game, false).profile, "gaming");
  // [monitor] profile when nothing else holds.
  c.monitor.profile = "manual";
  EXPECT_EQ(choose_profile(c, {}, none, false).profile, "manual");
  EXPECT_EQ(choose_profile(c, {}, none, false).why, "[monitor] profile");
}

TEST(ProfileChoice, TextRoundTripsAndBadTextIsRefused) {
  for (const config::ProfileChoice& c :
       {config::ProfileChoice{}, config::ProfileChoice{true, "gaming"},
        config::ProfileChoice{true, ""}}) {
    const auto back = config::parse_choice(config::choice_text(c));
    ASSERT_TRUE(back) << config::choice_text(c);
    EXPECT_EQ(*back, c);
  }
  for (const char* bad : {"", "{", "[]", "{\"mode\":1}", "{\"mode\":\"sometimes\"}",
                          "{\"mode\":\"manual\",\"profile\":3}", "\xff\xfe"}) {
    EXPECT_FALSE(config::parse_choice(bad)) << bad;
  }
}

class PowerSupply : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("freezr-power-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_ / "class/power_supply");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void supply(const std::string& name, const std::map<std::string, std::string>& files) {
    const auto dir = root_ / "class/power_supply" / name;
    std::filesystem::create_directories(dir);
    for (const auto& [file, value] : files) std::ofstream(dir / file) << value << "\n";
  }
  [[nodiscard]] std::optional<bool> read() const { return proc::on_battery(root_.string()); }
  std::filesystem::path root_;
};

TEST_F(PowerSupply, MainsOnlineOrOffline) {
  supply("AC", {{"type", "Mains"}, {"online", "1"}});
  supply("BAT0", {{"type", "Battery"}, {"status", "Charging"}});
  EXPECT_EQ(read(), false);
  supply("AC", {{"type", "Mains"}, {"online", "0"}});
  EXPECT_EQ(read(), true);
  supply("ucsi-source-psy-USBC000:001", {{"type", "USB"}, {"online", "1"}});
  EXPECT_EQ(read(), false);  // charged over USB-C
}

TEST_F(PowerSupply, WithoutAMainsEntryTheBatteryStatusSays) {
  supply("BAT0", {{"type", "Battery"}, {"status", "Discharging"}});
  EXPECT_EQ(read(), true);
  supply("BAT0", {{"type", "Battery"}, {"status", "Full"}});
  EXPECT_EQ(read(), false);
}

TEST_F(PowerSupply, NoBatteryOrADevicesBatteryIsNeverOnBattery) {
  EXPECT_EQ(read(), false);
  supply("AC", {{"type", "Mains"}, {"online", "0"}});
  supply("hidpp_battery_0", {{"type", "Battery"}, {"scope", "Device"}, {"status", "Discharging"}});
  EXPECT_EQ(read(), false);
  EXPECT_EQ(proc::on_battery((root_ / "nowhere").string()), std::nullopt);
}

serve::State state_with_profiles() {
  serve::State s;
  s.profile.name = "gaming";
  s.profile.why = "fzgame (PID 7) runs";
  s.profile.switches = 2;
  s.profile.profiles = {{"gaming", "a game runs", true, 5}, {"quiet\"x", "", false, 0}};
  return s;
}

serve::Request request(const std::string& method, const std::string& body,
                       const std::string& auth) {
  serve::Request r;
  r.method = method;
  r.path = "/api/v1/profile";
  r.body = body;
  r.authorization = auth;
  return r;
}

TEST(ProfileApi, ReadWithGetChangedWithPutAndTheToken) {
  const std::string token = "0123456789abcdef0123";
  auto state = std::make_shared<const serve::State>(state_with_profiles());
  std::vector<std::pair<bool, std::string>> asked;
  serve::ApiContext ctx;
  ctx.state = [state] { return state; };
  ctx.token = token;
  ctx.set_profile = [&](bool manual, const std::string& name) -> Result<nlohmann::json> {
    asked.emplace_back(manual, name);
    if (name == "nope") return error_of(ErrorKind::kConfig, "no profile named 'nope'");
    return nlohmann::json{{"name", name}};
  };
  const auto got = serve::route(request("GET", "", ""), ctx);
  ASSERT_EQ(got.status, 200);
  const auto j = nlohmann::json::parse(got.body);
  EXPECT_EQ(j["name"], "gaming");
  EXPECT_EQ(j["mode"], "auto");
  EXPECT_EQ(j["switches"], 2);
  EXPECT_EQ(j["profiles"][0]["active"], true);
  EXPECT_EQ(j["profiles"][1]["active"], false);

  const std::string bearer = "Bearer " + token;
  EXPECT_EQ(serve::route(request("PUT", R"({"profile":"gaming"})", ""), ctx).status, 401);
  EXPECT_EQ(serve::route(request("POST", R"({"profile":"gaming"})", bearer), ctx).status, 405);
  EXPECT_EQ(serve::route(request("PUT", R"({"profile":"gaming"})", bearer), ctx).status, 200);
  EXPECT_EQ(serve::route(request("PUT", R"({"profile":null})", bearer), ctx).status, 200);
  EXPECT_EQ(serve::route(request("PUT", R"({"mode":"auto"})", bearer), ctx).status, 200);
  EXPECT_EQ(serve::route(request("PUT", R"({"profile":"nope"})", bearer), ctx).status, 404);
  for (const char* bad : {"", "[]", "{}", R"({"profile":3})", R"({"profile":""})",
                          R"({"mode":"later"})", "{\"profile\":\"a\"", "\xff"}) {
    EXPECT_EQ(serve::route(request("PUT", bad, bearer), ctx).status, 400) << bad;
  }
  const std::vector<std::pair<bool, std::string>> expected = {
      {true, "gaming"}, {true, ""}, {false, ""}, {true, "nope"}};
  EXPECT_EQ(asked, expected);
  ctx.token.clear();
  EXPECT_EQ(serve::route(request("PUT", R"({"profile":"gaming"})", bearer), ctx).status, 403);
}

TEST(ProfileApi, MetricsAndStatusShowTheProfile) {
  const auto s = state_with_profiles();
  const auto text = serve::render_metrics(s, 0);
  EXPECT_NE(text.find("freezr_profile_active{profile=\"gaming\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_profile_active{profile=\"quiet\\\"x\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_profile_manual 0\n"), std::string::npos);
  EXPECT_NE(text.find("freezr_profile_switches_total 2\n"), std::string::npos);
  const auto status = serve::status_json(s);
  EXPECT_EQ(status["profile"]["name"], "gaming");
  EXPECT_TRUE(serve::status_json(serve::State{})["profile"]["name"].is_null());
}

TEST(ProfileApi, TheTerminalDashboardShowsIt) {
  ui::DashboardInput in;
  in.now = 1000;
  in.status = serve::status_json(state_with_profiles());
  (*in.status)["updated"] = 1000;
  const auto m = ui::build_dashboard(in, 120);
  bool shown = false;
  for (const auto& l : m.lines) {
    shown =
        shown || l.text.find("profile: gaming (auto: fzgame (PID 7) runs)") != std::string::npos;
  }
  EXPECT_TRUE(shown);
}

TEST(Dashboards, TheTerminalOneShowsDiskRatesAndTheThermalSections) {
  ui::DashboardInput in;
  in.now = 1000;
  serve::State s;
  s.updated = 1000;
  s.thermal = {{"cpu", "x86_pkg_temp", 91.26, true}, {"gpu", "amdgpu", std::nullopt, false}};
  serve::RuleRow r;
  r.name = "backup";
  r.io_write_bps = 50.0 * 1024 * 1024;
  s.rules.push_back(r);
  in.status = serve::status_json(s);
  in.processes = nlohmann::json{
      {"processes",
       {{{"pid", 42}, {"name", "fzbackup"}, {"io_read_bps", 1048576}, {"io_write_bps", 3145728}},
        {{"pid", 43}, {"name", "fzidle"}, {"io_read_bps", nullptr}, {"io_write_bps", nullptr}}}}};
  in.process_rows = 10;
  const auto m = ui::build_dashboard(in, 200);
  std::string all;
  for (const auto& l : m.lines) all += l.text + "\n";
  EXPECT_NE(all.find("thermal:  cpu 91.3 °C HOT  gpu unreadable"), std::string::npos) << all;
  EXPECT_NE(all.find("DISK MiB/s"), std::string::npos) << all;
  EXPECT_NE(all.find("disk 50.0 MiB/s"), std::string::npos) << all;
  std::smatch row;
  EXPECT_TRUE(std::regex_search(all, row, std::regex(R"(\n\s+42 fzbackup\s+0\.0\s+0\.0\s+4\.0 )")))
      << all;
  EXPECT_TRUE(std::regex_search(all, row, std::regex(R"(\n\s+43 fzidle\s+0\.0\s+0\.0\s+- )")))
      << all;
}

}  // namespace
}  // namespace freezr
