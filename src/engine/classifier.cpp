#include "engine/classifier.h"

#include <algorithm>

namespace freezr::engine {

const char* to_string(ActionKind a) {
  switch (a) {
    case ActionKind::kLog:
      return "log";
    case ActionKind::kRenice:
      return "renice";
    case ActionKind::kThrottle:
      return "throttle";
    case ActionKind::kFreeze:
      return "freeze";
    case ActionKind::kKill:
      return "kill";
    case ActionKind::kRestart:
      return "restart";
    case ActionKind::kExec:
      return "exec";
  }
  return "?";
}

const char* to_string(Aggregate a) {
  switch (a) {
    case Aggregate::kGroup:
      return "group";
    case Aggregate::kUnit:
      return "unit";
    case Aggregate::kUser:
      return "user";
    case Aggregate::kProcess:
      break;
  }
  return "process";
}

std::string place_key(Aggregate a, const ProcessSample& s, proc::InfoSource& info) {
  if (a == Aggregate::kUnit) return s.place ? s.place->unit : info.placement(s.id)->unit;
  if (a == Aggregate::kUser) {
    const auto uid = info.uid(s.id);
    return uid ? "uid " + std::to_string(*uid) : std::string();
  }
  return "";
}
const char* to_string(Target t) { return t == Target::kHottest ? "hottest" : "all"; }
const char* to_string(Scope s) { return s == Scope::kTree ? "tree" : "process"; }

const char* to_string(MemoryMetric m) {
  switch (m) {
    case MemoryMetric::kRss:
      return "rss";
    case MemoryMetric::kPss:
      return "pss";
    case MemoryMetric::kUss:
      return "uss";
    case MemoryMetric::kSwap:
      return "swap";
  }
  return "?";
}

double memory_mb(std::uint64_t rss_bytes, const std::optional<MemoryDetail>& detail,
                 MemoryMetric m) {
  const auto mib = [](std::uint64_t b) { return static_cast<double>(b) / kMiB; };
  if (!detail || m == MemoryMetric::kRss) return mib(rss_bytes);
  if (m == MemoryMetric::kPss) return mib(detail->pss);
  if (m == MemoryMetric::kUss) return mib(detail->uss);
  return mib(rss_bytes + detail->swap);
}

bool Rule::uses_io() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.uses_io(); });
}

bool Rule::uses_cgroup_pressure() const {
  return pressure_of == PressureScope::kCgroup &&
         std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.gated(); });
}

bool same_rule(const Rule& a, const Rule& b) {
  auto pattern = [](const Match& m) {
    return m.cmdline ? std::optional<std::string>(m.cmdline->pattern()) : std::nullopt;
  };
  return a.name == b.name && a.match.comm == b.match.comm && a.match.exe == b.match.exe &&
         pattern(a.match) == pattern(b.match) && a.match.uids == b.match.uids &&
         a.match.category == b.match.category && a.match.unit == b.match.unit &&
         a.match.slice == b.match.slice && a.match.container == b.match.container &&
         a.steps == b.steps && a.aggregate == b.aggregate && a.memory_metric == b.memory_metric &&
         a.pressure_of == b.pressure_of && a.target == b.target && a.scope == b.scope &&
         a.restore == b.restore && a.max_actions == b.max_actions &&
         a.per_seconds == b.per_seconds && a.enabled == b.enabled && a.on_exec == b.on_exec;
}

std::string command_line(const Command& c) {
  std::string out = c.shell ? "sh -c " : "";
  for (std::size_t i = 0; i < c.argv.size(); ++i) {
    const auto& a = c.argv[i];
    if (i > 0) out += ' ';
    if (!a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>()*?[]{}~#") == std::string::npos) {
      out += a;
      continue;
    }
    out += '\'';
    for (const char ch : a) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    out += '\'';
  }
  return out;
}

std::string action_summary(const Rule& r) {
  if (r.steps.empty()) {
    return std::string("on_exec ") + to_string(r.on_exec ? r.on_exec->kind : ActionKind::kLog);
  }
  return r.steps.size() == 1 ? to_string(r.steps[0].action.kind) : "ladder";
}

