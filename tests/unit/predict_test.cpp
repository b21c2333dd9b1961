#include "engine/predict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace freezr::engine {
namespace {

TEST(TheilSen, RecoversALineDespiteOutliers) {
  std::vector<Point> pts;
  for (int i = 0; i < 30; ++i) pts.push_back({i * 2.0, 100 + 0.5 * i * 2.0});
  pts[7].v = 900;  // a wild spike
  pts[20].v = -50;
  const auto t = theil_sen(pts);
  ASSERT_TRUE(t);
  EXPECT_NEAR(t->slope, 0.5, 1e-9);
  EXPECT_NEAR(t->level, 100 + 0.5 * 58, 1e-9);
  EXPECT_GT(t->agreement, 0.85);
  EXPECT_EQ(t->points, 30u);
  EXPECT_DOUBLE_EQ(t->span, 58);
}

TEST(TheilSen, NeedsThreePointsAtDifferentTimes) {
  EXPECT_FALSE(theil_sen(std::vector<Point>{{0, 1}, {1, 2}}));
  EXPECT_FALSE(theil_sen(std::vector<Point>{{5, 1}, {5, 2}, {5, 3}}));
}

TEST(Series, ThinsToItsCapacityAndForgetsOldPoints) {
  Series s(100, 10);
  for (int i = 0; i <= 1000; ++i) s.add(i * 0.5, i);
  ASSERT_LE(s.points().size(), 10u);
  EXPECT_GE(s.points().front().t, 500 - 100);
  EXPECT_DOUBLE_EQ(s.points().back().t, 500);
}

TEST(Leak, SteadyNoisyLeakIsFoundWithinTheWindow) {
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 1.5);
  LeakCriteria c;
  c.window = 300;
  c.min_span = 60;
  c.min_mb_per_minute = 1;
  Series s(c.window, 60);
  std::optional<double> found_at;
  for (int i = 0; i < 150; ++i) {  // 2 MiB per minute, sampled every 3 s
    const double t = i * 3.0;
    s.add(t, 200 + 2.0 * t / 60 + noise(rng));
    if (!found_at && leak_trend(s, c)) found_at = t;
  }
  ASSERT_TRUE(found_at) << "leak not found";
  EXPECT_LE(*found_at, c.window);
  const auto t = leak_trend(s, c);
  ASSERT_TRUE(t);
  EXPECT_NEAR(t->slope * 60, 2.0, 0.5);
}

TEST(Leak, NoisyFlatSeriesIsNotALeak) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 20);
  LeakCriteria c;
  c.window = 300;
  c.min_span = 60;
  int reported = 0;
  Series s(c.window, 60);
  for (int i = 0; i < 600; ++i) {
    s.add(i * 3.0, 500 + noise(rng));
    if (leak_trend(s, c)) ++reported;
  }
  EXPECT_EQ(reported, 0);
}

// A steep rise that levels off: the leak ends within the newest third of the window, and
// while it lasts the time to a limit is counted from the measured value, not the fit.
TEST(Leak, ALeakThatLevelsOffEndsWithinTheWindow) {
  LeakCriteria c;
  c.window = 60;
  c.min_span = 10;
  c.min_mb_per_minute = 30;
  Series s(c.window, 60);
  double t = 0;
  for (; t <= 30; t += 0.5) s.add(t, std::min(100 + 10 * t, 300.0));  // 600 MiB/min to 300
  std::optional<double> ended;
  for (; t <= 120; t += 0.5) {
    s.add(t, 300);
    const auto trend = leak_trend(s, c);
    if (trend) {
      EXPECT_GT(trend->level, 300);  // the fit runs ahead of the value ...
      EXPECT_DOUBLE_EQ(trend->latest, 300);
      const auto eta = seconds_to_reach(*trend, trend->latest, 400);
      ASSERT_TRUE(eta);
      EXPECT_GT(*eta, (400 - trend->level) / trend->slope);  // ... but does not count
    } else if (!ended) {
      ended = t;
    }
  }
  ASSERT_TRUE(ended) << "the levelled-off series was still a leak after 90 s";
  EXPECT_LE(*ended - 30, c.window / 3 + 1);
  EXPECT_FALSE(leak_trend(s, c));
}

