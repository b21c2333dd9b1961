#include "engine/policy.h"

#include <algorithm>
#include <bit>
#include <unordered_set>

namespace freezr::engine {

Policy::Policy(const std::vector<Rule>* rules) : rules_(rules) { reset(rules); }

RuleCounters Policy::reset(const std::vector<Rule>* rules) {
  std::vector<State> next(rules->size());
  std::vector<bool> kept(states_.size(), false);
  for (std::size_t i = 0; i < rules->size(); ++i) {
    const auto& r = (*rules)[i];
    for (std::size_t j = 0; j < states_.size(); ++j) {
      if (!kept[j] && same_rule((*rules_)[j], r)) {
        next[i] = std::move(states_[j]);
        kept[j] = true;
        break;
      }
    }
    next[i].step_last_action.resize(r.steps.size());
    next[i].cooldown_reported.resize(r.steps.size());
  }
  RuleCounters retired;
  for (std::size_t j = 0; j < states_.size(); ++j) {
    if (!kept[j]) retired += states_[j].counters;
  }
  rules_ = rules;
  states_ = std::move(next);
  return retired;
}

int Policy::streak(std::size_t rule) const {
  int best = 0;
  for (const auto& [id, e] : states_[rule].entities) {
    for (const auto& s : e.steps) best = std::max(best, s.longest());
  }
  return best;
}

int Policy::entity_streak(std::size_t rule, const ProcessId& id) const {
  const auto& st = states_[rule];
  auto key = (*rules_)[rule].aggregate == Aggregate::kGroup ? kGroupEntity : id;
  if (auto part = st.part_of.find(id); part != st.part_of.end()) key = part->second;
  auto it = st.entities.find(key);
  if (it == st.entities.end()) return 0;
  int best = 0;
  for (const auto& s : it->second.steps) best = std::max(best, s.longest());
  return best;
}

LadderView Policy::ladder(std::size_t rule) const {
  LadderView v;
  v.streaks.assign((*rules_)[rule].steps.size(), 0);
  for (const auto& [id, e] : states_[rule].entities) {
    v.highest_tried = std::max(v.highest_tried, e.highest_tried);
    for (std::size_t i = 0; i < e.steps.size() && i < v.streaks.size(); ++i) {
      v.streaks[i] = std::max(v.streaks[i], e.steps[i].longest());
    }
  }
  return v;
}

namespace {
TargetInfo target_of(const ProcessSample& p) {
  return TargetInfo{p.id, p.comm, p.total_cpu(), p.rss_mb()};
}

// The metric whose count reached the step's violations, the first in Metric's order.
Metric due_metric(const Step& s, const Policy::Streak& st) {
  for (std::size_t k = 0; k < kMetrics; ++k) {
    if (st.n[k] >= s.violations) return static_cast<Metric>(k);
  }
  return Metric::kCpu;
}

// How much of the metric a process has, to choose a group's hottest.
double amount(const ProcessSample& p, Metric by, MemoryMetric memory) {
  switch (by) {
    case Metric::kMemory:
      return p.memory_mb(memory);
    case Metric::kIoRead:
      return p.io_read_bps.value_or(0);
    case Metric::kIoWrite:
      return p.io_write_bps.value_or(0);
    default:
      return p.total_cpu();
  }
}

// Descendants of the processes at `roots` (indexes into snap), breadth first.
std::vector<std::size_t> with_descendants(const Snapshot& snap,
                                          const std::vector<std::size_t>& roots) {
  std::unordered_multimap<Pid, std::size_t> children;
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    children.emplace(snap.processes[i].ppid, i);
  }
  std::vector<std::size_t> out = roots;
  std::unordered_set<std::size_t> seen(roots.begin(), roots.end());
  for (std::size_t k = 0; k < out.size(); ++k) {
    auto [a, b] = children.equal_range(snap.processes[out[k]].id.pid);
    for (auto it = a; it != b; ++it) {
      if (seen.insert(it->second).second) out.push_back(it->second);
    }
  }
  return out;
}
}  // namespace

