// A configuration in pieces: the main file and, in the conf.d directory beside it, *.toml
// files read in name order, each adding rules and overriding keys.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace freezr::config {

// The *.toml files of the conf.d directory beside config_path, in name order (none when there
// is no such directory). Hidden files and other names are skipped.
std::vector<std::string> conf_d_files(const std::string& config_path);

// Merges more into base: tables merge key by key, a later value replaces an earlier one, and
// [[rule]] and [[category]] entries merge by name (a rule of a new name is added; one of a
// known name takes the new keys: `[[rule]] name = "node"  enabled = false` turns the shipped
// rule off). Nodes are moved, so each keeps the file, line and column it came from.
void merge_into(toml::table& base, toml::table&& more);

}  // namespace freezr::config
