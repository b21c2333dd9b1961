#include "ui/report.h"

#include <gtest/gtest.h>

namespace freezr::ui {
namespace {

TEST(Report, FormatDuration) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(59.9), "59s");
  EXPECT_EQ(format_duration(61), "1m 1s");
  EXPECT_EQ(format_duration(2 * 3600 + 15 * 60 + 30), "2h 15m 30s");
  EXPECT_EQ(format_duration(-5), "0s");
}

TEST(Report, ViolationRateUsesLifetimeNumeratorAndDenominator) {
  engine::Totals t;
  EXPECT_DOUBLE_EQ(t.violation_rate(), 0.0);
  t.process_checks = 2710;
  t.violating_checks = 18;
  EXPECT_NEAR(t.violation_rate(), 0.664, 0.001);
}

TEST(Report, StatisticsBlockShowsEveryFigure) {
  engine::Totals t;
  t.runtime = 8130;
  t.checks = 2710;
  t.process_checks = 2710;
  t.violating_checks = 18;
  t.cpu_violations = 15;
  t.memory_violations = 3;
  t.cpu_since_action = 2;
  t.restarts = 5;
  t.kills = 12;
  t.load = proc::LoadAvg{1.23, 1, 1, 1, 100};
  proc::MemInfo m;
  m.total_kb = 1000;
  m.available_kb = 547;
  t.memory = m;
  const auto s = statistics_block(t);
  EXPECT_NE(s.find("PROCESS MONITOR STATISTICS"), std::string::npos);
  EXPECT_NE(s.find("Runtime: 2h 15m 30s"), std::string::npos);
  EXPECT_NE(s.find("Total checks: 2710"), std::string::npos);
  EXPECT_NE(s.find("Violations: CPU=15, Memory=3 (since last action: CPU=2, Memory=0)"),
            std::string::npos);
  EXPECT_NE(s.find("Restarts: 5"), std::string::npos);
  EXPECT_NE(s.find("Kills: 12"), std::string::npos);
  EXPECT_NE(s.find("Violation rate: 0.66%"), std::string::npos);
  EXPECT_NE(s.find("Load: 1.23, Memory: 45.3% used"), std::string::npos);
}

TEST(Report, BannerListsRulesAndInterval) {
  const auto b = banner(config::default_config(), true);
  EXPECT_NE(b.find("FreezR Process Monitor v"), std::string::npos);
  EXPECT_NE(b.find("kesl: CPU 30.0%, Memory 600MB (max 3 violations"), std::string::npos);
  EXPECT_NE(b.find("restart kesl.service"), std::string::npos);
  EXPECT_NE(b.find("node: CPU 80.0% (max 3 violations) → kill"), std::string::npos);
  EXPECT_NE(b.find("Check interval: 3s"), std::string::npos);
  EXPECT_NE(b.find("DRY-RUN"), std::string::npos);
}

}  // namespace
}  // namespace freezr::ui
