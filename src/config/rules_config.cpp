// Reading [[rule]] tables: match criteria, single actions and ladders of steps.
#include <pwd.h>

#include <algorithm>
#include <cstdio>
#include <span>

#include "config/readers.h"
#include "core/text.h"

namespace freezr::config {

std::optional<engine::MemoryMetric> read_memory_metric(TableReader& t) {
  const auto v = t.choice("memory_metric", {"rss", "pss", "uss", "swap"});
  if (!v) return std::nullopt;
  if (*v == "pss") return engine::MemoryMetric::kPss;
  if (*v == "uss") return engine::MemoryMetric::kUss;
  if (*v == "swap") return engine::MemoryMetric::kSwap;
  return engine::MemoryMetric::kRss;
}

std::string unit_name(std::string s) {
  return s.find('.') == std::string::npos ? s + ".service" : s;
}

void read_patterns(TableReader& t, engine::Match& m) {
  if (auto v = t.string_list("comm")) {
    for (const auto& c : *v) {
      if (c.size() > 15) {
        t.fail_key("comm", "'" + c +
                               "' is longer than 15 characters; the kernel truncates "
                               "process names to 15, so it can never match (use exe or cmdline)");
      }
    }
    m.comm = *v;
  }
  if (auto v = t.string_list("exe")) m.exe = *v;
  if (auto v = t.string("cmdline")) {
    auto re = engine::Regex::compile(*v);
    if (!re) t.fail_key("cmdline", "invalid regular expression: " + re.error().message);
    m.cmdline = std::move(*re);
  }
}

// A string or a list of strings, none empty.
std::vector<std::string> one_or_list(TableReader& t, const std::string& key) {
  if (!t.has(key)) return {};
  const auto* n = t.node(key);
  auto v =
      n->is_string() ? std::vector<std::string>{*n->value<std::string>()} : *t.string_list(key);
  for (const auto& s : v) {
    if (s.empty()) t.fail_key(key, "an empty " + key + " matches nothing");
  }
  return v;
}

// unit and slice (globs, with their suffix) and container.
void read_place(TableReader& t, engine::Match& m) {
  m.unit = one_or_list(t, "unit");
  for (const auto& u : m.unit) {
    if (u.find_first_of(".*?[") == std::string::npos) {
      t.fail_key("unit", "'" + u + "' has no unit type: write it with its suffix (\"" + u +
                             ".service\", \"" + u + "*.scope\")");
    }
  }
  m.slice = one_or_list(t, "slice");
  for (const auto& s : m.slice) {
    if (!s.ends_with(".slice") && !s.ends_with("*")) {
      t.fail_key("slice",
                 "'" + s + "' is not a slice name (they end in .slice: \"" + s + ".slice\")");
    }
  }
  m.container = one_or_list(t, "container");
}

void read_match(TableReader t, engine::Match& m, const std::vector<engine::Category>& categories) {
  read_patterns(t, m);
  if (auto v = t.string_list("user")) {
    for (const auto& name : *v) {
      const passwd* pw = ::getpwnam(name.c_str());
      if (pw == nullptr) t.fail_key("user", "no such user '" + name + "'");
      m.uids.push_back(pw->pw_uid);
    }
    m.user = *v;
  }
  if (t.has("category")) {
    m.category = one_or_list(t, "category");
    for (const auto& name : m.category) {
      auto it = std::find_if(categories.begin(), categories.end(),
                             [&](const engine::Category& c) { return c.name == name; });
      if (it == categories.end()) {
        std::string known;
        for (const auto& c : categories) known += (known.empty() ? "" : ", ") + c.name;
        t.fail_key("category", "unknown category '" + name + "' (known: " + known + ")");
      }
      m.categories.push_back(*it);
    }
  }
  read_place(t, m);
  if (m.comm.empty() && m.exe.empty() && !m.cmdline && m.user.empty() && m.category.empty() &&
      !m.by_place()) {
    t.fail(t.raw().source(), t.where() +
                                 ": give at least one of comm, exe, cmdline, user, category, "
                                 "unit, slice, container");
  }
  t.finish();
}

static std::optional<engine::IoPriority> parse_ionice(const std::string& v) {
  if (v == "idle") return engine::IoPriority{3, 0};
  for (const auto& [name, cls] : {std::pair<std::string, int>{"best-effort", 2}, {"realtime", 1}}) {
    if (v == name) return engine::IoPriority{cls, 4};
    if (v.size() == name.size() + 2 && v.rfind(name + ":", 0) == 0 && v.back() >= '0' &&
        v.back() <= '7') {
      return engine::IoPriority{cls, v.back() - '0'};
    }
  }
  return std::nullopt;
}

namespace {

// A command list (`command`, `before`, `after`) with the step's shared `shell`, `timeout` and
// `user`; nullopt when the key is absent.
std::optional<engine::Command> read_command(TableReader& t, const std::string& key,
                                            const engine::Command& shared) {
  auto argv = t.string_list(key);
  if (!argv) return std::nullopt;
  if (argv->empty() || (*argv)[0].empty()) t.fail_key(key, "give the program and its arguments");
  if (shared.shell && argv->size() != 1) {
    t.fail_key(key, "with shell = true, give one string: the shell's command line");
  }
  for (const auto& a : *argv) {
    if (a.find('\0') != std::string::npos) t.fail_key(key, "an argument holds a NUL byte");
  }
  auto c = shared;
  c.argv = std::move(*argv);
  return c;
}

// shell, timeout and user: what every command of the step shares.
engine::Command read_command_settings(TableReader& t) {
  engine::Command c;
  if (auto v = t.boolean("shell")) c.shell = *v;
  if (auto v = t.number("timeout", 0.1, 3600)) c.timeout = *v;
  if (auto v = t.string("user")) {
    const passwd* pw = ::getpwnam(v->c_str());
    if (pw == nullptr) t.fail_key("user", "no such user '" + *v + "'");
    c.user = *v;
    c.uid = pw->pw_uid;
    c.gid = pw->pw_gid;
    c.home = pw->pw_dir != nullptr ? pw->pw_dir : "/";
  }
  return c;
}

}  // namespace

// Reads `action` and its parameters from t (a rule or a step).
engine::Action read_action(TableReader& t) {
  engine::Action a;
  static const std::vector<std::string> kKinds = {"log",  "renice",  "throttle", "freeze",
                                                  "kill", "restart", "exec"};
  const auto kind = t.choice("action", kKinds).value_or("log");
  const std::vector<engine::ActionKind> kinds = {
      engine::ActionKind::kLog,    engine::ActionKind::kRenice, engine::ActionKind::kThrottle,
      engine::ActionKind::kFreeze, engine::ActionKind::kKill,   engine::ActionKind::kRestart,
      engine::ActionKind::kExec};
  a.kind = kinds[static_cast<std::size_t>(std::find(kKinds.begin(), kKinds.end(), kind) -
                                          kKinds.begin())];
  auto only_with = [&](const std::string& key, engine::ActionKind k, const char* name) {
    if (t.has(key) && a.kind != k) {
      t.fail_key(key, std::string("only used with action = \"") + name + "\"");
    }
  };
  for (const char* key : {"nice", "ionice", "sched", "cpus", "oom_score_adj"}) {
    only_with(key, engine::ActionKind::kRenice, "renice");
  }
  only_with("cpu_limit", engine::ActionKind::kThrottle, "throttle");
  only_with("duration", engine::ActionKind::kFreeze, "freeze");
  only_with("service", engine::ActionKind::kRestart, "restart");
  only_with("command", engine::ActionKind::kExec, "exec");
  const auto shared = read_command_settings(t);
  if (auto c = read_command(t, "command", shared)) a.command = std::move(*c);
  a.before = read_command(t, "before", shared);
  a.after = read_command(t, "after", shared);
  if (a.kind != engine::ActionKind::kExec && !a.before && !a.after) {
    for (const char* key : {"shell", "timeout", "user"}) {
      if (t.has(key)) {
        t.fail_key(key, "only used with action = \"exec\" or a before/after command");
      }
    }
  }
  if (auto v = t.integer("nice", -20, 19)) a.nice = static_cast<int>(*v);
  if (auto v = t.string("ionice")) {
    a.ionice = parse_ionice(*v);
    if (!a.ionice) {
      t.fail_key("ionice", "must be \"idle\", \"best-effort[:0-7]\" or \"realtime[:0-7]\"");
    }
  }
  if (auto v = t.choice("sched", {"batch", "idle"})) {
    a.sched = *v == "idle" ? engine::SchedClass::kIdle : engine::SchedClass::kBatch;
  }
  if (auto v = t.string("cpus")) {
    auto cpus = parse_cpu_list(*v);
    if (!cpus) t.fail_key("cpus", "expected a CPU list such as \"0-1\" or \"0,2-3\"");
    a.cpus = std::move(*cpus);
  }
  if (auto v = t.integer("oom_score_adj", -1000, 1000)) a.oom_score_adj = static_cast<int>(*v);
  if (auto v = t.number("cpu_limit", 1, 100000)) a.cpu_limit = *v;
  if (auto v = t.number("duration", 0.1, 86400)) a.duration = *v;
  if (auto v = t.string("service")) a.service = unit_name(*v);
  const auto here = t.raw().source();
  if (a.kind == engine::ActionKind::kRenice && !a.nice && !a.ionice && !a.sched && a.cpus.empty() &&
      !a.oom_score_adj) {
    t.fail(here, t.where() +
                     ": action = \"renice\" needs at least one of nice, ionice, sched, cpus, "
                     "oom_score_adj");
  }
  if (a.kind == engine::ActionKind::kThrottle && a.cpu_limit <= 0) {
    t.fail(here, t.where() + ": action = \"throttle\" needs cpu_limit");
  }
  if (a.kind == engine::ActionKind::kExec && a.command.argv.empty()) {
    t.fail(here, t.where() + ": action = \"exec\" needs command = [\"program\", \"arg\", ...]");
  }
  return a;
}

// `violations`: a count of consecutive scans (3), or "N of M" scans within a window of the
// last M (at most 64).
static void read_violations(TableReader& t, engine::Step& s) {
  const auto* n = t.node("violations");
  if (n == nullptr || !n->is_string()) {
    if (auto v = t.integer("violations", 1, 100000)) s.violations = static_cast<int>(*v);
    return;
  }
  const auto text = *t.string("violations");
  int count = 0, window = 0, used = 0;
  if (std::sscanf(text.c_str(), "%d of %d%n", &count, &window, &used) != 2 ||
      static_cast<std::size_t>(used) != text.size() || count < 1 || window < count || window > 64) {
    t.fail_key("violations",
               "expected a number of scans in a row (3) or \"N of M\" with 1 <= N <= M <= 64 "
               "(\"3 of 5\": 3 of the last 5 scans), not \"" +
                   text + "\"");
  }
  s.violations = count;
  s.window = window == count ? 0 : window;
}

static bool has_condition(TableReader& t) {
  return std::any_of(kConditionKeys.begin(), kConditionKeys.end(),
                     [&](const char* k) { return t.has(k); });
}

// Reads thresholds, violations, cooldown and the action of one step from t.
static engine::Step read_step(TableReader& t, const std::string& rule_name) {
  engine::Step s;
  s.cpu_percent = t.number("cpu_percent", 0, 100000);
  s.memory_mb = t.number("memory_mb", 0, 1e9);
  s.io_read_mbps = t.number("io_read_mbps", 0, 1e7);
  s.io_write_mbps = t.number("io_write_mbps", 0, 1e7);
  s.cpu_pressure = t.number("cpu_pressure", 0, 100);
  s.io_pressure = t.number("io_pressure", 0, 100);
  s.memory_pressure = t.number("memory_pressure", 0, 100);
  if (!s.cpu_percent && !s.memory_mb && !s.uses_io() && !s.gated()) {
    t.fail(t.raw().source(), t.where() + " '" + rule_name +
                                 "': give at least one of cpu_percent, memory_mb, io_read_mbps, "
                                 "io_write_mbps, cpu_pressure, io_pressure, memory_pressure");
  }
  s.predict_minutes = t.number("predict_minutes", 0.01, 7 * 1440);
  if (s.predict_minutes && !s.memory_mb) {
    t.fail_key("predict_minutes", "needs memory_mb: it predicts when memory reaches it");
  }
  read_violations(t, s);
  if (auto v = t.number("cooldown", 0, 7 * 86400)) s.cooldown = *v;
  s.action = read_action(t);
  return s;
}

static void read_steps(TableReader& t, engine::Rule& r) {
  const toml::node* n = t.node("steps");
  const auto* arr = n->as_array();
  if (arr == nullptr || arr->empty()) t.fail_key("steps", "expected a non-empty list of tables");
  for (const auto& keys :
       {std::span<const char* const>(kConditionKeys), std::span<const char* const>(kStepOwnKeys),
        std::span<const char* const>(kActionParameterKeys)}) {
    for (const char* key : keys) {
      if (t.has(key)) t.fail_key(key, "belongs inside each of the steps when a rule has steps");
    }
  }
  int index = 0;
  for (const auto& el : *arr) {
    ++index;
    const auto* st = el.as_table();
    if (st == nullptr) t.fail(el.source(), t.where() + " steps: each step must be a table");
    TableReader sr(*st, t.file(), t.where() + " steps #" + std::to_string(index));
    r.steps.push_back(read_step(sr, r.name));
    sr.finish();
  }
}

engine::Rule read_rule(TableReader t, const std::vector<engine::Category>& categories) {
  engine::Rule r;
  auto name = t.string("name");
  if (!name || name->empty()) t.fail(t.raw().source(), t.where() + ": 'name' is required");
  r.name = *name;
  auto match = t.table("match");
  if (!match) t.fail(t.raw().source(), t.where() + " '" + r.name + "': 'match' is required");
  read_match(*match, r.match, categories);
  if (auto e = t.table("on_exec")) {
    if (e->string("action") == "restart") {
      e->fail_key("action",
                  "restart is not an exec-time action (log, renice, throttle, "
                  "freeze or kill)");
    }
    r.on_exec = read_action(*e);
    e->finish();
  }
  if (t.has("steps")) {
    read_steps(t, r);
  } else if (!r.on_exec || has_condition(t)) {
    r.steps.push_back(read_step(t, r.name));
  }
  if (auto v = t.choice("aggregate", {"process", "group", "unit", "user"})) {
    r.aggregate = *v == "group"  ? engine::Aggregate::kGroup
                  : *v == "unit" ? engine::Aggregate::kUnit
                  : *v == "user" ? engine::Aggregate::kUser
                                 : engine::Aggregate::kProcess;
  }
  if (auto v = read_memory_metric(t)) r.memory_metric = *v;
  if (auto v = t.choice("pressure_of", {"system", "cgroup"})) {
    r.pressure_of =
        *v == "cgroup" ? engine::PressureScope::kCgroup : engine::PressureScope::kSystem;
    if (std::none_of(r.steps.begin(), r.steps.end(), [](const auto& s) { return s.gated(); })) {
      t.fail_key("pressure_of", "only used with cpu_pressure, io_pressure or memory_pressure");
    }
  }
  if (auto v = t.choice("target", {"all", "hottest"})) {
    r.target = *v == "hottest" ? engine::Target::kHottest : engine::Target::kAll;
  }
  if (auto v = t.choice("scope", {"process", "tree"})) {
    r.scope = *v == "tree" ? engine::Scope::kTree : engine::Scope::kProcess;
  }
  if (auto v = t.boolean("restore")) r.restore = *v;
  const auto max_actions = t.integer("max_actions", 1, 1000000);
  const auto per_minutes = t.number("per_minutes", 0.01, 100000);
  if (max_actions.has_value() != per_minutes.has_value()) {
    t.fail(t.raw().source(),
           t.where() + " '" + r.name + "': max_actions and per_minutes go together");
  }
  if (max_actions) {
    r.max_actions = static_cast<int>(*max_actions);
    r.per_seconds = *per_minutes * 60;
  }
  if (auto v = t.boolean("enabled")) r.enabled = *v;
  t.finish();
  return r;
}

}  // namespace freezr::config
