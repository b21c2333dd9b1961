#include "engine/forecast.h"

#include <gtest/gtest.h>

#include "config/config.h"
#include "config_errors.h"
#include "engine/policy.h"
#include "engine_fixtures.h"

namespace freezr::engine {
namespace {

using testing::FakeInfo;
using testing::proc;
using testing::snap;

Rule leak_rule() {
  Rule r;
  r.name = "leaky";
  r.match.comm = {"leaker", "steady"};
  Step s;
  s.memory_mb = 300;
  s.predict_minutes = 1;
  s.violations = 2;
  s.action.kind = ActionKind::kKill;
  r.steps = {s};
  return r;
}

PredictSettings fast() {
  PredictSettings p;
  p.leak.window = 60;
  p.leak.min_span = 10;
  p.leak.min_mb_per_minute = 10;
  return p;
}

TEST(Forecaster, LeakIsReportedAndActedOnBeforeTheLimit) {
  std::vector<Rule> rules = {leak_rule()};
  Classifier cls(&rules);
  Forecaster fc(&rules, fast());
  Policy policy(&rules);
  Protection prot(1, {});
  FakeInfo info;
  std::optional<Decision> kill;
  int new_leaks = 0;
  for (int i = 0; i < 100 && !kill; ++i) {
    const double t = i * 1.0;
    auto s = snap(t, {proc(10, "leaker", 1, 50 + 2.0 * t), proc(11, "steady", 1, 100)});
    const auto c = cls.classify(s, info);
    fc.observe(s, c, std::nullopt);
    new_leaks += static_cast<int>(fc.new_leaks().size());
    for (const auto& d : policy.evaluate(s, c, prot, &fc)) {
      if (d.verdict == Verdict::kAct) kill = d;
    }
  }
  ASSERT_TRUE(kill);
  EXPECT_EQ(kill->targets.at(0).id.pid, 10);
  EXPECT_LT(kill->value, 300);
  ASSERT_TRUE(kill->predicted_seconds);
  EXPECT_LE(*kill->predicted_seconds, 60);
  EXPECT_NEAR(kill->predicted_rate, 120, 5);
  EXPECT_NE(kill->reason().find("rising 120.0 MiB/min reaches 300.0 MiB in"), std::string::npos)
      << kill->reason();
  EXPECT_EQ(new_leaks, 1);
  ASSERT_EQ(fc.leaks().size(), 1U);
  EXPECT_EQ(fc.leaks()[0].comm, "leaker");
  ASSERT_TRUE(fc.leaks()[0].seconds_to_limit);
}

TEST(Forecaster, WithoutPredictMinutesTheLimitItselfIsWaitedFor) {
  std::vector<Rule> rules = {leak_rule()};
  rules[0].steps[0].predict_minutes.reset();
  Classifier cls(&rules);
  Forecaster fc(&rules, fast());
  Policy policy(&rules);
  Protection prot(1, {});
  FakeInfo info;
  for (int i = 0; i < 200; ++i) {
    auto s = snap(i, {proc(10, "leaker", 1, 50 + 2.0 * i)});
    const auto c = cls.classify(s, info);
    fc.observe(s, c, std::nullopt);
    for (const auto& d : policy.evaluate(s, c, prot, &fc)) {
      ASSERT_GT(d.value, 300) << "acted at " << d.value;
      return;
    }
  }
  FAIL() << "never acted";
}

TEST(Forecaster, CpuSpikeUnderTheThresholdIsAnAnomaly) {
  std::vector<Rule> rules = {leak_rule()};
  Classifier cls(&rules);
  Forecaster fc(&rules, fast());
  FakeInfo info;
  int anomalies = 0;
  for (int i = 0; i < 40; ++i) {
    const double cpu = i == 30 ? 60 : 3 + (i % 2);
    auto s = snap(i, {proc(11, "steady", cpu, 100)});
    fc.observe(s, cls.classify(s, info), std::nullopt);
    for (const auto& a : fc.anomalies()) {
      ++anomalies;
      EXPECT_EQ(a.entity.pid, 11);
      EXPECT_DOUBLE_EQ(a.anomaly.value, 60);
      EXPECT_NEAR(a.anomaly.baseline, 3.5, 0.5);
    }
  }
  EXPECT_EQ(anomalies, 1);
}

TEST(Forecaster, ExhaustionFromFallingAvailableMemory) {
  std::vector<Rule> rules;
  Classifier cls(&rules);
  auto settings = fast();
  settings.exhaustion_window = 120;
  settings.exhaustion_min_span = 20;
  settings.exhaustion_warn_minutes = 5;
  Forecaster fc(&rules, settings);
  FakeInfo info;
  std::optional<bool> warned;
  for (int i = 0; i <= 60; ++i) {
    auto s = snap(i, {});
    proc::MemInfo m;
    m.total_kb = 16 << 20;
    m.available_kb = static_cast<std::uint64_t>((8000 - 10.0 * i) * 1024);  // 10 MiB/s down
    s.meminfo = m;
    fc.observe(s, cls.classify(s, info), 1000.0);
    if (fc.exhaustion_changed()) warned = fc.exhaustion_changed();
  }
  ASSERT_TRUE(fc.exhaustion());
  // 7400 MiB now, 1000 critical, 10 MiB/s: 640 s, above the 300 s warning.
  EXPECT_NEAR(fc.exhaustion()->seconds, 640, 64);
  EXPECT_FALSE(warned);
}

TEST(PredictConfig, KeysAndErrors) {
  const auto c = config::parse_config(R"(
[pressure]
predict_minutes = 3
[predict]
leak_window = 300
leak_min_span = 60
leak_min_mb_per_minute = 2
anomaly_sigmas = 5
exhaustion_warn_minutes = 10
[[rule]]
name = "r"
match = { comm = ["x"] }
memory_mb = 500
predict_minutes = 5
action = "kill"
)",
                                      "t.toml");
  EXPECT_DOUBLE_EQ(c.predict.leak.window, 300);
  EXPECT_DOUBLE_EQ(c.predict.anomaly.sigmas, 5);
  EXPECT_EQ(c.rules[0].steps[0].predict_minutes, 5);
  const auto again = config::parse_config(config::render_config(c), "r.toml");
  EXPECT_EQ(again.rules[0].steps[0].predict_minutes, 5);
  EXPECT_EQ(c.pressure.predict_minutes, 3);
  EXPECT_EQ(again.pressure.predict_minutes, 3);
  EXPECT_DOUBLE_EQ(again.predict.leak.window, 300);
  EXPECT_DOUBLE_EQ(again.predict.anomaly.sigmas, 5);
  for (const auto& [text, what] : std::vector<std::pair<std::string, std::string>>{
           {"[[rule]]\nname=\"r\"\nmatch={comm=[\"x\"]}\ncpu_percent=5\npredict_minutes=3\n",
            "needs memory_mb"},
           {"[predict]\nleak_window = 30\nleak_min_span = 60\n", "must not exceed"},
           {"[predict]\nleak_min_agreement = 0.2\n", "leak_min_agreement"},
           {"[predict]\nbogus = 1\n", "bogus"}}) {
    testing::expect_config_error(text, what);
  }
}

}  // namespace
}  // namespace freezr::engine
