// [profile.NAME] tables: read at load time, applied to the kept TOML when one is chosen.
#include <algorithm>
#include <map>

#include "config/conf_d.h"
#include "config/readers.h"

namespace freezr::config {

toml::table Document::root() const {
  toml::table out = parse_table(pieces.front().text, pieces.front().source);
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    merge_into(out, parse_table(pieces[i].text, pieces[i].source));
  }
  return out;
}

namespace {

// The keys of a profile that are about the profile itself; the others are sections merged over
// the configuration's.
const std::vector<std::string> kOwnKeys = {"description", "priority", "disable", "enable", "when"};
// The sections a profile may change: those FreezR takes without a restart.
const std::vector<std::string> kSections = {"monitor", "rule",    "category", "pressure",
                                            "thermal", "protect", "predict",  "notify"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool valid_name(const std::string& n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
  });
}

ProfileSpec read_one(const std::string& name, const toml::table& t, const std::string& file,
                     const Config& c) {
  const std::string where = "[profile." + name + "]";
  TableReader r(t, file, where);
  if (!valid_name(name)) {
    r.fail(t.source(), where + ": a profile's name is letters, digits, '-', '_' and '.'");
  }
  ProfileSpec p;
  p.name = name;
  p.description = r.string("description").value_or("");
  if (auto v = r.integer("priority", -1000, 1000)) p.priority = static_cast<int>(*v);
  p.disable = r.string_list("disable").value_or(std::vector<std::string>{});
  p.enable = r.string_list("enable").value_or(std::vector<std::string>{});
  for (const auto& rule : p.disable) {
    if (contains(p.enable, rule)) r.fail_key("enable", "'" + rule + "' is also in disable");
  }
  if (auto w = r.table("when")) {
    if (auto running = w->table("running")) {
      engine::Match m;
      read_match(*running, m, c.categories);
      p.running = std::move(m);
    }
    p.on_battery = w->boolean("on_battery");
    if (!p.automatic()) {
      w->fail(w->raw().source(),
              where + " when: give running = { comm = [...] } and/or on_battery = true");
    }
    w->finish();
  }
  for (auto&& [key, node] : t) {
    const std::string k(key.str());
    if (contains(kOwnKeys, k)) continue;
    if (!contains(kSections, k)) {
      r.fail(node.source(), where + ": a profile cannot change [" + k +
                                "] (it takes a restart, or is not a section); a profile "
                                "changes [monitor], [[rule]], [[category]], [pressure], "
                                "[[thermal]], [protect], [predict] and [notify]");
    }
    if (k == "monitor" && node.is_table() && node.as_table()->contains("profile")) {
      r.fail(node.source(), where + ": [monitor] profile belongs at the top level");
    }
    r.node(k);
  }
  r.finish();
  return p;
}

// The rule of that name, or the end of rules.
auto rule_named(std::vector<engine::Rule>& rules, const std::string& name) {
  return std::find_if(rules.begin(), rules.end(),
                      [&](const engine::Rule& x) { return x.name == name; });
}

}  // namespace

void read_profiles(TableReader& top, Config& c) {
  const toml::node* n = top.node("profile");
  if (n == nullptr) return;
  const auto* all = n->as_table();
  if (all == nullptr) top.fail(n->source(), "'profile' must be tables: write [profile.NAME]");
  for (auto&& [key, node] : *all) {
    const auto* t = node.as_table();
    const std::string name(key.str());
    if (t == nullptr) top.fail(node.source(), "profile." + name + " must be a table");
    c.profiles.push_back(read_one(name, *t, file_of(node.source(), top.file()), c));
  }
}

void check_profiles(const Config& c, const Document& doc) {
  for (const auto& p : c.profiles) with_profile(c, p.name);
  if (!c.monitor.profile.empty() && find_profile(c, c.monitor.profile) == nullptr) {
    const auto root = doc.root();
    const auto* at = root.at_path("monitor.profile").node();
    throw ConfigError(at != nullptr ? file_of(at->source(), c.source) : c.source,
                      at != nullptr ? at->source().begin.line : 0,
                      at != nullptr ? at->source().begin.column : 0,
                      "[monitor] profile: no [profile." + c.monitor.profile + "] section");
  }
}

const ProfileSpec* find_profile(const Config& c, const std::string& name) {
  for (const auto& p : c.profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Config with_profile(const Config& base, const std::string& name) {
  if (name.empty()) return base;
  const ProfileSpec* spec = find_profile(base, name);
  if (spec == nullptr || !base.document) {
    throw ConfigError(base.source, 0, 0, "no profile named '" + name + "'");
  }
  toml::table root = base.document->root();
  toml::table overlay = std::move(*root.at_path("profile." + name).as_table());
  root.erase("profile");
  if (auto* monitor = root["monitor"].as_table()) monitor->erase("profile");
  std::map<std::string, toml::source_region> lists;  // where disable and enable are written
  for (const auto& k : kOwnKeys) {
    if (const auto* n = overlay.get(k)) lists[k] = n->source();
    overlay.erase(k);
  }
  merge_into(root, std::move(overlay));
  Config c = read_config(root, base.source);
  auto turn = [&](const std::vector<std::string>& names, const std::string& key, bool on) {
    for (const auto& rule : names) {
      const auto it = rule_named(c.rules, rule);
      if (it == c.rules.end()) {
        const auto& at = lists[key];
        throw ConfigError(file_of(at, base.source), at.begin.line, at.begin.column,
                          "[profile." + name + "] " + key + ": no rule named '" + rule + "'");
      }
      it->enabled = on;
    }
  };
  turn(spec->disable, "disable", false);
  turn(spec->enable, "enable", true);
  c.pieces = base.pieces;
  c.profiles = base.profiles;
  c.document = base.document;
  c.monitor.profile = base.monitor.profile;
  c.profile = name;
  return c;
}

}  // namespace freezr::config
