#include "engine/forecast.h"

#include <algorithm>

#include "engine/policy.h"

namespace freezr::engine {

namespace {
constexpr std::size_t kMaxPoints = 60;

std::optional<double> lowest_memory_limit(const Rule& r) {
  std::optional<double> out;
  for (const auto& s : r.steps) {
    if (s.memory_mb && (!out || *s.memory_mb < *out)) out = s.memory_mb;
  }
  return out;
}
}  // namespace

Forecaster::Forecaster(const std::vector<Rule>* rules, PredictSettings settings)
    : rules_(rules), s_(settings), available_(settings.exhaustion_window, kMaxPoints) {}

void Forecaster::reset(const std::vector<Rule>* rules, PredictSettings settings) {
  rules_ = rules;
  s_ = settings;
  tracks_.clear();
  available_ = Series(s_.exhaustion_window, kMaxPoints);
  leaks_.clear();
  exhaustion_.reset();
  exhaustion_warned_ = false;
}

std::optional<Trend> Forecaster::leak(std::size_t rule, const ProcessId& entity) const {
  auto it = tracks_.find({rule, entity});
  if (it == tracks_.end() || !it->second.leaking) return std::nullopt;
  return it->second.trend;
}

void Forecaster::feed(std::size_t ri, const ProcessId& id, const std::string& comm, double rss_mb,
                      std::optional<double> cpu, Seconds now, std::map<Key, Track, KeyLess>& next) {
  const Rule& r = (*rules_)[ri];
  auto node = tracks_.extract({ri, id});
  Track t =
      node ? std::move(node.mapped()) : Track{Series(s_.leak.window, kMaxPoints), {}, false, {}};
  t.rss.add(now, rss_mb);
  t.trend = leak_trend(t.rss, s_.leak);
  const bool was = t.leaking;
  t.leaking = t.trend.has_value();
  if (t.leaking) {
    LeakReport l;
    l.rule_index = ri;
    l.rule = r.name;
    l.entity = id;
    l.comm = comm;
    l.rss_mb = rss_mb;
    l.fitted_mb = t.trend->level;
    l.mb_per_minute = t.trend->slope * 60;
    l.agreement = t.trend->agreement;
    l.points = t.trend->points;
    l.span = t.trend->span;
    l.limit_mb = lowest_memory_limit(r);
    if (l.limit_mb) l.seconds_to_limit = seconds_to_reach(*t.trend, rss_mb, *l.limit_mb);
    if (!was) new_leaks_.push_back(l);
    leaks_.push_back(std::move(l));
  }
  if (cpu && s_.anomalies) {
    if (auto a = t.cpu.observe(*cpu, s_.anomaly)) {
      anomalies_.push_back({r.name, id, comm, *a});
    }
  }
  next.emplace(Key{ri, id}, std::move(t));
}

void Forecaster::observe(const Snapshot& snap, const Classification& cls,
                         std::optional<double> critical_available_mb) {
  leaks_.clear();
  new_leaks_.clear();
  anomalies_.clear();
  exhaustion_changed_.reset();
  if (!s_.enabled) return;
  std::map<Key, Track, KeyLess> next;
  for (std::size_t ri = 0; ri < rules_->size() && ri < cls.members.size(); ++ri) {
    const Rule& r = (*rules_)[ri];
    if (!r.enabled) continue;
    const auto& members = cls.members[ri];
    if (r.sums()) {
      for (const auto& part : parts(r, ri, members, cls)) {
        double rss = 0, cpu = 0;
        bool cpu_valid = false;
        for (auto idx : part.members) {
          const auto& p = snap.processes[idx];
          rss += p.rss_mb();
          if (p.cpu_valid) cpu += p.total_cpu(), cpu_valid = true;
        }
        feed(ri, part.id, part.name, rss, cpu_valid ? std::optional<double>(cpu) : std::nullopt,
             snap.time, next);
      }
      continue;
    }
    for (auto idx : members) {
      const auto& p = snap.processes[idx];
      feed(ri, p.id, p.comm, p.rss_mb(),
           p.cpu_valid ? std::optional<double>(p.total_cpu()) : std::nullopt, snap.time, next);
    }
  }
  tracks_.swap(next);  // entities that left their rule are forgotten

  if (snap.meminfo) {
    const auto& m = *snap.meminfo;
    available_.add(snap.time, static_cast<double>(m.available_kb + m.swap_free_kb) / 1024.0);
  }
  exhaustion_.reset();
  if (critical_available_mb) {
    exhaustion_ = predict_exhaustion(available_, *critical_available_mb, s_.exhaustion_min_span,
                                     s_.exhaustion_min_agreement);
  }
  const bool warn = exhaustion_ && exhaustion_->seconds < s_.exhaustion_warn_minutes * 60;
  if (warn != exhaustion_warned_) exhaustion_changed_ = warn;
  exhaustion_warned_ = warn;
}

}  // namespace freezr::engine
