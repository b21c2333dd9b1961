#include <sstream>

#include "config/config.h"

namespace freezr::config {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += ch;
    }
  }
  return out + "\"";
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

void render_rule(std::ostringstream& o, const engine::Rule& r) {
  o << "\n[[rule]]\nname = " << quote(r.name) << "\n";
  std::string m;
  auto add = [&](const std::string& part) { m += (m.empty() ? "" : ", ") + part; };
  if (!r.match.comm.empty()) add("comm = " + list(r.match.comm));
  if (!r.match.exe.empty()) add("exe = " + list(r.match.exe));
  if (r.match.cmdline) add("cmdline = " + quote(r.match.cmdline->pattern()));
  if (!r.match.user.empty()) add("user = " + list(r.match.user));
  o << "match = { " << m << " }\n";
  if (r.cpu_percent) o << "cpu_percent = " << number(*r.cpu_percent) << "\n";
  if (r.memory_mb) o << "memory_mb = " << number(*r.memory_mb) << "\n";
  o << "violations = " << r.violations << "\n";
  o << "aggregate = \"" << engine::to_string(r.aggregate) << "\"\n";
  if (r.aggregate == engine::Aggregate::kGroup && r.action == engine::ActionKind::kKill) {
    o << "target = \"" << engine::to_string(r.target) << "\"\n";
  }
  o << "action = \"" << engine::to_string(r.action) << "\"\n";
  if (!r.service.empty()) o << "service = " << quote(r.service) << "\n";
  if (r.cooldown > 0) o << "cooldown = " << number(r.cooldown) << "\n";
  if (!r.enabled) o << "enabled = false\n";
}

}  // namespace

std::string render_config(const Config& c) {
  std::ostringstream o;
  o << "# FreezR configuration";
  if (c.legacy) o << ", translated from the Rust FreezR format of " << c.source;
  o << "\n";
  for (const auto& n : c.notes) o << "# note: " << n << "\n";
  o << "\n[monitor]\ninterval = " << number(c.monitor.interval) << "\n"
    << "dry_run = " << (c.monitor.dry_run ? "true" : "false") << "\n"
    << "kill_grace = " << number(c.monitor.kill_grace) << "\n";
  o << "\n[logging]\ndir = " << quote(c.logging.dir) << "\n"
    << "format = \"" << (c.logging.json ? "json" : "text") << "\"\n"
    << "keep_days = " << c.logging.keep_days << "\n"
    << "compress_after_days = " << c.logging.compress_after_days << "\n";
  o << "\n[storage]\ndir = " << quote(c.storage.dir) << "\n";
  o << "\n[preflight]\ndisk_warn_percent = " << number(c.preflight.disk_warn_percent) << "\n"
    << "disk_critical_percent = " << number(c.preflight.disk_critical_percent) << "\n";
  o << "\n[protect]\ndefaults = " << (c.protect.defaults ? "true" : "false") << "\n"
    << "comm = " << list(c.protect.comm) << "\n";
  for (const auto& r : c.rules) render_rule(o, r);
  return o.str();
}

}  // namespace freezr::config
