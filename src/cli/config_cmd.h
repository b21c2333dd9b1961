// `freezr config default | check [FILE] [--print] | convert FILE`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace freezr::cli {

// sub: the parsed `config` subcommand; file: the FILE given (check falls back to the search of
// `run`); print: `check --print` renders the merged configuration. Throws config::ConfigError.
int cmd_config(CLI::App* sub, const std::optional<std::string>& file, bool print);

}  // namespace freezr::cli
