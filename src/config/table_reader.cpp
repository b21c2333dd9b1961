#include "config/table_reader.h"

#include <cmath>
#include <sstream>

namespace freezr::config {
namespace {
std::string fmt_num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}
}  // namespace

void TableReader::fail(const toml::source_region& at, const std::string& message) const {
  throw ConfigError(at.path ? *at.path : file_, at.begin.line, at.begin.column, message);
}

void TableReader::fail_key(const std::string& key, const std::string& message) const {
  const toml::node* n = table_.get(key);
  fail(n != nullptr ? n->source() : table_.source(), where_ + " " + key + ": " + message);
}

const toml::node* TableReader::node(const std::string& key) {
  used_.insert(key);
  return table_.get(key);
}

std::optional<double> TableReader::number(const std::string& key, double min, double max) {
  const auto* n = node(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_number()) fail_key(key, std::string("expected a number, found ") + type_name(*n));
  const double v = n->value<double>().value_or(NAN);
  if (!std::isfinite(v) || v < min || v > max) {
    fail_key(key,
             "must be between " + fmt_num(min) + " and " + fmt_num(max) + ", got " + fmt_num(v));
  }
  return v;
}

std::optional<long long> TableReader::integer(const std::string& key, long long min,
                                              long long max) {
  const auto* n = node(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer()) fail_key(key, std::string("expected an integer, found ") + type_name(*n));
  const long long v = n->value<long long>().value_or(0);
  if (v < min || v > max) {
    fail_key(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", got " + std::to_string(v));
  }
  return v;
}

std::optional<bool> TableReader::boolean(const std::string& key) {
  const auto* n = node(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_boolean())
    fail_key(key, std::string("expected true or false, found ") + type_name(*n));
  return n->value<bool>();
}

std::optional<std::string> TableReader::string(const std::string& key) {
  const auto* n = node(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string()) fail_key(key, std::string("expected a string, found ") + type_name(*n));
  return n->value<std::string>();
}

std::optional<std::string> TableReader::choice(const std::string& key,
                                               const std::vector<std::string>& choices) {
  auto v = string(key);
  if (!v) return v;
  for (const auto& c : choices) {
    if (c == *v) return v;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
  fail_key(key, "must be one of " + list + ", got \"" + *v + "\"");
}

std::optional<std::vector<std::string>> TableReader::string_list(const std::string& key) {
  const auto* n = node(key);
  if (n == nullptr) return std::nullopt;
  const auto* arr = n->as_array();
  if (arr == nullptr)
    fail_key(key, std::string("expected a list of strings, found ") + type_name(*n));
  std::vector<std::string> out;
  for (const auto& el : *arr) {
    if (!el.is_string()) fail(el.source(), where_ + " " + key + ": every entry must be a string");
    auto s = *el.value<std::string>();
    if (s.empty()) fail(el.source(), where_ + " " + key + ": empty string");
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<TableReader> TableReader::table(const std::string& key) {
  const auto* n = node(key);
  if (n == nullptr) return std::nullopt;
  const auto* t = n->as_table();
  if (t == nullptr) fail_key(key, std::string("expected a table, found ") + type_name(*n));
  // "[pressure]" under the top level, "[pressure.warning]" under "[pressure]".
  std::string where = where_ + " " + key;
  if (where_ == "the top level") {
    where = "[" + key + "]";
  } else if (where_.size() > 2 && where_.front() == '[' && where_[1] != '[') {
    where = where_.substr(0, where_.size() - 1) + "." + key + "]";
  }
  return TableReader(*t, file_, where);
}

void TableReader::finish() const {
  for (const auto& [k, v] : table_) {
    if (used_.count(std::string(k.str())) == 0U) {
      fail(k.source(), "unknown key '" + std::string(k.str()) + "' in " + where_);
    }
  }
}

}  // namespace freezr::config
