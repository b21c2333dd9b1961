#include <gtest/gtest.h>

#include "ui/dashboard_model.h"

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
                   {"rules", {{{"name", "node"}, {"processes", 2}, {"cpu_percent", 120.0},
                               {"cpu_threshold", 80.0}, {"memory_threshold", nullptr},
                               {"rss_mib", 300.0}, {"streak", 2}, {"action", "kill"}}}}};
  in.processes = json{{"processes", {{{"pid", 10}, {"name", "node"}, {"cpu_percent", 90.0},
                                      {"rss_mib", 100.0}, {"rule", "node"}, {"streak", 2}},
                                     {{"pid", 11}, {"name", "big\x01"}, {"cpu_percent", 1.0},
                                      {"rss_mib", 900.0}, {"rule", ""}, {"streak", 0}}}}};
  in.events = json{{"events", {{{"kind", "action"}, {"rule", "node"}, {"action", "kill"},
                                {"pid", 9}, {"name", "node"}, {"ok", false},
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
  EXPECT_NE(text.find("FreezR 1.2.3  acting  pressure: warning  scans 42  kills 2"), std::string::npos);
  EXPECT_EQ(m.lines[0].style, Line::Style::kWarn);
  EXPECT_NE(text.find("cpu  120.0% /80    [##########]"), std::string::npos) << text;
  EXPECT_NE(text.find("PROCESSES (sort: cpu)"), std::string::npos);
  EXPECT_NE(text.find("big?"), std::string::npos);  // control characters are not drawn
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
  for (const auto& l : m.lines) selected = selected || (l.style == Line::Style::kSelected &&
                                                        l.text.find("     10 node") == 0);
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
