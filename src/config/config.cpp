#include "config/config.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "config/conf_d.h"
#include "config/legacy.h"
#include "config/readers.h"
#include "config/table_reader.h"
#include "engine/protection.h"
#include "fs/files.h"

namespace freezr::config {

namespace {
std::string place(const std::string& file, unsigned line, unsigned column) {
  std::string out = file;
  if (line > 0) {
    out.append(":").append(std::to_string(line)).append(":").append(std::to_string(column));
  }
  return out;
}
}  // namespace

ConfigError::ConfigError(std::string file, unsigned line, unsigned column,
                         const std::string& message)
    : std::runtime_error(place(file, line, column).append(": ").append(message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

PressureSettings::PressureSettings() {
  warning.some_avg10 = 10;
  warning.full_avg10 = 5;
  warning.mem_available_percent = 10;
  warning.action.kind = engine::ActionKind::kLog;
  critical.some_avg10 = 40;
  critical.full_avg10 = 15;
  critical.mem_available_percent = 5;
  critical.action.kind = engine::ActionKind::kKill;
}

std::vector<std::string> Config::protected_names() const {
  std::vector<std::string> out;
  if (protect.defaults) out = engine::default_protected_names();
  out.insert(out.end(), protect.comm.begin(), protect.comm.end());
  return out;
}

namespace {

void read_monitor(TableReader t, MonitorSettings& m) {
  if (auto v = t.number("interval", 0.1, 86400)) m.interval = *v;
  if (auto v = t.boolean("dry_run")) m.dry_run = *v;
  if (auto v = t.number("kill_grace", 0, 3600)) m.kill_grace = *v;
  if (auto v = t.choice("freeze_method", {"cgroup", "signal"})) {
    m.freeze_with_cgroup = *v == "cgroup";
  }
  if (auto v = t.boolean("process_events")) m.process_events = *v;
  if (auto v = t.integer("full_scan_every", 1, 10000)) m.full_scan_every = static_cast<int>(*v);
  if (auto v = t.integer("unwatched_full_scan_every", 1, 10000)) {
    m.unwatched_full_scan_every = static_cast<int>(*v);
  }
  if (auto v = t.string("profile")) m.profile = *v;
  t.finish();
}

void read_storage(TableReader t, StorageSettings& s) {
  if (auto v = t.string("dir")) s.dir = *v;
  if (auto v = t.string("runtime_dir")) s.runtime_dir = *v;
  t.finish();
}

void read_history(TableReader t, HistorySettings& h) {
  if (auto v = t.boolean("enabled")) h.enabled = *v;
  if (auto v = t.integer("top", 0, 100)) h.top = static_cast<int>(*v);
  if (auto v = t.number("raw_hours", 0.1, 24 * 365)) h.raw_hours = *v;
  if (auto v = t.number("minutes_days", 0.1, 3650)) h.minutes_days = *v;
  if (auto v = t.number("events_days", 0.1, 36500)) h.events_days = *v;
  t.finish();
}

void read_http(TableReader t, HttpSettings& h) {
  if (auto v = t.boolean("enabled")) h.enabled = *v;
  if (auto v = t.string("listen")) {
    const auto colon = v->rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < v->size();
    long port = -1;
    if (ok) {
      try {
        std::size_t used = 0;
        port = std::stol(v->substr(colon + 1), &used);
        ok = used == v->size() - colon - 1 && port >= 0 && port <= 65535;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok) t.fail_key("listen", "expected \"host:port\", got \"" + *v + "\"");
    h.listen = *v;
  }
  if (auto v = t.string("token_file")) h.token_file = *v;
  if (auto v = t.string("web_config")) h.web_config = *v;
  if (auto v = t.integer("max_connections", 1, 10000)) h.max_connections = static_cast<int>(*v);
  if (auto v = t.integer("per_process_metrics", 0, 1000)) {
    h.per_process_metrics = static_cast<int>(*v);
  }
  if (auto v = t.string_list("allowed_hosts")) {
    for (const auto& name : *v) {
      if (name.empty() || name.find_first_of(" /:@") != std::string::npos) {
        t.fail_key("allowed_hosts", "'" + name + "' is not a host name (give names, not URLs)");
      }
    }
    h.allowed_hosts = *v;
  }
  if (auto v = t.string_list("allowed_origins")) {
    for (const auto& o : *v) {
      const bool scheme = o.rfind("http://", 0) == 0 || o.rfind("https://", 0) == 0;
      const auto rest = scheme ? o.substr(o.find("//") + 2) : std::string();
      if (!scheme || rest.empty() || rest.find('/') != std::string::npos) {
        t.fail_key("allowed_origins", "'" + o + "' is not an origin (scheme://host[:port])");
      }
    }
    h.allowed_origins = *v;
  }
  const auto host = h.listen.substr(0, h.listen.rfind(':'));
  if (h.enabled && !loopback_host(host) && h.token_file.empty() && h.web_config.empty()) {
    t.fail(t.raw().source(), "[http]: listening on " + h.listen +
                                 " (not loopback) needs token_file or web_config (TLS, basic "
                                 "auth); refusing to expose FreezR without either");
  }
  t.finish();
}

WebhookSettings read_webhook(TableReader t) {
  WebhookSettings w;
  const auto url = t.string("url");
  if (!url) t.fail(t.raw().source(), t.where() + ": give url = \"http://…\" or \"https://…\"");
  if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    t.fail_key("url", "'" + *url + "' is not an http:// or https:// URL");
  }
  if (url->find('@') != std::string::npos) {
    t.fail_key("url", "put credentials in headers_file, not in the URL");
  }
  w.url = *url;
  if (auto v = t.choice("format", {"json", "ntfy", "gotify"})) w.format = *v;
  if (auto v = t.string_list("events")) {
    static const std::vector<std::string> kKinds = {"action", "pressure", "prediction",
                                                    "lifecycle"};
    for (const auto& e : *v) {
      if (std::find(kKinds.begin(), kKinds.end(), e) == kKinds.end()) {
        t.fail_key("events", "'" + e + "' is not action, pressure, prediction or lifecycle");
      }
    }
    w.events = *v;
  }
  if (auto v = t.string("headers_file")) w.headers_file = *v;
  if (auto v = t.string("ca_file")) w.ca_file = *v;
  if (auto v = t.number("timeout", 0.1, 120)) w.timeout = *v;
  if (auto v = t.integer("queue", 1, 100000)) w.queue = static_cast<int>(*v);
  t.finish();
  return w;
}

void read_notify(TableReader t, NotifySettings& n) {
  if (auto v = t.number("repeat_after", 0, 86400)) n.repeat_after = *v;
  if (auto v = t.boolean("desktop")) n.desktop = *v;
  if (auto v = t.string("desktop_runtime_dir")) n.desktop_runtime_dir = *v;
  if (auto v = t.integer("desktop_per_minute", 1, 600)) n.desktop_per_minute = static_cast<int>(*v);
  if (const auto* hooks = t.node("webhook")) {
    const auto* arr = hooks->as_array();
    if (arr == nullptr) t.fail(hooks->source(), "[notify] webhook: write [[notify.webhook]]");
    int index = 0;
    for (const auto& el : *arr) {
      ++index;
      const auto* w = el.as_table();
      if (w == nullptr) t.fail(el.source(), "each [[notify.webhook]] entry must be a table");
      n.webhooks.push_back(
          read_webhook(TableReader(*w, t.file(), "[[notify.webhook]] #" + std::to_string(index))));
    }
  }
  t.finish();
}

void read_preflight(TableReader t, PreflightSettings& p) {
  if (auto v = t.number("disk_warn_percent", 1, 100)) p.disk_warn_percent = *v;
  if (auto v = t.number("disk_critical_percent", 1, 100)) p.disk_critical_percent = *v;
  if (p.disk_critical_percent < p.disk_warn_percent) {
    t.fail(t.raw().source(),
           "[preflight]: disk_critical_percent must not be below "
           "disk_warn_percent");
  }
  t.finish();
}

void read_protect(TableReader t, ProtectSettings& p) {
  if (auto v = t.string_list("comm")) p.comm = *v;
  if (auto v = t.boolean("defaults")) p.defaults = *v;
  t.finish();
}

void read_predict(TableReader t, engine::PredictSettings& p) {
  if (auto v = t.boolean("enabled")) p.enabled = *v;
  if (auto v = t.number("leak_window", 10, 7 * 86400)) p.leak.window = *v;
  if (auto v = t.number("leak_min_span", 1, 7 * 86400)) p.leak.min_span = *v;
  if (auto v = t.number("leak_min_mb_per_minute", 0.001, 1e6)) p.leak.min_mb_per_minute = *v;
  if (auto v = t.number("leak_min_agreement", 0.5, 1)) p.leak.min_agreement = *v;
  if (p.leak.min_span > p.leak.window) {
    t.fail(t.raw().source(), "[predict]: leak_min_span must not exceed leak_window");
  }
  if (auto v = t.boolean("anomalies")) p.anomalies = *v;
  if (auto v = t.number("anomaly_sigmas", 1, 100)) p.anomaly.sigmas = *v;
  if (auto v = t.number("anomaly_min_delta", 0, 100000)) p.anomaly.min_delta = *v;
  if (auto v = t.integer("anomaly_warmup", 2, 100000)) p.anomaly.warmup = static_cast<int>(*v);
  if (auto v = t.number("anomaly_alpha", 0.001, 1)) p.anomaly.alpha = *v;
  if (auto v = t.number("exhaustion_window", 10, 7 * 86400)) p.exhaustion_window = *v;
  if (auto v = t.number("exhaustion_min_span", 1, 7 * 86400)) p.exhaustion_min_span = *v;
  if (auto v = t.number("exhaustion_min_agreement", 0.5, 1)) p.exhaustion_min_agreement = *v;
  if (auto v = t.number("exhaustion_warn_minutes", 0.1, 7 * 1440)) p.exhaustion_warn_minutes = *v;
  if (p.exhaustion_min_span > p.exhaustion_window) {
    t.fail(t.raw().source(), "[predict]: exhaustion_min_span must not exceed exhaustion_window");
  }
  t.finish();
}

void read_rules(TableReader& top, Config& c) {
  const toml::node* n = top.node("rule");
  if (n == nullptr) return;
  const auto* arr = n->as_array();
  if (arr == nullptr) top.fail(n->source(), "'rule' must be an array of tables: write [[rule]]");
  std::set<std::string> names;
  int index = 0;
  for (const auto& el : *arr) {
    ++index;
    const auto* t = el.as_table();
    if (t == nullptr) top.fail(el.source(), "each [[rule]] entry must be a table");
    auto rule =
        read_rule(TableReader(*t, top.file(), "[[rule]] #" + std::to_string(index)), c.categories);
    if (!names.insert(rule.name).second) {
      top.fail(t->source(),
               "[[rule]] #" + std::to_string(index) + ": duplicate name '" + rule.name + "'");
    }
    c.rules.push_back(std::move(rule));
  }
}

// Where the [[rule]] named name begins (the Rust FreezR sections' names are fixed, so when a
// name is taken twice the [[rule]] is the one to rename).
toml::source_region where_named(const toml::table& root, const std::string& name) {
  if (const auto* rules = root["rule"].as_array()) {
    for (const auto& el : *rules) {
      const auto* t = el.as_table();
      if (t != nullptr && (*t)["name"].value<std::string>() == name) return t->source();
    }
  }
  return root.source();
}

}  // namespace

Locations default_locations() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    if (v == nullptr || *v != '/') return {};
    const std::string all(v);
    return all.substr(0, all.find(':'));  // systemd lists several directories with ':'
  };
  Locations l;
  if (::geteuid() == 0) {
    l = {"/var/lib/freezr", "/var/log/freezr", "/run/freezr"};
  } else {
    std::string state = env("XDG_STATE_HOME");
    if (state.empty()) state = env("HOME").empty() ? "/tmp" : env("HOME") + "/.local/state";
    l.state = state + "/freezr";
    l.logs = l.state + "/logs";
    l.runtime = env("XDG_RUNTIME_DIR").empty() ? l.state : env("XDG_RUNTIME_DIR") + "/freezr";
  }
  if (auto v = env("STATE_DIRECTORY"); !v.empty()) l.state = v;
  if (auto v = env("LOGS_DIRECTORY"); !v.empty()) l.logs = v;
  if (auto v = env("RUNTIME_DIRECTORY"); !v.empty()) l.runtime = v;
  return l;
}

bool loopback_host(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost" ||
         host.rfind("127.", 0) == 0;
}

toml::table parse_table(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(source, e.source().begin.line, e.source().begin.column,
                      std::string(e.description()));
  }
}