// Cooldown and rate limit. Returns true (and fills d's verdict, or clears it when the hold
// was already reported) when the action must wait.
bool Policy::held_back(const Rule& r, std::size_t step, State& st, Seconds now, Decision& d) {
  const auto& last = st.step_last_action[step];
  const double cooldown = r.steps[step].cooldown;
  if (cooldown > 0 && last && now - *last < cooldown) {
    d.verdict = st.cooldown_reported[step] ? Verdict::kAct : Verdict::kCooldown;
    st.cooldown_reported[step] = true;
    return true;
  }
  if (r.max_actions > 0 && r.per_seconds > 0) {
    while (!st.action_times.empty() && now - st.action_times.front() >= r.per_seconds) {
      st.action_times.pop_front();
    }
    if (st.action_times.size() >= static_cast<std::size_t>(r.max_actions)) {
      d.verdict = st.rate_reported ? Verdict::kAct : Verdict::kRateLimited;
      st.rate_reported = true;
      return true;
    }
    st.rate_reported = false;
  }
  return false;
}

void Policy::fill_targets(const Rule& r, Metric by, const std::vector<std::size_t>& members,
                          const Snapshot& snap, const Protection& prot, Decision& d) const {
  std::vector<std::size_t> chosen = members;
  if (r.sums() && r.target == Target::kHottest && chosen.size() > 1) {
    auto key = [&](std::size_t i) { return amount(snap.processes[i], by, r.memory_metric); };
    chosen.assign(1, *std::max_element(chosen.begin(), chosen.end(),
                                       [&](auto a, auto b) { return key(a) < key(b); }));
  }
  if (r.scope == Scope::kTree && d.action.touches_processes()) {
    chosen = with_descendants(snap, chosen);
  }
  for (auto idx : chosen) {
    const auto& p = snap.processes[idx];
    if (!p.alive() || p.kernel_thread) continue;
    auto why = d.action.touches_processes() ? prot.reason(p) : std::nullopt;
    if (why) {
      d.skipped.emplace_back(target_of(p), *why);
    } else {
      d.targets.push_back(target_of(p));
    }
  }
}

bool Policy::count(std::size_t ri, const ProcessId& key, Entity& e, const Measure& m,
                   const std::vector<std::size_t>& members, const Snapshot& snap) {
  const Rule& r = (*rules_)[ri];
  std::array<bool, kMetrics> hit{};
  std::array<std::size_t, kMetrics> step_of{};  // the first step each metric broke
  const auto v = step_violations(r, m);
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    auto& st = e.steps[i];
    const int w = r.steps[i].window;
    const std::uint64_t keep = w >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << w) - 1;
    for (std::size_t k = 0; k < kMetrics; ++k) {
      if (v[i].by[k] && !hit[k]) hit[k] = true, step_of[k] = i;
      if (w > 0) {
        st.bits[k] = ((st.bits[k] << 1) | (v[i].by[k] ? 1U : 0U)) & keep;
        st.n[k] = std::popcount(st.bits[k]);
      } else {
        st.n[k] = v[i].by[k] ? st.n[k] + 1 : 0;
      }
    }
  }
  const auto at = [&](Metric k) { return hit[static_cast<std::size_t>(k)]; };
  const bool any_io = at(Metric::kIoRead) || at(Metric::kIoWrite);
  const bool any = std::find(hit.begin(), hit.end(), true) != hit.end();
  if (any != e.violating) {
    const std::string comm =
        key == kGroupEntity || members.empty() ? std::string() : snap.processes[members[0]].comm;
    std::size_t first = 0;
    while (first < kMetrics && !hit[first]) ++first;
    Observed o;
    if (any) o = observed(r.steps[step_of[first]], static_cast<Metric>(first), m);
    transitions_.push_back({r.name, key, comm, any, o.metric, o.value});
    e.violating = any;
  }
  auto& c = states_[ri].counters;
  c.checks++;
  if (any) c.violating_checks++;
  if (at(Metric::kCpu)) c.cpu_violations++, c.cpu_since_action++;
  if (at(Metric::kMemory)) c.memory_violations++, c.memory_since_action++;
  if (any_io) c.io_violations++;
  if (at(Metric::kPressure)) c.pressure_violations++;
  return any;
}

