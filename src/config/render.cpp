#include <sstream>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/readers.h"
#include "core/text.h"

namespace freezr::config {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += ch;
    }
  }
  return unicode_escaped(out) + "\"";
}

std::string list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quote(v[i]);
  return out + "]";
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  std::string out = s.str();
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string ionice_text(const engine::IoPriority& p) {
  if (p.io_class == 3) return "idle";
  return std::string(p.io_class == 1 ? "realtime" : "best-effort") + ":" + std::to_string(p.level);
}

// The keys of an action, as `key = value` pairs.
std::vector<std::pair<std::string, std::string>> action_keys(const engine::Action& a) {
  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("action", quote(engine::to_string(a.kind)));
  if (a.nice) kv.emplace_back("nice", std::to_string(*a.nice));
  if (a.ionice) kv.emplace_back("ionice", quote(ionice_text(*a.ionice)));
  if (a.sched)
    kv.emplace_back("sched", quote(a.sched == engine::SchedClass::kIdle ? "idle" : "batch"));
  if (!a.cpus.empty()) kv.emplace_back("cpus", quote(format_cpu_list(a.cpus)));
  if (a.oom_score_adj) kv.emplace_back("oom_score_adj", std::to_string(*a.oom_score_adj));
  if (a.kind == engine::ActionKind::kThrottle) kv.emplace_back("cpu_limit", number(a.cpu_limit));
  if (a.kind == engine::ActionKind::kFreeze) kv.emplace_back("duration", number(a.duration));
  if (!a.service.empty()) kv.emplace_back("service", quote(a.service));
  if (a.kind == engine::ActionKind::kExec) kv.emplace_back("command", list(a.command.argv));
  if (a.before) kv.emplace_back("before", list(a.before->argv));
  if (a.after) kv.emplace_back("after", list(a.after->argv));
  const engine::Command* c = a.kind == engine::ActionKind::kExec ? &a.command
                             : a.before                          ? &*a.before
                             : a.after                           ? &*a.after
                                                                 : nullptr;
  if (c != nullptr) {
    if (c->shell) kv.emplace_back("shell", "true");
    if (c->timeout != engine::Command{}.timeout) kv.emplace_back("timeout", number(c->timeout));
    if (!c->user.empty()) kv.emplace_back("user", quote(c->user));
  }
  return kv;
}

// The keys of one step, as `key = value` pairs.
std::vector<std::pair<std::string, std::string>> step_keys(const engine::Step& s) {
  std::vector<std::pair<std::string, std::string>> kv;
  if (s.cpu_percent) kv.emplace_back("cpu_percent", number(*s.cpu_percent));
  if (s.memory_mb) kv.emplace_back("memory_mb", number(*s.memory_mb));
  const std::pair<const char*, std::optional<double>> more[] = {
      {"io_read_mbps", s.io_read_mbps},
      {"io_write_mbps", s.io_write_mbps},
      {"cpu_pressure", s.cpu_pressure},
      {"io_pressure", s.io_pressure},
      {"memory_pressure", s.memory_pressure}};
  for (const auto& [key, v] : more) {
    if (v) kv.emplace_back(key, number(*v));
  }
  if (s.predict_minutes) kv.emplace_back("predict_minutes", number(*s.predict_minutes));
  kv.emplace_back("violations", s.window > 0 ? quote(std::to_string(s.violations) + " of " +
                                                     std::to_string(s.window))
                                             : std::to_string(s.violations));
  const auto action = action_keys(s.action);
  kv.insert(kv.end(), action.begin(), action.end());
  if (s.cooldown > 0) kv.emplace_back("cooldown", number(s.cooldown));
  return kv;
}

// "{ comm = [...], exe = [...] }"
std::string match_inline(const engine::Match& match) {
  std::string m;
  auto add = [&](const std::string& part) { m += (m.empty() ? "" : ", ") + part; };
  if (!match.comm.empty()) add("comm = " + list(match.comm));
  if (!match.exe.empty()) add("exe = " + list(match.exe));
  if (match.cmdline) add("cmdline = " + quote(match.cmdline->pattern()));
  if (!match.user.empty()) add("user = " + list(match.user));
  if (!match.category.empty()) add("category = " + list(match.category));
  if (!match.unit.empty()) add("unit = " + list(match.unit));
  if (!match.slice.empty()) add("slice = " + list(match.slice));
  if (!match.container.empty()) add("container = " + list(match.container));
  return "{ " + m + " }";
}

