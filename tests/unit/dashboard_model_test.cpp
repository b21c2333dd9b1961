#include "ui/dashboard_model.h"

#include <gtest/gtest.h>

namespace freezr::ui {
namespace {

using nlohmann::json;

DashboardInput input() {
  DashboardInput in;
  in.address = "127.0.0.1:9813";
  in.now = 1000;
  in.status = json{{"version", "1.2.3"},
                   {"updated", 999.5},
                   {"interval", 1.0},
                   {"dry_run", false},
                   {"pressure", {{"level", "warning"}}},
                   {"totals", {{"checks", 42}, {"kills", 2}}},
                   {"health", {{"load", {0.5, 0.4, 0.3}}, {"memory_used_percent", 50.0}}},
                   {"rules",
                    {{{"name", "node"},
                      {"processes", 2},
                      {"cpu_percent", 120.0},
                      {"cpu_threshold", 80.0},
                      {"memory_threshold", nullptr},
                      {"rss_mib", 300.0},
                      {"streak", 2},
                      {"action", "kill"}}}}};
  in.processes = json{{"processes",
                       {{{"pid", 10},
                         {"name", "node"},
                         {"cpu_percent", 90.0},
                         {"rss_mib", 100.0},
                         {"rule", "node"},
                         {"streak", 2},
                         {"unit", "app-code-77.scope"},
                         {"container", ""}},
                        {{"pid", 11},
                         {"name", "big\x1b[2J\xc2\x9b"},
                         {"cpu_percent", 1.0},
                         {"rss_mib", 900.0},
                         {"rule", ""},
                         {"streak", 0},
                         {"unit", "docker-ab12.scope"},
                         {"container", "docker:ab12"}}}}};
  in.events = json{{"events",
                    {{{"kind", "action"},
                      {"rule", "node"},
                      {"action", "kill"},
                      {"pid", 9},
                      {"name", "node"},
                      {"ok", false},
                      {"message", "SIGTERM failed"}}}}};
  in.frozen = json{{"frozen", json::array()}};
  return in;
}

std::string all(const DashboardModel& m) {
  std::string out;
  for (const auto& l : m.lines) out += l.text + "\n";
  return out;
}

TEST(Dashboard, ShowsHeaderRulesWithBarsProcessesAndEvents) {
  const auto m = build_dashboard(input(), 160);
  const auto text = all(m);
  EXPECT_TRUE(m.running);
  EXPECT_FALSE(m.stale);
  EXPECT_NE(text.find("FreezR 1.2.3  acting  pressure: warning  scans 42  kills 2"),
            std::string::npos);
  EXPECT_EQ(m.lines[0].style, Line::Style::kWarn);
  EXPECT_NE(text.find("cpu  120.0% /80    [##########]"), std::string::npos) << text;
  EXPECT_NE(text.find("PROCESSES (sort: cpu)"), std::string::npos);
  // The unit of each process, or its container when it has one.
  EXPECT_NE(text.find("CATEGORY     UNIT"), std::string::npos) << text;
  EXPECT_NE(text.find(" app-code-77.scope\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" docker:ab12\n"), std::string::npos) << text;
  // Control characters are shown escaped, never drawn.
  EXPECT_NE(text.find("big\\x1b[2J\\u009b"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("action [node] kill pid 9 node: SIGTERM failed"), std::string::npos);
  EXPECT_EQ(m.pids, (std::vector<int>{10, 11}));
}

TEST(Dashboard, SortsFiltersAndSelects) {
  auto in = input();
  in.sort = Sort::kMemory;
  in.selected = 1;
  auto m = build_dashboard(in, 160);
  EXPECT_EQ(m.pids, (std::vector<int>{11, 10}));
  bool selected = false;
  for (const auto& l : m.lines)
    selected = selected || (l.style == Line::Style::kSelected && l.text.find("     10 node") == 0);
  EXPECT_TRUE(selected);
  in.filter = "node";
  EXPECT_EQ(build_dashboard(in, 160).pids, (std::vector<int>{10}));
  EXPECT_EQ(next(Sort::kCpu), Sort::kMemory);
  EXPECT_EQ(next(Sort::kPid), Sort::kCpu);
}

TEST(Dashboard, NotRunningAndStale) {
  auto in = input();
  in.status.reset();
  auto m = build_dashboard(in, 80);
  EXPECT_FALSE(m.running);
  EXPECT_EQ(m.lines[0].text, "FreezR is not running (no answer at 127.0.0.1:9813)");
  in = input();
  in.now = 1100;
  m = build_dashboard(in, 80);
  EXPECT_TRUE(m.stale);
  EXPECT_NE(all(m).find("data is stale: last scan 100 s ago"), std::string::npos);
}

TEST(Dashboard, Bars) {
  EXPECT_EQ(bar(50, 100, 12), "[#####.....]");
  EXPECT_EQ(bar(500, 100, 6), "[####]");
  EXPECT_EQ(bar(0, 100, 4), "[..]");
  EXPECT_EQ(bar(5, 0, 4), "[..]");
}

}  // namespace
}  // namespace freezr::ui

namespace freezr::ui {
namespace {

TEST(Dashboard, ShowsPredictionsWithTheirNumbers) {
  auto in = input();
  auto without = build_dashboard(in, 160);
  EXPECT_EQ(all(without).find("PREDICTIONS"), std::string::npos);
  in.predictions = json{{"leaks",
                         {{{"rule", "node"},
                           {"pid", 10},
                           {"name", "node"},
                           {"rss_mib", 120.5},
                           {"mib_per_minute", 30.0},
                           {"agreement", 0.97},
                           {"limit_mib", 300.0},
                           {"seconds_to_limit", 361.0}}}},
                        {"exhaustion",
                         {{"seconds", 600.0},
                          {"available_mib", 900.0},
                          {"mib_per_minute", -50.0},
                          {"critical_mib", 400.0}}},
                        {"anomalies",
                         {{{"rule", "node"},
                           {"pid", 10},
                           {"name", "node"},
                           {"cpu", 80.0},
                           {"baseline", 5.0},
                           {"deviation", 1.5}}}}};
  const auto m = build_dashboard(in, 160);
  const auto text = all(m);
  EXPECT_NE(text.find("PREDICTIONS"), std::string::npos);
  EXPECT_NE(text.find("leak [node] pid 10 node: +30.0 MiB/min, now 120.5 MiB (97% of pairs "
                      "rising), reaches 300 MiB in 361 s"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("memory exhaustion in 600 s: available 900 MiB falling 50.0 MiB/min to the "
                      "critical 400 MiB"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cpu anomaly [node] pid 10 node: 80.0% against 5.0% ± 1.5"),
            std::string::npos)
      << text;
  const auto exh = std::find_if(m.lines.begin(), m.lines.end(), [](const Line& l) {
    return l.text.rfind("memory exhaustion", 0) == 0;
  });
  ASSERT_NE(exh, m.lines.end());
  EXPECT_EQ(exh->style, Line::Style::kBad);
}

TEST(Dashboard, CollapsesIdenticalEventsWithACount) {
  auto in = input();
  json list = json::array();
  for (int i = 0; i < 14; ++i) {  // newest first, as the API answers
    list.push_back({{"ts", 990.0 - i},
                    {"kind", "action"},
                    {"rule", "node"},
                    {"action", "kill"},
                    {"pid", 123},
                    {"name", "node"},
                    {"ok", true},
                    {"message", "dry-run: would send SIGTERM (because cpu " +
                                    std::to_string(90 + i) + ".5% > 80%)"}});
  }
  list.push_back({{"ts", 900.0},
                  {"kind", "violation"},
                  {"rule", "node"},
                  {"pid", 123},
                  {"message", "started: cpu 95%"}});
  in.events = json{{"events", list}};
  const auto text = all(build_dashboard(in, 200));
  // The newest figures, once, with the count.
  EXPECT_NE(text.find("would send SIGTERM (because cpu 90.5% > 80%) — 14 times since "),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("cpu 91.5%"), std::string::npos) << text;
  EXPECT_NE(text.find("started: cpu 95%"), std::string::npos) << text;
}

TEST(Dashboard, ShowsFrozenProcessesWithTheTimeLeftAndTheNextAction) {
  auto in = input();
  in.frozen = json{{"frozen",
                    {{{"pid", 77},
                      {"name", "editor"},
                      {"rule", "ice"},
                      {"kind", "freeze-cgroup"},
                      {"how", "cgroup.freeze"},
                      {"since", 900.0},
                      {"until", 1125.0}},
                     {{"pid", 78},
                      {"name", "other"},
                      {"rule", "ice"},
                      {"kind", "freeze-signal"},
                      {"how", "SIGSTOP"},
                      {"since", 990.0},
                      {"until", 1010.0}}}}};
  (*in.status)["rules"][0]["next"] = {
      {"step", 1}, {"action", "kill"}, {"in_scans", 2}, {"in_seconds", 2.0}};
  const auto text = all(build_dashboard(in, 200));
  EXPECT_NE(text.find("editor pid 77 by rule ice (cgroup.freeze), 2m 05s left"), std::string::npos)
      << text;
  EXPECT_NE(text.find("other pid 78 by rule ice (SIGSTOP), 10 s left"), std::string::npos);
  EXPECT_NE(text.find("next: kill in 2 scans (~2 s)"), std::string::npos) << text;
}

TEST(Dashboard, TheWhyViewListsTheDecisionsInPlaceOfTheEvents) {
  auto in = input();
  in.why_pid = 10;
  in.why = json{{"pid", 10},
                {"entries",
                 {{{"ts", 995.0},
                   {"kind", "decision"},
                   {"rule", "node"},
                   {"action", "kill"},
                   {"message", "act: cpu 120.0% > 80% for 3 scans"}}}}};
  auto text = all(build_dashboard(in, 200));
  EXPECT_NE(text.find("WHY PID 10 (w or Esc: close)"), std::string::npos) << text;
  EXPECT_NE(text.find("decision [node] kill: act: cpu 120.0% > 80% for 3 scans"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("LAST EVENTS"), std::string::npos);
  in.why = std::nullopt;
  text = all(build_dashboard(in, 200));
  EXPECT_NE(text.find("no history available"), std::string::npos);
}

}  // namespace
}  // namespace freezr::ui