namespace {

std::string read_text(const std::string& path) {
  auto text = fs::read_regular_file(path, kMaxConfigBytes);
  if (!text) {
    throw ConfigError(path, 0, 0, "cannot read the configuration file: " + text.error().message);
  }
  return std::move(*text);
}

}  // namespace

std::string file_of(const toml::source_region& at, const std::string& source) {
  return at.path ? *at.path : source;
}

Config read_config(const toml::table& root, const std::string& source) {
  Config c;
  c.source = source;
  TableReader top(root, source, "the top level");
  read_categories(top, c);
  if (auto t = top.table("monitor")) read_monitor(*t, c.monitor);
  if (auto t = top.table("protect")) read_protect(*t, c.protect);
  if (auto t = top.table("storage")) read_storage(*t, c.storage);
  if (auto t = top.table("preflight")) read_preflight(*t, c.preflight);
  if (auto t = top.table("history")) read_history(*t, c.history);
  if (auto t = top.table("http")) read_http(*t, c.http);
  if (auto t = top.table("pressure")) read_pressure(*t, c.pressure, c.categories);
  if (auto t = top.table("predict")) read_predict(*t, c.predict);
  if (auto t = top.table("notify")) read_notify(*t, c.notify);
  read_rules(top, c);
  read_logging_and_legacy(top, c);  // [logging] plus the Rust FreezR sections
  read_thermal(top, c);
  read_profiles(top, c);
  top.finish();
  std::set<std::string> names;
  for (const auto& r : c.rules) {
    if (!names.insert(r.name).second) {
      const auto at = where_named(root, r.name);
      throw ConfigError(file_of(at, source), at.begin.line, at.begin.column,
                        "two rules are named '" + r.name + "' (a [[rule]] and the [" + r.name +
                            "] section of the Rust FreezR format): rename the [[rule]]");
    }
  }
  return c;
}

namespace {

Config read_document(std::shared_ptr<Document> doc, const std::string& source) {
  auto c = read_config(doc->root(), source);
  for (std::size_t i = 1; i < doc->pieces.size(); ++i) c.pieces.push_back(doc->pieces[i].source);
  if (!c.profiles.empty()) c.document = doc;
  check_profiles(c, *doc);
  return c;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& source) {
  auto doc = std::make_shared<Document>();
  doc->pieces.push_back({source, std::string(text)});
  return read_document(std::move(doc), source);
}

Config load_config(const std::string& path) {
  auto doc = std::make_shared<Document>();
  doc->pieces.push_back({path, read_text(path)});
  for (const auto& piece : conf_d_files(path)) doc->pieces.push_back({piece, read_text(piece)});
  return read_document(std::move(doc), path);
}

Config default_config() { return parse_config(default_config_text(), kEmbeddedSource); }

}  // namespace freezr::config