void render_rule(std::ostringstream& o, const engine::Rule& r) {
  o << "\n[[rule]]\nname = " << quote(r.name) << "\n";
  o << "match = " << match_inline(r.match) << "\n";
  o << "aggregate = \"" << engine::to_string(r.aggregate) << "\"\n";
  if (r.pressure_of == engine::PressureScope::kCgroup) o << "pressure_of = \"cgroup\"\n";
  if (r.memory_metric != engine::MemoryMetric::kRss) {
    o << "memory_metric = \"" << engine::to_string(r.memory_metric) << "\"\n";
  }
  if (r.target != engine::Target::kAll) o << "target = \"" << engine::to_string(r.target) << "\"\n";
  if (r.scope != engine::Scope::kProcess) o << "scope = \"" << engine::to_string(r.scope) << "\"\n";
  if (!r.restore) o << "restore = false\n";
  if (r.max_actions > 0) {
    o << "max_actions = " << r.max_actions << "\nper_minutes = " << number(r.per_seconds / 60)
      << "\n";
  }
  if (!r.enabled) o << "enabled = false\n";
  if (r.on_exec) {
    std::string inner;
    for (const auto& [k, v] : action_keys(*r.on_exec)) {
      inner += (inner.empty() ? "" : ", ") + k + " = " + v;
    }
    o << "on_exec = { " << inner << " }\n";
  }
  if (r.steps.empty()) return;
  if (r.steps.size() == 1) {
    for (const auto& [k, v] : step_keys(r.steps[0])) o << k << " = " << v << "\n";
    return;
  }
  o << "steps = [\n";
  for (const auto& s : r.steps) {
    std::string inner;
    for (const auto& [k, v] : step_keys(s)) inner += (inner.empty() ? "" : ", ") + k + " = " + v;
    o << "  { " << inner << " },\n";
  }
  o << "]\n";
}

void render_level(std::ostringstream& o, const char* name, const engine::LevelThresholds& l) {
  o << "\n[pressure." << name << "]\n";
  if (l.some_avg10) o << "some_avg10 = " << number(*l.some_avg10) << "\n";
  if (l.full_avg10) o << "full_avg10 = " << number(*l.full_avg10) << "\n";
  if (l.mem_available_percent) {
    o << "mem_available_percent = " << number(*l.mem_available_percent) << "\n";
  }
  if (l.swap_free_percent) o << "swap_free_percent = " << number(*l.swap_free_percent) << "\n";
  engine::Step s;
  s.action = l.action;
  for (const auto& [k, v] : step_keys(s)) {
    if (k == "action" || k == "nice" || k == "ionice" || k == "duration")
      o << k << " = " << v << "\n";
  }
}

std::string patterns(const std::vector<engine::NamePattern>& ps) {
  std::vector<std::string> names;
  for (const auto& p : ps) {
    names.push_back(p.min_rss_mb ? p.name + ">" + number(*p.min_rss_mb) : p.name);
  }
  return list(names);
}

}  // namespace

std::string render_rule(const engine::Rule& r) {
  std::ostringstream o;
  render_rule(o, r);
  return o.str();
}

