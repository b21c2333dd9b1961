// `freezr completion bash|zsh|fish`: shell completion scripts written from the command line's
// own definition, so they know every command and option the binary has.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace freezr::cli {

// The script for shell ("bash", "zsh" or "fish"), completing the commands "freezr" and
// "process-monitor".
std::string completion_script(const CLI::App& app, const std::string& shell);

}  // namespace freezr::cli
