// Reading [[thermal]] sections: a sensor, its temperatures, and whose hottest processes to act
// on — rules and categories resolved by name.
#include <algorithm>
#include <set>

#include "config/readers.h"
#include "engine/thermal.h"

namespace freezr::config {

namespace {

engine::ThermalSpec read_one(TableReader t, const Config& c) {
  engine::ThermalSpec s;
  auto name = t.string("name");
  if (!name || name->empty()) t.fail(t.raw().source(), t.where() + ": 'name' is required");
  s.name = *name;
  auto sensor = t.string("sensor");
  if (!sensor || sensor->empty()) {
    t.fail(t.raw().source(),
           t.where() + " '" + s.name +
               "': 'sensor' is required (a thermal zone's type such as "
               "\"x86_pkg_temp\", a hwmon name such as \"k10temp\", or a "
               "sensor label such as \"Package id 0\"; `freezr sensors` lists them)");
  }
  s.sensor = *sensor;
  const auto above = t.number("above", -50, 200);
  if (!above) t.fail(t.raw().source(), t.where() + " '" + s.name + "': 'above' (°C) is required");
  s.above = *above;
  s.below = t.number("below", -50, 200).value_or(s.above - 5);
  if (s.below > s.above) t.fail_key("below", "must not be above 'above'");
  if (auto v = t.integer("violations", 1, 100000)) s.violations = static_cast<int>(*v);
  if (auto v = t.integer("hottest", 1, 1000)) s.hottest = static_cast<int>(*v);
  s.action = read_action(t);
  const auto k = s.action.kind;
  if (k != engine::ActionKind::kLog && k != engine::ActionKind::kRenice &&
      k != engine::ActionKind::kThrottle && k != engine::ActionKind::kFreeze) {
    t.fail_key("action", "must be log, renice, throttle or freeze in a [[thermal]] section");
  }
  if (s.action.before) t.fail_key("before", "a thermal section acts at once: use after");
  s.rules = t.string_list("rules").value_or(std::vector<std::string>{});
  s.categories = t.string_list("categories").value_or(std::vector<std::string>{});
  if (s.rules.empty() && s.categories.empty()) {
    t.fail(t.raw().source(), t.where() + " '" + s.name +
                                 "': give 'rules' or 'categories': whose processes to cool down");
  }
  for (const auto& r : s.rules) {
    auto it =
        std::find_if(c.rules.begin(), c.rules.end(), [&](const auto& x) { return x.name == r; });
    if (it == c.rules.end()) t.fail_key("rules", "no rule named '" + r + "'");
    s.rule_indexes.push_back(static_cast<std::size_t>(it - c.rules.begin()));
  }
  for (const auto& n : s.categories) {
    auto it = std::find_if(c.categories.begin(), c.categories.end(),
                           [&](const auto& x) { return x.name == n; });
    if (it == c.categories.end()) t.fail_key("categories", "unknown category '" + n + "'");
    s.category_indexes.push_back(static_cast<std::size_t>(it - c.categories.begin()));
  }
  t.finish();
  return s;
}

}  // namespace

void read_thermal(TableReader& top, Config& c) {
  const toml::node* n = top.node("thermal");
  if (n == nullptr) return;
  const auto* arr = n->as_array();
  if (arr == nullptr)
    top.fail(n->source(), "'thermal' must be an array of tables: write [[thermal]]");
  std::set<std::string> names;
  int index = 0;
  for (const auto& el : *arr) {
    ++index;
    const auto* t = el.as_table();
    if (t == nullptr) top.fail(el.source(), "each [[thermal]] entry must be a table");
    auto s = read_one(TableReader(*t, top.file(), "[[thermal]] #" + std::to_string(index)), c);
    if (!names.insert(s.name).second) {
      top.fail(t->source(),
               "[[thermal]] #" + std::to_string(index) + ": duplicate name '" + s.name + "'");
    }
    c.thermal.push_back(std::move(s));
  }
}

}  // namespace freezr::config
