// TableReader: typed, validated access to one TOML table. Every key read is remembered, so
// finish() can reject the keys nobody asked for. Internal to the config loader.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace freezr::config {

class TableReader {
 public:
  TableReader(const toml::table& table, std::string file, std::string where)
      : table_(table), file_(std::move(file)), where_(std::move(where)) {}

  [[noreturn]] void fail(const toml::source_region& at, const std::string& message) const;
  [[noreturn]] void fail_key(const std::string& key, const std::string& message) const;

  [[nodiscard]] bool has(const std::string& key) const { return table_.contains(key); }
  const toml::node* node(const std::string& key);

  std::optional<double> number(const std::string& key, double min, double max);
  std::optional<long long> integer(const std::string& key, long long min, long long max);
  std::optional<bool> boolean(const std::string& key);
  std::optional<std::string> string(const std::string& key);
  // One of `choices`.
  std::optional<std::string> choice(const std::string& key,
                                    const std::vector<std::string>& choices);
  std::optional<std::vector<std::string>> string_list(const std::string& key);
  std::optional<TableReader> table(const std::string& key);

  // Throws for any key not read through this reader.
  void finish() const;

  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] const std::string& where() const { return where_; }
  [[nodiscard]] const toml::table& raw() const { return table_; }

 private:
  const toml::table& table_;
  std::string file_;
  std::string where_;  // e.g. "[monitor]" or "[[rule]] #2"
  std::set<std::string> used_;
};

}  // namespace freezr::config