TEST(Leak, TooShortASpanIsNotJudged) {
  LeakCriteria c;
  c.min_span = 120;
  Series s(c.window, 60);
  for (int i = 0; i < 20; ++i) s.add(i * 3.0, 100 + 10.0 * i);
  EXPECT_FALSE(leak_trend(s, c));
}

TEST(Trend, SecondsToReachALimit) {
  Trend t;
  t.level = 150;  // the fit is ahead of the measured value: the measured one counts
  t.slope = 2;
  EXPECT_DOUBLE_EQ(*seconds_to_reach(t, 100, 300), 100);
  EXPECT_DOUBLE_EQ(*seconds_to_reach(t, 100, 100), 0);
  EXPECT_FALSE(seconds_to_reach(t, 100, 50));
  t.slope = 0;
  EXPECT_FALSE(seconds_to_reach(t, 100, 300));
}

TEST(Exhaustion, LinearDeclineLandsWithinTenPercent) {
  std::mt19937 rng(3);
  for (const double rate : {5.0, 50.0, 400.0}) {  // MiB per minute
    std::normal_distribution<double> noise(0, rate * 0.2);
    Series s(600, 60);
    const double start = 8000, critical = 1000;
    double t = 0;
    for (; t <= 300; t += 2) s.add(t, start - rate * t / 60 + noise(rng));
    const auto e = predict_exhaustion(s, critical, 60, 0.7);
    ASSERT_TRUE(e) << rate;
    const double now_available = start - rate * (t - 2) / 60;
    const double truth = (now_available - critical) / (rate / 60);
    EXPECT_NEAR(e->seconds, truth, truth * 0.10) << rate;
    EXPECT_LE(e->seconds_low, e->seconds);
    EXPECT_GE(e->seconds_high, e->seconds);
    EXPECT_NEAR(e->mb_per_minute, -rate, rate * 0.1);
  }
}

TEST(Exhaustion, RisingOrFlatMemoryPredictsNothing) {
  Series up(600, 60);
  for (int i = 0; i < 100; ++i) up.add(i * 3.0, 1000 + i);
  EXPECT_FALSE(predict_exhaustion(up, 500, 60, 0.7));
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 50);
  Series flat(600, 60);
  int predicted = 0;
  for (int i = 0; i < 400; ++i) {
    flat.add(i * 3.0, 6000 + noise(rng));
    if (predict_exhaustion(flat, 500, 60, 0.7)) ++predicted;
  }
  EXPECT_EQ(predicted, 0);
}

TEST(Baseline, SpikeFarOutsideItsNormalIsFlaggedOnce) {
  AnomalyCriteria c;
  Baseline b;
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(b.observe(5 + (i % 3), c));
  const auto a = b.observe(60, c);
  ASSERT_TRUE(a);
  EXPECT_NEAR(a->baseline, 6, 1.0);
  EXPECT_GT(a->sigmas, 4);
  EXPECT_FALSE(b.observe(62, c)) << "a lasting spike is one anomaly";
  EXPECT_TRUE(b.in_anomaly());
  for (int i = 0; i < 5; ++i) b.observe(6, c);
  EXPECT_FALSE(b.in_anomaly());
  EXPECT_TRUE(b.observe(70, c)) << "a new spike after calm is a new anomaly";
}

TEST(Baseline, FewFalsePositivesOnSeededNoise) {
  AnomalyCriteria c;
  std::mt19937 rng(1234);
  std::normal_distribution<double> noise(30, 6);
  Baseline b;
  int flagged = 0;
  for (int i = 0; i < 5000; ++i) flagged += b.observe(std::max(0.0, noise(rng)), c) ? 1 : 0;
  EXPECT_LE(flagged, 5);  // 0.1%
  // And a spike in the same series is still found.
  EXPECT_TRUE(b.observe(95, c));
}

TEST(Baseline, NothingIsJudgedDuringWarmup) {
  AnomalyCriteria c;
  Baseline b;
  EXPECT_FALSE(b.observe(1, c));
  for (int i = 0; i < c.warmup - 2; ++i) EXPECT_FALSE(b.observe(1, c));
  EXPECT_FALSE(b.observe(100, c));
}

}  // namespace
}  // namespace freezr::engine
