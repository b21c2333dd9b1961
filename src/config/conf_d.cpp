#include "config/conf_d.h"

#include <algorithm>
#include <filesystem>

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

const toml::node* named(const toml::node& n) {
  const auto* t = n.as_table();
  return t == nullptr ? nullptr : t->get("name");
}

// [[rule]] or [[category]]: entries of a known name take the new keys, new names are added.
void merge_named(toml::array& base, toml::array&& more) {
  for (auto& entry : more) {
    const auto* name = named(entry);
    auto same = std::find_if(base.begin(), base.end(), [&](const toml::node& b) {
      const auto* other = named(b);
      return name != nullptr && other != nullptr && name->value<std::string>() &&
             name->value<std::string>() == other->value<std::string>();
    });
    if (same != base.end() && same->is_table() && entry.is_table()) {
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
