#include "engine/exec_rules.h"

#include <algorithm>

#include "engine/classifier.h"

namespace freezr::engine {

bool acts_at_exec(const std::vector<Rule>& rules) {
  return std::any_of(rules.begin(), rules.end(),
                     [](const Rule& r) { return r.enabled && r.on_exec; });
}

std::vector<Decision> exec_decisions(const std::vector<Rule>& rules, const ProcessSample& s,
                                     proc::InfoSource& info, const Protection& protection,
                                     const std::function<bool(std::size_t)>& done,
                                     std::string_view via) {
  std::vector<Decision> out;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    if (!r.enabled || !r.on_exec || done(i) || !matches(r.match, s, info)) continue;
    Decision d;
    d.origin = Origin::kExec;
    d.rule_index = i;
    d.rule = r.name;
    d.action = *r.on_exec;
    d.entity = s.id;
    d.metric = "exec";
    d.note = "matched rule '" + r.name + "' at " + std::string(via);
    const TargetInfo t{s.id, s.comm, s.total_cpu(), s.rss_mb()};
    const auto why = d.action.touches_processes() ? protection.reason(s) : std::nullopt;
    if (why) {
      d.verdict = Verdict::kProtected;
      d.skipped.emplace_back(t, *why);
    } else {
      d.targets.push_back(t);
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace freezr::engine
