#include "engine/policy.h"

#include <algorithm>
#include <cstdio>

namespace freezr::engine {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kAct: return "act";
    case Verdict::kProtected: return "protected";
    case Verdict::kCooldown: return "cooldown";
  }
  return "?";
}

std::string Decision::reason() const {
  char buf[160];
  const bool cpu = metric == "cpu";
  std::snprintf(buf, sizeof buf, "%s %.1f%s > %.1f%s for %d scan%s", metric.c_str(), value,
                cpu ? "%" : " MiB", threshold, cpu ? "%" : " MiB", streak, streak == 1 ? "" : "s");
  return buf;
}

Policy::Policy(const std::vector<Rule>* rules) : rules_(rules), states_(rules->size()) {}

void Policy::reset(const std::vector<Rule>* rules) {
  std::vector<State> next(rules->size());
  for (std::size_t i = 0; i < rules->size(); ++i) {
    for (std::size_t j = 0; j < rules_->size(); ++j) {
      if (same_rule((*rules_)[j], (*rules)[i])) {
        next[i] = std::move(states_[j]);
        break;
      }
    }
  }
  rules_ = rules;
  states_ = std::move(next);
}

int Policy::streak(std::size_t rule) const {
  const auto& st = states_[rule];
  int best = std::max(st.group.cpu, st.group.mem);
  for (const auto& [id, s] : st.per_process) best = std::max({best, s.cpu, s.mem});
  return best;
}

bool Policy::in_cooldown(const Rule& r, const State& st, Seconds now) const {
  return r.cooldown > 0 && st.last_action && now - *st.last_action < r.cooldown;
}

void Policy::mark_acted(State& st, Seconds now) {
  st.last_action = now;
  st.cooldown_reported = false;
  st.counters.actions++;
  st.counters.cpu_since_action = 0;
  st.counters.memory_since_action = 0;
}

Policy::Streak Policy::step(const Rule& r, Streak s, double cpu, bool cpu_valid, double mem,
                            State& st) {
  const bool cpu_v = r.cpu_percent && cpu_valid && cpu > *r.cpu_percent;
  const bool mem_v = r.memory_mb && mem > *r.memory_mb;
  s.cpu = cpu_v ? s.cpu + 1 : 0;
  s.mem = mem_v ? s.mem + 1 : 0;
  auto& c = st.counters;
  c.checks++;
  if (cpu_v || mem_v) c.violating_checks++;
  if (cpu_v) c.cpu_violations++, c.cpu_since_action++;
  if (mem_v) c.memory_violations++, c.memory_since_action++;
  return s;
}

namespace {
TargetInfo target_of(const ProcessSample& p) {
  return TargetInfo{p.id, p.comm, p.cpu_percent, p.rss_mb()};
}

Decision make_decision(std::size_t ri, const Rule& r, const char* metric, double value,
                       double threshold, int streak) {
  Decision d;
  d.rule_index = ri;
  d.rule = r.name;
  d.action = r.action;
  d.metric = metric;
  d.value = value;
  d.threshold = threshold;
  d.streak = streak;
  d.service = r.service;
  return d;
}
}  // namespace

void Policy::evaluate_process_rule(std::size_t ri, const Snapshot& snap,
                                   const std::vector<std::size_t>& members,
                                   const Protection& prot, std::vector<Decision>& out) {
  const Rule& r = (*rules_)[ri];
  State& st = states_[ri];
  std::unordered_map<ProcessId, Streak, ProcessIdHash> next;
  std::vector<Trigger> triggers;
  for (auto idx : members) {
    const auto& p = snap.processes[idx];
    auto prev = st.per_process.find(p.id);
    Streak s = prev == st.per_process.end() ? Streak{} : prev->second;
    s = step(r, s, p.cpu_percent, p.cpu_valid, p.rss_mb(), st);
    if (s.cpu >= r.violations) {
      triggers.push_back({idx, "cpu", p.cpu_percent, *r.cpu_percent, s.cpu});
    } else if (s.mem >= r.violations) {
      triggers.push_back({idx, "memory", p.rss_mb(), *r.memory_mb, s.mem});
    }
    next.emplace(p.id, s);
  }
  st.per_process.swap(next);
  if (triggers.empty()) return;

  const Seconds now = snap.time;
  if (r.action == ActionKind::kRestart) {
    const auto& t = triggers.front();
    if (in_cooldown(r, st, now)) {
      if (!st.cooldown_reported) {
        auto d = make_decision(ri, r, t.metric, t.value, t.threshold, t.streak);
        d.verdict = Verdict::kCooldown;
        out.push_back(std::move(d));
        st.cooldown_reported = true;
      }
      return;
    }
    auto d = make_decision(ri, r, t.metric, t.value, t.threshold, t.streak);
    for (const auto& tr : triggers) {
      d.targets.push_back(target_of(snap.processes[tr.index]));
      st.per_process[snap.processes[tr.index].id] = Streak{};
    }
    out.push_back(std::move(d));
    mark_acted(st, now);
    return;
  }
  for (const auto& t : triggers) {
    const auto& p = snap.processes[t.index];
    auto d = make_decision(ri, r, t.metric, t.value, t.threshold, t.streak);
    if (r.action == ActionKind::kKill) {
      if (auto why = prot.reason(p)) {
        d.verdict = Verdict::kProtected;
        d.skipped.emplace_back(target_of(p), *why);
        st.per_process[p.id] = Streak{};
        out.push_back(std::move(d));
        continue;
      }
    }
    if (in_cooldown(r, st, now)) {
      if (!st.cooldown_reported) {
        d.verdict = Verdict::kCooldown;
        d.targets.push_back(target_of(p));
        out.push_back(std::move(d));
        st.cooldown_reported = true;
      }
      continue;
    }
    d.targets.push_back(target_of(p));
    st.per_process[p.id] = Streak{};
    out.push_back(std::move(d));
    mark_acted(st, now);
  }
}

