// Small, explainable predictors: a robust trend (Theil–Sen) of a series, the leak and
// exhaustion estimates built on it, and an exponentially weighted CPU baseline. Pure: time
// comes in as a value.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "core/types.h"

namespace freezr::engine {

struct Point {
  Seconds t = 0;
  double v = 0;
};

// A robust straight-line fit: the median of the slopes between every pair of points.
struct Trend {
  double slope = 0;       // units per second
  double level = 0;       // fitted value at the last point's time
  double latest = 0;      // the last point's measured value
  double slope_low = 0;   // 25th percentile of the pairwise slopes
  double slope_high = 0;  // 75th percentile
  double agreement = 0;   // share of pairs whose slope has the sign of `slope` (0.5 .. 1)
  std::size_t points = 0;
  Seconds span = 0;  // time covered by the points
};

// Fewer points than this are not judged as a leak or a decline: with only a handful, chance
// alone makes most pairs agree.
inline constexpr std::size_t kMinTrendPoints = 12;

// nullopt with fewer than 3 points or no two points at different times.
std::optional<Trend> theil_sen(std::span<const Point> points);

// A sliding window of points, thinned so that it holds at most `max_points`: the newest point
// is provisional and is replaced by the next one until it is window / max_points after the
// point before it.
class Series {
 public:
  Series(Seconds window, std::size_t max_points) : window_(window), max_points_(max_points) {}
  void add(Seconds t, double v);
  [[nodiscard]] std::span<const Point> points() const { return points_; }
  [[nodiscard]] std::optional<Trend> trend() const { return theil_sen(points_); }
  void clear() { points_.clear(); }

 private:
  Seconds window_;
  std::size_t max_points_;
  std::vector<Point> points_;
};

// When a rising trend counts as a leak.
struct LeakCriteria {
  Seconds window = 600;            // seconds of history looked at
  Seconds min_span = 120;          // the points must cover at least this long
  double min_mb_per_minute = 1.0;  // growth that matters
  double min_agreement = 0.75;     // share of rising pairs (a steady, not a jumpy, rise)
};

// A trend that is a leak under the criteria (values in MiB), or nullopt. The newest third of
// the points must still rise at half the minimum rate or more: a value that levelled off stops
// being a leak within that third of the window, however steep the older part was.
std::optional<Trend> leak_trend(const Series& rss_mb, const LeakCriteria& c);

// Seconds until a value `from` (the measured one, not the fit) growing along the trend's slope
// reaches `limit` (nullopt when it moves away from it or is flat); 0 when it is already there.
std::optional<double> seconds_to_reach(const Trend& t, double from, double limit);

// Time until available memory falls to the critical level, from the trend of available
// memory (MemAvailable plus free swap, MiB).
struct Exhaustion {
  double available_mb = 0;  // fitted, now
  double critical_mb = 0;
  double mb_per_minute = 0;  // negative: falling
  double seconds = 0;        // best estimate
  double seconds_low = 0;    // with the faster quartile slope
  double seconds_high = 0;   // with the slower quartile slope (infinity when it may not fall)
  double agreement = 0;
};
std::optional<Exhaustion> predict_exhaustion(const Series& available_mb, double critical_mb,
                                             Seconds min_span, double min_agreement);

// An exponentially weighted mean and deviation of one value (a process's CPU), and whether a
// new observation lies far outside it.
struct AnomalyCriteria {
  double alpha = 0.1;     // weight of each new observation
  double sigmas = 4;      // how many deviations above the mean is anomalous
  double min_delta = 20;  // ... and at least this much above it (percent of a core)
  int warmup = 10;        // observations before anything is judged
};

struct Anomaly {
  double value = 0;
  double baseline = 0;   // the mean before this observation
  double deviation = 0;  // the standard deviation before this observation
  double sigmas = 0;     // (value - baseline) / deviation
};

class Baseline {
 public:
  // Returns an anomaly when the observation starts one (not again while it lasts). An
  // anomalous observation moves the baseline at a quarter of the usual weight, so a spike
  // does not teach the baseline, while a lasting new level is learnt in time.
  std::optional<Anomaly> observe(double x, const AnomalyCriteria& c);
  [[nodiscard]] double mean() const { return mean_; }
  [[nodiscard]] double deviation() const;
  [[nodiscard]] int seen() const { return seen_; }
  [[nodiscard]] bool in_anomaly() const { return in_anomaly_; }

 private:
  double mean_ = 0;
  double var_ = 0;
  int seen_ = 0;
  bool in_anomaly_ = false;
};

}  // namespace freezr::engine