namespace {
std::string_view basename(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool placed(const Match& m, const proc::Placement& where) {
  const auto any = [](const std::vector<std::string>& wanted, auto&& hit) {
    return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), hit);
  };
  return any(m.unit, [&](const std::string& g) { return where.in_unit(g); }) &&
         any(m.slice, [&](const std::string& g) { return where.in_slice(g); }) &&
         any(m.container, [&](const std::string& c) { return proc::container_matches(where, c); });
}
}  // namespace

bool matches(const Match& m, const ProcessSample& s, proc::InfoSource& info) {
  if (!m.comm.empty() && std::find(m.comm.begin(), m.comm.end(), s.comm) == m.comm.end()) {
    return false;
  }
  if (!m.exe.empty()) {
    const std::string& exe = info.exe(s.id);
    if (exe.empty()) return false;
    const bool hit = std::any_of(m.exe.begin(), m.exe.end(), [&](const std::string& want) {
      return want.find('/') != std::string::npos ? exe == want : basename(exe) == want;
    });
    if (!hit) return false;
  }
  if (!m.uids.empty()) {
    const auto uid = info.uid(s.id);
    if (!uid || std::find(m.uids.begin(), m.uids.end(), *uid) == m.uids.end()) return false;
  }
  if (m.by_place() && !placed(m, *info.placement(s.id))) return false;
  if (m.cmdline && !m.cmdline->search(info.cmdline(s.id))) return false;
  if (!m.categories.empty() && categorize(m.categories, s, info) < 0) return false;
  return true;
}

int categorize(const std::vector<Category>& categories, const ProcessSample& s,
               proc::InfoSource& info) {
  for (std::size_t c = 0; c < categories.size(); ++c) {
    for (const auto& alt : categories[c].any) {
      if (matches(alt, s, info)) return static_cast<int>(c);
    }
  }
  return -1;
}

void Classifier::reset(const std::vector<Rule>* rules, const std::vector<Category>* categories) {
  rules_ = rules;
  categories_ = categories;
  cache_.clear();
}

const Classifier::Verdicts& Classifier::lookup(const ProcessSample& p, proc::InfoSource& info) {
  const auto& rules = *rules_;
  auto [it, added] = cache_.try_emplace(p.id);
  Cached& entry = it->second;
  entry.seen = round_;
  if (added || entry.comm != p.comm) {
    if (!added) info.forget(p.id);  // exec: name and command line changed
    entry.comm = p.comm;
    auto& v = entry.verdicts;
    v.hits.assign(rules.size(), false);
    for (std::size_t r = 0; r < rules.size(); ++r) {
      v.hits[r] = rules[r].enabled && matches(rules[r].match, p, info);
    }
    v.category = categories_ != nullptr ? categorize(*categories_, p, info) : -1;
  }
  return entry.verdicts;
}

void Classifier::sweep(std::size_t living) {
  if (cache_.size() > 2 * living + 64) {
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.seen != round_; });
  }
  ++round_;
}

void add_places(Classification& cls, const std::vector<Rule>& rules, const Snapshot& snap,
                proc::InfoSource& info) {
  cls.places.resize(rules.size());
  for (std::size_t r = 0; r < rules.size(); ++r) {
    cls.places[r].clear();
    if (rules[r].aggregate != Aggregate::kUnit && rules[r].aggregate != Aggregate::kUser) continue;
    for (auto idx : cls.members[r]) {
      cls.places[r].push_back(place_key(rules[r].aggregate, snap.processes[idx], info));
    }
  }
}

Classification Classifier::classify(const Snapshot& snap, proc::InfoSource& info) {
  const auto& rules = *rules_;
  Classification out;
  out.members.resize(rules.size());
  out.first_rule.assign(snap.processes.size(), -1);
  out.category.assign(snap.processes.size(), -1);
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    const auto& p = snap.processes[i];
    if (p.kernel_thread || !p.alive()) continue;
    const auto& v = lookup(p, info);
    out.category[i] = v.category;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      if (!v.hits[r]) continue;
      out.members[r].push_back(i);
      if (out.first_rule[i] < 0) out.first_rule[i] = static_cast<int>(r);
    }
  }
  add_places(out, rules, snap, info);
  sweep(snap.processes.size());
  return out;
}

}  // namespace freezr::engine