void Policy::calm_down(std::size_t ri, const ProcessId& key, Entity& e,
                       const std::vector<std::size_t>& members, const Snapshot& snap,
                       std::vector<Decision>& out) {
  const Rule& r = (*rules_)[ri];
  e.calm++;
  if (e.calm < r.steps.front().violations) return;
  e.highest_tried = -1;  // calmed down: the ladder starts again from the bottom
  if (!e.holds || !r.restore) return;
  Decision d;
  d.rule_index = ri;
  d.rule = r.name;
  d.verdict = Verdict::kRelease;
  d.entity = key;
  d.streak = e.calm;
  for (auto idx : members) d.targets.push_back(target_of(snap.processes[idx]));
  out.push_back(std::move(d));
  e.holds = false;
  e.throttle_limit.reset();
}

void Policy::judge(std::size_t ri, const ProcessId& key, const Measure& m,
                   const std::vector<std::size_t>& members, const Snapshot& snap,
                   const Protection& prot, std::vector<Decision>& out) {
  const Rule& r = (*rules_)[ri];
  Entity& e = states_[ri].entities[key];
  e.steps.resize(r.steps.size());
  if (e.frozen_until && snap.time < *e.frozen_until + snap.interval) return;  // frozen by it
  const bool any = count(ri, key, e, m, members, snap);
  const bool calm = !any && (!e.throttle_limit || !m.cpu_valid || m.cpu < *e.throttle_limit / 2);
  if (!any && !calm) {
    for (auto& st : e.steps) st = Streak{};  // held at its cap: neither worse nor recovered
    e.calm = 0;
    return;
  }
  if (calm) {
    calm_down(ri, key, e, members, snap, out);
    return;
  }
  e.calm = 0;
  escalate(ri, key, e, m, members, snap, prot, out);
}

Decision Policy::decide(std::size_t ri, std::size_t i, const ProcessId& key, const Entity& e,
                        const Measure& m) const {
  const Rule& r = (*rules_)[ri];
  const Step& s = r.steps[i];
  const auto by = due_metric(s, e.steps[i]);
  const auto o = observed(s, by, m);
  Decision d;
  d.rule_index = ri;
  d.rule = r.name;
  d.step = i;
  d.action = s.action;
  d.entity = key;
  d.metric = o.metric;
  d.value = o.value;
  d.threshold = o.threshold;
  d.streak = e.steps[i].n[static_cast<std::size_t>(by)];
  d.window = s.window;
  if (s.gated() && by != Metric::kPressure) d.gates = gate_words(s, m);
  if (by == Metric::kMemory && m.mem <= *s.memory_mb && m.leak) {
    d.predicted_seconds = seconds_to_reach(*m.leak, m.mem, *s.memory_mb);
    d.predicted_rate = m.leak->slope * 60;
  }
  return d;
}

void Policy::escalate(std::size_t ri, const ProcessId& key, Entity& e, const Measure& m,
                      const std::vector<std::size_t>& members, const Snapshot& snap,
                      const Protection& prot, std::vector<Decision>& out) {
  const Rule& r = (*rules_)[ri];
  State& st = states_[ri];
  for (std::size_t i = r.steps.size(); i-- > 0;) {
    const Step& s = r.steps[i];
    const int rung = static_cast<int>(i);
    if (rung > e.highest_tried + 1) continue;  // the step below has not acted yet
    if (rung < e.highest_tried) continue;      // already escalated past it
    if (rung == e.highest_tried && s.action.lasting()) continue;  // already in force
    if (e.steps[i].longest() < s.violations) continue;
    const auto& last = st.step_last_action[i];
    if (s.action.kind == ActionKind::kRestart && !s.action.service.empty() && last &&
        *last == snap.time) {
      e.steps[i] = Streak{};  // another process of the rule restarted the unit this scan
      return;
    }
    Decision d = decide(ri, i, key, e, m);
    const Seconds now = snap.time;
    const bool held = held_back(r, i, st, now, d);
    fill_targets(r, due_metric(s, e.steps[i]), members, snap, prot, d);
    if (held) {
      if (d.verdict != Verdict::kAct) out.push_back(std::move(d));
      return;
    }
    // This step and the ones above count afresh: each rung gets its own scans to prove the
    // one below did not help. A step that acts again (a freeze repeated while the kill above
    // it counts) starts only its own count again: the rungs above go on counting.
    const std::size_t fresh_to = rung == e.highest_tried ? i + 1 : e.steps.size();
    for (std::size_t k = i; k < fresh_to; ++k) e.steps[k] = Streak{};
    if (d.action.touches_processes() && d.targets.empty()) {
      d.verdict = Verdict::kProtected;
      out.push_back(std::move(d));
      return;
    }
    st.step_last_action[i] = now;
    st.cooldown_reported[i] = false;
    st.action_times.push_back(now);
    auto& c = st.counters;
    c.actions++;
    c.cpu_since_action = 0;
    c.memory_since_action = 0;
    e.highest_tried = std::max(e.highest_tried, rung);
    if (d.action.lasting()) e.holds = true;
    if (d.action.kind == ActionKind::kThrottle) e.throttle_limit = d.action.cpu_limit;
    if (d.action.kind == ActionKind::kFreeze) e.frozen_until = now + d.action.duration;
    out.push_back(std::move(d));
    return;
  }
}

