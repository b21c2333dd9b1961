#include "engine/victims.h"

#include <algorithm>
#include <cstdio>

namespace freezr::engine {

std::optional<NamePattern> parse_name_pattern(const std::string& text) {
  // The size suffix follows the closing slash of a regular expression, else the first '>'.
  const bool slashed = !text.empty() && text.front() == '/';
  const auto close = slashed ? text.rfind('/') : std::string::npos;
  if (slashed && close == 0) return std::nullopt;
  const auto gt = text.find('>', slashed ? close : 0);
  NamePattern p{text.substr(0, gt), std::nullopt, std::nullopt};
  if (p.name.empty()) return std::nullopt;
  if (!slashed) {
    if (p.name.ends_with(".slice")) p.place = NamePattern::Place::kSlice;
    for (const char* unit : {".service", ".scope"}) {
      if (p.name.ends_with(unit)) p.place = NamePattern::Place::kUnit;
    }
  }
  if (slashed) {
    if (p.name.size() != close + 1 || close < 2) return std::nullopt;
    auto re = Regex::compile(p.name.substr(1, close - 1));
    if (!re) return std::nullopt;
    p.regex = std::move(*re);
  }
  if (gt == std::string::npos) return p;
  try {
    std::size_t used = 0;
    const double mb = std::stod(text.substr(gt + 1), &used);
    if (used != text.size() - gt - 1 || mb < 0) return std::nullopt;
    p.min_rss_mb = mb;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return p;
}

namespace {

constexpr int kUnlisted = 10000;
constexpr int kAvoided = 20000;

bool pattern_hits(const NamePattern& p, const ProcessSample& s, std::size_t index,
                  const Classification& cls, const std::vector<Rule>& rules,
                  proc::InfoSource& info) {
  if (p.min_rss_mb && s.rss_mb() <= *p.min_rss_mb) return false;
  if (p.regex) return p.regex->search(s.comm);
  if (s.comm == p.name) return true;
  if (p.place == NamePattern::Place::kUnit) return info.placement(s.id)->in_unit(p.name);
  if (p.place == NamePattern::Place::kSlice) return info.placement(s.id)->in_slice(p.name);
  for (std::size_t r = 0; r < rules.size(); ++r) {
    if (rules[r].name != p.name) continue;
    const auto& m = cls.members[r];
    if (std::find(m.begin(), m.end(), index) != m.end()) return true;
  }
  return false;
}

std::string describe(const NamePattern& p) {
  if (!p.min_rss_mb) return "'" + p.name + "'";
  char buf[64];
  std::snprintf(buf, sizeof buf, " over %.0f MiB", *p.min_rss_mb);
  return "'" + p.name + "'" + buf;
}

}  // namespace

VictimOrder rank_victims(const Snapshot& snap, const Classification& cls,
                         const std::vector<Rule>& rules, const VictimPolicy& policy,
                         const Protection& protection, proc::InfoSource& info,
                         const std::function<OomFacts(Pid)>& facts) {
  VictimOrder out;
  struct Row {
    RankedVictim v;
    double rss = 0;  // MiB by the policy's memory metric
    int oom_score = 0;
    Pid pid = 0;
  };
  std::vector<Row> rows;
  for (std::size_t i = 0; i < snap.processes.size(); ++i) {
    const auto& p = snap.processes[i];
    if (p.kernel_thread || !p.alive()) continue;
    if (policy.candidates && !matches(*policy.candidates, p, info)) continue;
    if (auto why = protection.reason(p)) {
      out.excluded.emplace_back(i, *why);
      continue;
    }
    const auto f = facts(p.id.pid);
    if (f.oom_score_adj == -1000) {
      out.excluded.emplace_back(i, "oom_score_adj is -1000");
      continue;
    }
    Row row;
    row.v.index = i;
    row.v.tier = kUnlisted;
    row.rss = memory_mb(p.rss_bytes, f.memory ? f.memory : p.memory, policy.memory_metric);
    row.oom_score = f.oom_score;
    row.pid = p.id.pid;
    for (std::size_t k = 0; k < policy.kill_order.size(); ++k) {
      if (pattern_hits(policy.kill_order[k], p, i, cls, rules, info)) {
        row.v.tier = static_cast<int>(k);
        row.v.reason =
            "kill_order #" + std::to_string(k + 1) + " (" + describe(policy.kill_order[k]) + ")";
        break;
      }
    }
    if (row.v.tier == kUnlisted) {
      for (const auto& a : policy.avoid) {
        if (pattern_hits(a, p, i, cls, rules, info)) {
          row.v.tier = kAvoided;
          row.v.reason = "on the avoid list (" + describe(a) + ")";
          break;
        }
      }
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s %.0f MiB, oom_score %d", row.v.reason.empty() ? "" : "; ",
                  policy.memory_metric == MemoryMetric::kRss   ? "RSS"
                  : policy.memory_metric == MemoryMetric::kPss ? "PSS"
                  : policy.memory_metric == MemoryMetric::kUss ? "USS"
                                                               : "RSS+swap",
                  row.rss, row.oom_score);
    row.v.reason += buf;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.v.tier != b.v.tier) return a.v.tier < b.v.tier;
    if (a.rss != b.rss) return a.rss > b.rss;
    if (a.oom_score != b.oom_score) return a.oom_score > b.oom_score;
    return a.pid < b.pid;
  });
  for (auto& r : rows) out.ranked.push_back(std::move(r.v));
  return out;
}

}  // namespace freezr::engine