void Policy::evaluate_group_rule(std::size_t ri, const Snapshot& snap,
                                 const std::vector<std::size_t>& members,
                                 const Protection& prot, std::vector<Decision>& out) {
  const Rule& r = (*rules_)[ri];
  State& st = states_[ri];
  st.per_process.clear();
  if (members.empty()) {
    st.group = Streak{};
    return;
  }
  double cpu = 0, mem = 0;
  bool cpu_valid = false;
  for (auto idx : members) {
    const auto& p = snap.processes[idx];
    if (p.cpu_valid) cpu += p.cpu_percent, cpu_valid = true;
    mem += p.rss_mb();
  }
  st.group = step(r, st.group, cpu, cpu_valid, mem, st);
  const bool by_cpu = st.group.cpu >= r.violations;
  if (!by_cpu && st.group.mem < r.violations) return;

  const Seconds now = snap.time;
  auto d = by_cpu ? make_decision(ri, r, "cpu", cpu, *r.cpu_percent, st.group.cpu)
                  : make_decision(ri, r, "memory", mem, *r.memory_mb, st.group.mem);
  if (in_cooldown(r, st, now)) {
    if (!st.cooldown_reported) {
      d.verdict = Verdict::kCooldown;
      out.push_back(std::move(d));
      st.cooldown_reported = true;
    }
    return;
  }
  std::vector<std::size_t> eligible;
  for (auto idx : members) {
    const auto& p = snap.processes[idx];
    auto why = r.action == ActionKind::kKill ? prot.reason(p) : std::nullopt;
    if (why) {
      d.skipped.emplace_back(target_of(p), *why);
    } else {
      eligible.push_back(idx);
    }
  }
  if (r.target == Target::kHottest && eligible.size() > 1) {
    auto key = [&](std::size_t i) {
      const auto& p = snap.processes[i];
      return by_cpu ? p.cpu_percent : p.rss_mb();
    };
    auto hottest = *std::max_element(eligible.begin(), eligible.end(),
                                     [&](auto a, auto b) { return key(a) < key(b); });
    eligible.assign(1, hottest);
  }
  for (auto idx : eligible) d.targets.push_back(target_of(snap.processes[idx]));
  st.group = Streak{};
  if (r.action == ActionKind::kKill && d.targets.empty()) {
    d.verdict = Verdict::kProtected;
    out.push_back(std::move(d));
    return;
  }
  out.push_back(std::move(d));
  mark_acted(st, now);
}

std::vector<Decision> Policy::evaluate(const Snapshot& snap, const Classification& cls,
                                       const Protection& protection) {
  std::vector<Decision> out;
  for (std::size_t ri = 0; ri < rules_->size(); ++ri) {
    const Rule& r = (*rules_)[ri];
    auto& c = states_[ri].counters;
    const auto& members = cls.members[ri];
    c.processes = members.size();
    c.cpu_percent = 0;
    c.rss_mb = 0;
    for (auto idx : members) {
      c.cpu_percent += snap.processes[idx].cpu_percent;
      c.rss_mb += snap.processes[idx].rss_mb();
    }
    if (!r.enabled) continue;
    if (r.aggregate == Aggregate::kGroup) {
      evaluate_group_rule(ri, snap, members, protection, out);
    } else {
      evaluate_process_rule(ri, snap, members, protection, out);
    }
  }
  return out;
}

}  // namespace freezr::engine
