#include "engine/thermal.h"

#include <algorithm>
#include <cstdio>

namespace freezr::engine {

std::string thermal_rule_name(const ThermalSpec& s) { return "thermal:" + s.name; }

std::vector<Decision> ThermalResponder::reset(const std::vector<ThermalSpec>* specs) {
  std::vector<State> next(specs->size());
  std::vector<bool> kept(states_.size(), false);
  for (std::size_t i = 0; i < specs->size(); ++i) {
    next[i].spec = (*specs)[i];
    for (std::size_t j = 0; j < states_.size(); ++j) {
      if (!kept[j] && states_[j].spec == (*specs)[i]) {
        next[i] = std::move(states_[j]);
        kept[j] = true;
        break;
      }
    }
  }
  std::vector<Decision> out;
  for (std::size_t j = 0; j < states_.size(); ++j) {
    if (kept[j]) continue;
    auto r = release(states_[j], "the thermal section changed");
    out.insert(out.end(), r.begin(), r.end());
  }
  specs_ = specs;
  states_ = std::move(next);
  return out;
}

std::vector<Decision> ThermalResponder::release(const State& st, const std::string& why) {
  std::vector<Decision> out;
  for (const auto& id : st.held) {
    Decision d;
    d.origin = Origin::kThermal;
    d.rule = thermal_rule_name(st.spec);
    d.verdict = Verdict::kRelease;
    d.action = st.spec.action;
    d.entity = id;
    d.metric = "temperature";
    d.note = why;
    out.push_back(std::move(d));
  }
  return out;
}

void ThermalResponder::act(State& st, const Snapshot& snap, const Classification& cls, double temp,
                           const Protection& protection, Seconds now, std::vector<Decision>& out) {
  const auto& s = st.spec;
  std::vector<std::size_t> pool;
  for (auto ri : s.rule_indexes) {
    if (ri < cls.members.size())
      pool.insert(pool.end(), cls.members[ri].begin(), cls.members[ri].end());
  }
  for (std::size_t i = 0; i < snap.processes.size() && !s.category_indexes.empty(); ++i) {
    const int c = i < cls.category.size() ? cls.category[i] : -1;
    if (c >= 0 && std::find(s.category_indexes.begin(), s.category_indexes.end(),
                            static_cast<std::size_t>(c)) != s.category_indexes.end()) {
      pool.push_back(i);
    }
  }
  std::sort(pool.begin(), pool.end());
  pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
  std::erase_if(pool, [&](std::size_t i) {
    const auto& p = snap.processes[i];
    return p.kernel_thread || !p.alive() || st.held.count(p.id) != 0;
  });
  std::sort(pool.begin(), pool.end(), [&](auto a, auto b) {
    return snap.processes[a].total_cpu() > snap.processes[b].total_cpu();
  });
  char why[192];
  std::snprintf(why, sizeof why, "%s: %s at %.1f °C > %.1f °C for %d scan%s", s.name.c_str(),
                s.sensor.c_str(), temp, s.above, st.hot_scans, st.hot_scans == 1 ? "" : "s");
  int taken = 0;
  for (auto idx : pool) {
    if (taken >= s.hottest) break;
    const auto& p = snap.processes[idx];
    Decision d;
    d.origin = Origin::kThermal;
    d.rule = thermal_rule_name(s);
    d.action = s.action;
    d.entity = p.id;
    d.metric = "temperature";
    d.value = temp;
    d.threshold = s.above;
    d.streak = st.hot_scans;
    const TargetInfo t{p.id, p.comm, p.total_cpu(), p.rss_mb()};
    if (auto protected_why = protection.reason(p)) {
      d.verdict = Verdict::kProtected;
      d.skipped.emplace_back(t, *protected_why);
      d.note = std::string(why) + "; " + p.comm + " is protected";
      out.push_back(std::move(d));
      continue;
    }
    d.targets.push_back(t);
    d.note = std::string(why) + "; the hottest process of its rules: " + p.comm;
    ++taken;
    if (s.action.lasting()) st.held.insert(p.id);
    out.push_back(std::move(d));
  }
  if (s.action.kind == ActionKind::kFreeze && taken > 0) st.frozen_until = now + s.action.duration;
}

std::vector<Decision> ThermalResponder::evaluate(const Snapshot& snap, const Classification& cls,
                                                 const std::vector<std::optional<double>>& temps,
                                                 const Protection& protection, Seconds now) {
  std::vector<Decision> out;
  for (std::size_t i = 0; i < states_.size() && i < temps.size(); ++i) {
    auto& st = states_[i];
    if (!temps[i]) continue;
    const double t = *temps[i];
    if (t > st.spec.above) {
      st.hot_scans++;
      st.cool_scans = 0;
    } else if (t <= st.spec.below) {
      st.cool_scans++;
      st.hot_scans = 0;
    } else {
      st.cool_scans = 0;  // between the two: neither hotter nor cool
    }
    if (st.hot && st.cool_scans >= st.spec.violations) {
      char why[128];
      std::snprintf(why, sizeof why, "%s: %s back at %.1f °C <= %.1f °C for %d scans",
                    st.spec.name.c_str(), st.spec.sensor.c_str(), t, st.spec.below, st.cool_scans);
      auto r = release(st, why);
      out.insert(out.end(), r.begin(), r.end());
      st.held.clear();
      st.hot = false;
      st.frozen_until.reset();
      continue;
    }
    if (st.hot_scans < st.spec.violations) continue;
    if (st.frozen_until && now < *st.frozen_until) continue;
    // Hot: act on the hottest processes not held yet (a freeze again once the last one ended).
    const auto before = out.size();
    act(st, snap, cls, t, protection, now, out);
    if (out.size() > before) st.hot = true;
    st.hot_scans = 0;  // each further round needs its own hot scans
  }
  return out;
}

}  // namespace freezr::engine