std::string render_config(const Config& c) {
  std::ostringstream o;
  o << "# FreezR configuration";
  if (c.legacy) o << ", translated from the Rust FreezR format of " << c.source;
  o << "\n";
  for (const auto& n : c.notes) o << "# note: " << n << "\n";
  o << "\n[monitor]\ninterval = " << number(c.monitor.interval) << "\n"
    << "dry_run = " << (c.monitor.dry_run ? "true" : "false") << "\n"
    << "kill_grace = " << number(c.monitor.kill_grace) << "\n"
    << "freeze_method = \"" << (c.monitor.freeze_with_cgroup ? "cgroup" : "signal") << "\"\n"
    << "process_events = " << (c.monitor.process_events ? "true" : "false") << "\n"
    << "full_scan_every = " << c.monitor.full_scan_every << "\n"
    << "unwatched_full_scan_every = " << c.monitor.unwatched_full_scan_every << "\n";
  if (!c.monitor.profile.empty()) o << "profile = " << quote(c.monitor.profile) << "\n";
  o << "\n[logging]\ndir = " << quote(c.logging.dir) << "\n"
    << "format = \"" << (c.logging.json ? "json" : "text") << "\"\n"
    << "keep_days = " << c.logging.keep_days << "\n"
    << "compress_after_days = " << c.logging.compress_after_days << "\n";
  o << "\n[storage]\ndir = " << quote(c.storage.dir) << "\n"
    << "runtime_dir = " << quote(c.storage.runtime_dir) << "\n";
  o << "\n[history]\nenabled = " << (c.history.enabled ? "true" : "false") << "\n"
    << "top = " << c.history.top << "\nraw_hours = " << number(c.history.raw_hours) << "\n"
    << "minutes_days = " << number(c.history.minutes_days) << "\n"
    << "events_days = " << number(c.history.events_days) << "\n";
  o << "\n[http]\nenabled = " << (c.http.enabled ? "true" : "false") << "\n"
    << "listen = " << quote(c.http.listen) << "\n"
    << "token_file = " << quote(c.http.token_file) << "\n"
    << "max_connections = " << c.http.max_connections << "\n"
    << "per_process_metrics = " << c.http.per_process_metrics << "\n"
    << "web_config = " << quote(c.http.web_config) << "\n"
    << "allowed_hosts = " << list(c.http.allowed_hosts) << "\n"
    << "allowed_origins = " << list(c.http.allowed_origins) << "\n";
  o << "\n[preflight]\ndisk_warn_percent = " << number(c.preflight.disk_warn_percent) << "\n"
    << "disk_critical_percent = " << number(c.preflight.disk_critical_percent) << "\n";
  o << "\n[protect]\ndefaults = " << (c.protect.defaults ? "true" : "false") << "\n"
    << "comm = " << list(c.protect.comm) << "\n";
  o << "\n[pressure]\nenabled = " << (c.pressure.enabled ? "true" : "false") << "\n"
    << "window = " << number(c.pressure.window) << "\n"
    << "kill_order = " << patterns(c.pressure.victims.kill_order) << "\n"
    << "avoid = " << patterns(c.pressure.victims.avoid) << "\n"
    << "memory_metric = \"" << engine::to_string(c.pressure.victims.memory_metric) << "\"\n"
    << "kernel_log = " << quote(c.pressure.kernel_log) << "\n";
  if (c.pressure.predict_minutes) {
    o << "predict_minutes = " << number(*c.pressure.predict_minutes) << "\n";
  }
  if (const auto& m = c.pressure.victims.candidates)
    o << "candidates = " << match_inline(*m) << "\n";
  render_level(o, "warning", c.pressure.warning);
  render_level(o, "critical", c.pressure.critical);
  const auto& p = c.predict;
  o << "\n[predict]\nenabled = " << (p.enabled ? "true" : "false") << "\n"
    << "leak_window = " << number(p.leak.window) << "\n"
    << "leak_min_span = " << number(p.leak.min_span) << "\n"
    << "leak_min_mb_per_minute = " << number(p.leak.min_mb_per_minute) << "\n"
    << "leak_min_agreement = " << number(p.leak.min_agreement) << "\n"
    << "anomalies = " << (p.anomalies ? "true" : "false") << "\n"
    << "anomaly_sigmas = " << number(p.anomaly.sigmas) << "\n"
    << "anomaly_min_delta = " << number(p.anomaly.min_delta) << "\n"
    << "anomaly_warmup = " << p.anomaly.warmup << "\n"
    << "anomaly_alpha = " << number(p.anomaly.alpha) << "\n"
    << "exhaustion_window = " << number(p.exhaustion_window) << "\n"
    << "exhaustion_min_span = " << number(p.exhaustion_min_span) << "\n"
    << "exhaustion_min_agreement = " << number(p.exhaustion_min_agreement) << "\n"
    << "exhaustion_warn_minutes = " << number(p.exhaustion_warn_minutes) << "\n";
  o << "\n[notify]\nrepeat_after = " << number(c.notify.repeat_after) << "\n"
    << "desktop = " << (c.notify.desktop ? "true" : "false") << "\n"
    << "desktop_runtime_dir = " << quote(c.notify.desktop_runtime_dir) << "\n"
    << "desktop_per_minute = " << c.notify.desktop_per_minute << "\n";
  for (const auto& w : c.notify.webhooks) {
    o << "\n[[notify.webhook]]\nurl = " << quote(w.url) << "\nformat = " << quote(w.format)
      << "\nevents = " << list(w.events) << "\nheaders_file = " << quote(w.headers_file)
      << "\nca_file = " << quote(w.ca_file) << "\ntimeout = " << number(w.timeout)
      << "\nqueue = " << w.queue << "\n";
  }
  for (const auto& r : c.rules) render_rule(o, r);
  for (const auto& t : c.thermal) {
    o << "\n[[thermal]]\nname = " << quote(t.name) << "\nsensor = " << quote(t.sensor)
      << "\nabove = " << number(t.above) << "\nbelow = " << number(t.below)
      << "\nviolations = " << t.violations << "\nhottest = " << t.hottest << "\n";
    if (!t.rules.empty()) o << "rules = " << list(t.rules) << "\n";
    if (!t.categories.empty()) o << "categories = " << list(t.categories) << "\n";
    for (const auto& [k, v] : action_keys(t.action)) o << k << " = " << v << "\n";
  }
  if (c.document) {  // profiles as written: they are applied to this text when chosen
    auto root = c.document->root();
    if (auto* profiles = root["profile"].as_table()) {
      o << "\n" << toml::table{{"profile", std::move(*profiles)}} << "\n";
    }
  }
  return o.str();
}

}  // namespace freezr::config