std::vector<Decision> Policy::evaluate(const Snapshot& snap, const Classification& cls,
                                       const Protection& protection, const Forecast* forecast) {
  std::vector<Decision> out;
  transitions_.clear();
  for (std::size_t ri = 0; ri < rules_->size(); ++ri) {
    const Rule& r = (*rules_)[ri];
    State& st = states_[ri];
    auto& c = st.counters;
    const auto& members = cls.members[ri];
    c.processes = members.size();
    c.cpu_percent = 0;
    c.rss_mb = 0;
    c.io_read_bps = 0;
    c.io_write_bps = 0;
    for (auto idx : members) {
      const auto& p = snap.processes[idx];
      c.cpu_percent += p.total_cpu();
      c.rss_mb += p.rss_mb();
      c.io_read_bps += p.io_read_bps.value_or(0);
      c.io_write_bps += p.io_write_bps.value_or(0);
    }
    c.cpu_seconds += c.cpu_percent / 100.0 * snap.interval;
    if (!r.enabled || r.steps.empty()) continue;
    const auto ps = parts(r, ri, members, cls);
    const auto entities = measures(r, ri, ps, snap, forecast);
    if (r.aggregate == Aggregate::kGroup) {
      if (entities.empty()) {
        st.entities.erase(kGroupEntity);
      } else {
        judge(ri, kGroupEntity, entities[0].second, members, snap, protection, out);
      }
      continue;
    }
    std::unordered_set<ProcessId, ProcessIdHash> present;
    st.part_of.clear();
    for (std::size_t k = 0; k < entities.size(); ++k) {
      const auto& [id, m] = entities[k];
      present.insert(id);
      const auto decided = out.size();
      const auto moved = transitions_.size();
      judge(ri, id, m, ps[k].members, snap, protection, out);
      if (ps[k].name.empty()) continue;
      // A unit's or user's entity: named in its decisions and transitions.
      for (auto idx : ps[k].members) st.part_of[snap.processes[idx].id] = id;
      for (auto d = decided; d < out.size(); ++d) {
        out[d].entity_kind = to_string(r.aggregate);
        out[d].entity_name = ps[k].name;
      }
      for (auto t = moved; t < transitions_.size(); ++t) transitions_[t].comm = ps[k].name;
    }
    // Processes (or units, users) that left the rule (exited, or exec'd into something else).
    for (auto it = st.entities.begin(); it != st.entities.end();) {
      if (present.count(it->first) != 0U) {
        ++it;
        continue;
      }
      if (it->second.violating) {
        transitions_.push_back({r.name, it->first, "", false, "", 0});
      }
      if (it->second.holds && r.restore) {
        Decision d;
        d.rule_index = ri;
        d.rule = r.name;
        d.verdict = Verdict::kRelease;
        d.entity = it->first;
        out.push_back(std::move(d));
      }
      it = st.entities.erase(it);
    }
  }
  return out;
}

}  // namespace freezr::engine
