#include "cli/config_cmd.h"

#include <fmt/format.h>

#include "cli/commands.h"
#include "serve/web_config.h"

namespace freezr::cli {

int cmd_config(CLI::App* sub, const std::optional<std::string>& file, bool print) {
  if (sub->got_subcommand("default")) {
    fmt::print("{}", default_config_text());
    return 0;
  }
  if (sub->got_subcommand("check")) {
    const auto loaded = resolve_config(file);
    if (const auto& web = loaded.config.http.web_config; !web.empty()) {
      if (auto w = serve::load_web_config(web); !w) {
        fmt::print(stderr, "freezr: configuration error: {}\n", w.error().message);
        return 2;
      }
    }
    const auto& cfg = loaded.config;
    if (print) {
      fmt::print("{}", config::render_config(cfg));
      return 0;
    }
    std::string with;
    for (const auto& p : cfg.pieces) with += (with.empty() ? " + " : ", ") + p;
    std::string profiles;
    if (!cfg.profiles.empty()) {
      profiles =
          fmt::format(", {} profile{}", cfg.profiles.size(), cfg.profiles.size() == 1 ? "" : "s");
    }
    fmt::print("{}{}: OK, {} rule{}{}\n", cfg.source, with, cfg.rules.size(),
               cfg.rules.size() == 1 ? "" : "s", profiles);
    for (const auto& n : cfg.notes) fmt::print("note: {}\n", n);
    return 0;
  }
  const auto cfg = config::load_config(*file);
  fmt::print("{}", config::render_config(cfg));
  return 0;
}

}  // namespace freezr::cli
