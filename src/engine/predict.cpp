#include "engine/predict.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace freezr::engine {

namespace {
double quantile(std::vector<double>& v, double q) {
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
}  // namespace

std::optional<Trend> theil_sen(std::span<const Point> points) {
  if (points.size() < 3) return std::nullopt;
  std::vector<double> slopes;
  slopes.reserve(points.size() * (points.size() - 1) / 2);
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (std::size_t j = i + 1; j < points.size(); ++j) {
      const double dt = points[j].t - points[i].t;
      if (dt > 0) slopes.push_back((points[j].v - points[i].v) / dt);
    }
  }
  if (slopes.empty()) return std::nullopt;
  Trend t;
  t.points = points.size();
  t.span = points.back().t - points.front().t;
  t.latest = points.back().v;
  double same = 0;
  for (const double s : slopes) same += s == 0 ? 0.5 : 0.0;
  t.slope = quantile(slopes, 0.5);
  for (const double s : slopes) {
    if ((t.slope > 0 && s > 0) || (t.slope < 0 && s < 0)) same += 1;
  }
  if (t.slope == 0) same = static_cast<double>(slopes.size()) / 2;
  t.agreement = same / static_cast<double>(slopes.size());
  t.slope_low = quantile(slopes, 0.25);
  t.slope_high = quantile(slopes, 0.75);
  std::vector<double> levels;
  levels.reserve(points.size());
  const Seconds last = points.back().t;
  for (const auto& p : points) levels.push_back(p.v + t.slope * (last - p.t));
  t.level = quantile(levels, 0.5);
  return t;
}

void Series::add(Seconds t, double v) {
  while (!points_.empty() && points_.front().t < t - window_) points_.erase(points_.begin());
  const Seconds spacing = window_ / static_cast<double>(std::max<std::size_t>(max_points_, 1));
  if (points_.size() >= 2 && points_.back().t - points_[points_.size() - 2].t < spacing) {
    points_.back() = {t, v};
    return;
  }
  points_.push_back({t, v});
  if (points_.size() > max_points_) points_.erase(points_.begin());
}

std::optional<Trend> leak_trend(const Series& rss_mb, const LeakCriteria& c) {
  auto t = rss_mb.trend();
  if (!t || t->span < c.min_span || t->points < kMinTrendPoints) return std::nullopt;
  if (t->slope * 60 < c.min_mb_per_minute || t->agreement < c.min_agreement) return std::nullopt;
  const auto pts = rss_mb.points();
  const std::size_t k = std::min(pts.size(), std::max<std::size_t>(4, pts.size() / 3));
  const auto recent = theil_sen(pts.subspan(pts.size() - k));
  if (!recent || recent->slope * 60 < c.min_mb_per_minute / 2) {
    return std::nullopt;  // levelled off: the older rise no longer predicts anything
  }
  return t;
}

std::optional<double> seconds_to_reach(const Trend& t, double from, double limit) {
  const double gap = limit - from;
  if ((gap > 0 && t.slope <= 0) || (gap < 0 && t.slope >= 0)) {
    return gap == 0 ? std::optional<double>(0) : std::nullopt;
  }
  if (gap == 0) return 0.0;
  return gap / t.slope;
}

std::optional<Exhaustion> predict_exhaustion(const Series& available_mb, double critical_mb,
                                             Seconds min_span, double min_agreement) {
  auto t = available_mb.trend();
  if (!t || t->span < min_span || t->points < kMinTrendPoints || t->slope >= 0 ||
      t->agreement < min_agreement) {
    return std::nullopt;
  }
  Exhaustion e;
  e.available_mb = t->level;
  e.critical_mb = critical_mb;
  e.mb_per_minute = t->slope * 60;
  e.agreement = t->agreement;
  const double gap = std::max(0.0, t->level - critical_mb);
  e.seconds = gap / -t->slope;
  e.seconds_low = gap / -std::min(t->slope_low, t->slope);
  e.seconds_high =
      t->slope_high < 0 ? gap / -t->slope_high : std::numeric_limits<double>::infinity();
  return e;
}

double Baseline::deviation() const { return std::sqrt(std::max(0.0, var_)); }

std::optional<Anomaly> Baseline::observe(double x, const AnomalyCriteria& c) {
  std::optional<Anomaly> out;
  const double before_mean = mean_;
  const double before_dev = deviation();
  const double excess = x - mean_;
  bool anomalous = false;
  if (seen_ >= c.warmup) {
    anomalous = excess >= c.min_delta && excess >= c.sigmas * before_dev;
    const bool still = in_anomaly_ && excess >= std::max(c.min_delta, c.sigmas * before_dev) / 2;
    if (anomalous && !in_anomaly_) {
      out = Anomaly{x, before_mean, before_dev,
                    before_dev > 0 ? excess / before_dev : std::numeric_limits<double>::infinity()};
    }
    in_anomaly_ = anomalous || still;
  }
  const double alpha = seen_ == 0 ? 1.0 : (anomalous ? c.alpha / 4 : c.alpha);
  const double diff = x - mean_;
  const double incr = alpha * diff;
  mean_ += incr;
  var_ = seen_ == 0 ? 0 : (1 - alpha) * (var_ + diff * incr);
  ++seen_;
  return out;
}

}  // namespace freezr::engine
