// Reading [pressure]: the warning and critical levels, the victim order, the candidates.
#include "config/readers.h"

namespace freezr::config {

static void read_level(TableReader t, engine::LevelThresholds& l) {
  l = engine::LevelThresholds{};
  l.some_avg10 = t.number("some_avg10", 0, 100);
  l.full_avg10 = t.number("full_avg10", 0, 100);
  l.mem_available_percent = t.number("mem_available_percent", 0, 100);
  l.swap_free_percent = t.number("swap_free_percent", 0, 100);
  if (l.empty()) {
    t.fail(t.raw().source(), t.where() +
                                 ": give at least one of some_avg10, full_avg10, "
                                 "mem_available_percent, swap_free_percent");
  }
  l.action = read_action(t);
  const auto k = l.action.kind;
  if (k == engine::ActionKind::kThrottle || k == engine::ActionKind::kRestart ||
      k == engine::ActionKind::kExec) {
    t.fail_key("action", "must be log, renice, freeze or kill at a pressure level");
  }
  if (l.action.before) {
    t.fail_key("before", "a pressure level acts at once: use after, or a rule's step");
  }
  t.finish();
}

static std::vector<engine::NamePattern> read_patterns(TableReader& t, const std::string& key) {
  std::vector<engine::NamePattern> out;
  for (const auto& s : t.string_list(key).value_or(std::vector<std::string>{})) {
    auto p = engine::parse_name_pattern(s);
    if (!p) {
      t.fail_key(key,
                 "'" + s + "' is not \"name\", \"/regular expression/\" or either with \">MiB\"");
    }
    out.push_back(*p);
  }
  return out;
}

void read_pressure(TableReader t, PressureSettings& p,
                   const std::vector<engine::Category>& categories) {
  if (auto v = t.boolean("enabled")) p.enabled = *v;
  if (auto v = t.number("window", 0.5, 10)) p.window = *v;
  p.predict_minutes = t.number("predict_minutes", 0.01, 7 * 1440);
  if (auto v = t.string("kernel_log")) p.kernel_log = *v;
  if (auto w = t.table("warning")) read_level(*w, p.warning);
  if (auto c = t.table("critical")) read_level(*c, p.critical);
  p.victims.kill_order = read_patterns(t, "kill_order");
  p.victims.avoid = read_patterns(t, "avoid");
  if (auto v = read_memory_metric(t)) p.victims.memory_metric = *v;
  if (auto c = t.table("candidates")) {
    engine::Match m;
    read_match(*c, m, categories);
    p.victims.candidates = std::move(m);
  }
  t.finish();
}

}  // namespace freezr::config
