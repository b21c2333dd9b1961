#include "config/conf_d.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "config/readers.h"

namespace freezr::config {

std::vector<std::string> conf_d_files(const std::string& config_path) {
  namespace stdfs = std::filesystem;
  const auto dir = stdfs::path(config_path).parent_path() / "conf.d";
  std::vector<std::string> out;
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return out;
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || e.path().extension() != ".toml") continue;
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// The name of a [[rule]] or [[category]] entry, when it is a table with a string name.
std::optional<std::string> name_of(const toml::node& n) {
  const auto* t = n.as_table();
  return t == nullptr ? std::nullopt : (*t)["name"].value<std::string>();
}

// A later [[rule]] that gives another action drops the earlier one's parameters (a renice's
// nice is no throttle's), and its ladder; one that gives a ladder drops the earlier single
// step.
void replace_what_it_replaces(toml::table& earlier, const toml::table& later) {
  auto drop = [&](const auto& keys) {
    for (const char* k : keys) {
      if (!later.contains(k)) earlier.erase(k);
    }
  };
  if (later.contains("action")) {
    drop(kActionParameterKeys);
    if (!later.contains("steps")) earlier.erase("steps");
  }
  if (later.contains("steps")) {
    drop(kConditionKeys);
    drop(kStepOwnKeys);
    drop(kActionParameterKeys);
  }
}

// [[rule]] or [[category]]: entries of a known name take the new keys, new names are added.
void merge_named(toml::array& base, toml::array&& more) {
  for (auto& entry : more) {
    const auto name = name_of(entry);
    const auto same = name ? std::find_if(base.begin(), base.end(),
                                          [&](const toml::node& b) { return name_of(b) == name; })
                           : base.end();
    if (same != base.end()) {
      replace_what_it_replaces(*same->as_table(), *entry.as_table());
      merge_into(*same->as_table(), std::move(*entry.as_table()));
    } else {
      base.push_back(std::move(entry));
    }
  }
}

}  // namespace

void merge_into(toml::table& base, toml::table&& more) {
  for (auto&& [key, node] : more) {
    auto* existing = base.get(key);
    if (existing != nullptr && existing->is_table() && node.is_table()) {
      merge_into(*existing->as_table(), std::move(*node.as_table()));
    } else if (existing != nullptr && existing->is_array_of_tables() && node.is_array_of_tables() &&
               (key == "rule" || key == "category")) {
      merge_named(*existing->as_array(), std::move(*node.as_array()));
    } else {
      base.insert_or_assign(key, std::move(node));
    }
  }
}

}  // namespace freezr::config
