#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/dashboard.h"
#include "cli/history_cmds.h"
#include "cli/service.h"
#include "cli/thaw.h"
#include "daemon/daemon.h"
#include "ui/report.h"

namespace freezr::cli {
namespace {

constexpr const char* kUnits =
    "Units: CPU% is percent of ONE core over the sampling interval (100 = one core busy; a "
    "multi-threaded process can exceed 100). Memory is the resident set size in MiB.\n"
    "Config search without --config: ./freezr.toml, /etc/freezr/config.toml, then the "
    "embedded default (`freezr config default`).";

struct Args {
  std::optional<std::string> config;
  bool dry_run = false;
  bool stats = false;
  double report_interval = 60;
  std::string proc_root = "/proc";
  std::string sort = "cpu";
  std::optional<std::string> rule;
  std::optional<std::string> category;
  double ps_interval = 1.0;
  bool replace = false;
  std::optional<std::string> log_format;
  std::optional<std::string> log_dir;
  std::optional<std::string> data_dir;
  int limit = 0;
  std::optional<std::string> file;
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "freezr: {} (see 'freezr --help')\n", message);
  return 2;
}

int config_error(const config::ConfigError& e) {
  fmt::print(stderr, "freezr: configuration error: {}\n", e.what());
  return 2;
}

int run_config_command(CLI::App* sub, Args& a) {
  if (sub->got_subcommand("default")) {
    fmt::print("{}", default_config_text());
    return 0;
  }
  if (sub->got_subcommand("check")) {
    const auto loaded = resolve_config(a.file ? a.file : a.config);
    fmt::print("{}: OK, {} rule{}\n", loaded.config.source, loaded.config.rules.size(),
               loaded.config.rules.size() == 1 ? "" : "s");
    for (const auto& n : loaded.config.notes) fmt::print("note: {}\n", n);
    return 0;
  }
  const auto cfg = config::load_config(*a.file);
  fmt::print("{}", config::render_config(cfg));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"FreezR: a Linux process guardian. It watches processes through /proc, matches "
               "them against rules and acts when one breaks its rule for long enough.",
               "freezr"};
  app.footer(kUnits);
  app.set_version_flag("--version,-V", fmt::format("freezr {}", ui::kVersion));
  Args a;
  app.add_option("--config,-c", a.config, "Configuration file (TOML)");
  app.add_flag("--dry-run", a.dry_run, "Decide as usual but only log what would be done");
  app.add_flag("--stats", a.stats, "Print the statistics block every --report-interval seconds");
  app.add_option("--report-interval", a.report_interval, "Seconds between statistics blocks")
      ->check(CLI::Range(1.0, 86400.0));
  app.add_flag("--replace", a.replace,
               "Ask a running FreezR (the holder of the lock) to stop, then take over");
  app.add_option("--log-format", a.log_format, "text, or json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-dir", a.log_dir, "Directory of the daily log files");
  app.add_option("--data-dir", a.data_dir, "Directory of the lock file and status snapshot");
  app.add_option("--proc-root", a.proc_root, "Read processes from this /proc tree")
      ->group("");

  auto* run = app.add_subcommand("run", "Run the guardian in the foreground (the default)");
  run->fallthrough();
  auto* check = app.add_subcommand(
      "check", "Sample over one interval and print every rule's matches and verdict; acts on "
               "nothing");
  check->fallthrough();
  auto* ps = app.add_subcommand("ps", "Show the process table with the rule of each process");
  ps->fallthrough();
  ps->add_option("--sort", a.sort, "Sort by cpu or mem")->check(CLI::IsMember({"cpu", "mem"}));
  ps->add_option("--rule", a.rule, "Only processes under this rule");
  ps->add_option("--category", a.category, "Only processes of this category");
  ps->add_option("--interval", a.ps_interval, "Sampling interval in seconds")
      ->check(CLI::Range(0.05, 60.0));
  ps->add_option("--limit,-n", a.limit, "Show at most N rows")->check(CLI::Range(0, 1000000));
  auto* cats = app.add_subcommand("categories", "List the category library rules can match on");
  cats->fallthrough();
  auto* dash = app.add_subcommand("dashboard", "A live terminal view of the running FreezR");
  dash->fallthrough();
  double dash_interval = 1.0;
  dash->add_option("--interval", dash_interval, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 60.0));
  auto* oom = app.add_subcommand("oom-order", "Show who would be killed first under memory pressure");
  oom->fallthrough();
  int oom_limit = 0;
  oom->add_option("--limit,-n", oom_limit, "Show at most N candidates")->check(CLI::Range(0, 1000000));
  auto* cfg = app.add_subcommand("config", "Print, check or convert configurations");
  cfg->fallthrough();
  cfg->require_subcommand(1);
  cfg->add_subcommand("default", "Print the embedded default configuration, commented");
  cfg->add_subcommand("check", "Validate a configuration (FILE, or the one `run` would use)")
      ->add_option("FILE", a.file, "Configuration file");
  cfg->add_subcommand("convert", "Translate a Rust FreezR configuration into FreezR rules")
      ->add_option("FILE", a.file, "Configuration file")
      ->required();
  auto* thaw = app.add_subcommand("thaw", "Thaw a process frozen by FreezR, or all of them");
  thaw->fallthrough();
  std::optional<Pid> thaw_pid;
  bool thaw_all = false;
  auto* thaw_pid_opt = thaw->add_option("PID", thaw_pid, "The frozen process");
  auto* thaw_all_opt = thaw->add_flag("--all", thaw_all, "Every process frozen by FreezR");
  thaw_pid_opt->excludes(thaw_all_opt);
  HistoryQuery hq;
  auto add_period = [&hq](CLI::App* sub) {
    sub->fallthrough();
    sub->add_option("--since", hq.since, "Start: 90s, 15m, 2h, 3d, Unix seconds or a date");
    sub->add_option("--from", hq.from, "Start (same forms as --since)");
    sub->add_option("--to", hq.to, "End (same forms)");
    sub->add_option("--rule", hq.rule, "Only this rule");
  };
  auto* history = app.add_subcommand("history", "Samples per rule from the history");
  add_period(history);
  history->add_flag("--minutes", hq.minutes, "Per-minute averages and maxima");
  history->add_option("--format", hq.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  auto* events = app.add_subcommand("events", "Violations, actions, reloads from the history");
  add_period(events);
  events->add_option("--kind", hq.kind,
                     "action, violation, pressure, prediction, lifecycle or decision")
      ->check(CLI::IsMember(
          {"action", "violation", "pressure", "prediction", "lifecycle", "decision"}));
  events->add_option("--format", hq.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  auto* why = app.add_subcommand(
      "why", "Every decision FreezR made about a process (alive or dead), with its reason and "
             "outcome, newest first");
  why->fallthrough();
  Pid why_pid = 0;
  int why_limit = 100;
  why->add_option("PID", why_pid, "The process")->required()->check(CLI::Range(1, 1 << 22));
  why->add_option("--limit,-n", why_limit, "At most N entries (default 100)")
      ->check(CLI::Range(1, 100000));
  why->add_option("--format", hq.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  auto* stats = app.add_subcommand("stats", "Per-rule statistics over a period");
  stats->fallthrough();
  stats->add_option("--last", hq.since, "The period, e.g. 1h (default) or 7d");
  stats->add_option("--format", hq.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  auto* exp = app.add_subcommand("export", "Export samples and events to a file");
  add_period(exp);
  exp->add_option("--format", hq.format, "json or csv")->check(CLI::IsMember({"json", "csv"}))
      ->required();
  exp->add_option("--output,-o", hq.output, "The file to write")->required();
  exp->add_option("--what", hq.what, "For csv: samples or events")
      ->check(CLI::IsMember({"samples", "events"}));
  auto* suggest = app.add_subcommand(
      "suggest", "From the history: processes that often ran hot or big without a rule, each "
                 "with a rule to paste");
  suggest->fallthrough();
  suggest->add_option("--since", hq.since, "Start (default 24h ago): 90s, 15m, 2h, 3d, a date");
  suggest->add_option("--from", hq.from, "Start (same forms as --since)");
  suggest->add_option("--to", hq.to, "End (same forms)");
  SuggestOptions so_suggest;
  suggest->add_option("--cpu", so_suggest.cpu, "CPU% of one core that counts as hot (default 50)")
      ->check(CLI::Range(1.0, 100000.0));
  suggest->add_option("--memory", so_suggest.memory, "MiB that count as big (default 1024)")
      ->check(CLI::Range(1.0, 1e9));
  suggest->add_option("--limit,-n", so_suggest.limit, "At most N suggestions (default 10)")
      ->check(CLI::Range(1, 1000));
  auto* svc = app.add_subcommand("service", "Install, remove or inspect the systemd unit");
  svc->require_subcommand(1);
  ServiceOptions so;
  for (auto* sub : {svc->add_subcommand("install", "Write the unit and a default config, enable it"),
                    svc->add_subcommand("uninstall", "Disable and remove the unit"),
                    svc->add_subcommand("status", "Show the unit, the last status snapshot and "
                                                  "systemctl status")}) {
    sub->add_option("--unit-dir", so.unit_dir, "Where the unit file goes");
    sub->add_option("--config-dir", so.config_dir, "Where config.toml goes");
    sub->add_option("--data-dir", so.data_dir, "FreezR's data directory");
    sub->add_flag("!--no-systemctl", so.systemctl, "Only write or read files");
  }
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    return usage_error(msg);
  }

  try {
    if (cfg->parsed()) return run_config_command(cfg, a);
    if (history->parsed() || events->parsed() || stats->parsed() || exp->parsed() ||
        suggest->parsed() || why->parsed()) {
      auto loaded = resolve_config(a.config);
      hq.data_dir = a.data_dir.value_or(loaded.config.storage.dir);
      if (why->parsed()) return cmd_why(hq, why_pid, why_limit);
      if (suggest->parsed()) return cmd_suggest(hq, so_suggest, loaded.config.categories);
      if (history->parsed()) return cmd_history(hq);
      if (events->parsed()) return cmd_events(hq);
      if (stats->parsed()) return cmd_stats(hq);
      return cmd_export(hq);
    }
    if (thaw->parsed()) {
      if (!thaw_pid && !thaw_all) return usage_error("thaw needs a PID or --all");
      auto loaded = resolve_config(a.config);
      return cmd_thaw(a.data_dir.value_or(loaded.config.storage.dir), thaw_pid, a.proc_root);
    }
    if (svc->parsed()) {
      if (svc->got_subcommand("install")) return service_install(so);
      if (svc->got_subcommand("uninstall")) return service_uninstall(so);
      return service_status(so);
    }
    auto loaded = resolve_config(a.config);
    if (check->parsed()) return cmd_check(loaded.config, a.proc_root);
    if (cats->parsed()) return cmd_categories(loaded.config);
    if (oom->parsed()) return cmd_oom_order(loaded.config, a.proc_root, oom_limit);
    if (dash->parsed()) {
      if (a.data_dir) loaded.config.storage.dir = *a.data_dir;
      return cmd_dashboard(loaded.config, dash_interval);
    }
    if (ps->parsed()) {
      return cmd_ps(loaded.config, a.proc_root, a.sort, a.rule, a.category, a.ps_interval,
                    a.limit);
    }
    daemon::RunOptions opts;
    opts.config_path = loaded.path;
    opts.dry_run = a.dry_run;
    opts.stats = a.stats;
    opts.report_interval = a.report_interval;
    opts.proc_root = a.proc_root;
    opts.replace = a.replace;
    if (a.log_format) opts.json_log = *a.log_format == "json";
    opts.log_dir = a.log_dir;
    opts.data_dir = a.data_dir;
    return daemon::run(std::move(loaded.config), opts);
  } catch (const config::ConfigError& e) {
    return config_error(e);
  } catch (const std::system_error& e) {
    fmt::print(stderr, "freezr: {}\n", e.what());
    return 1;
  }
}

}  // namespace freezr::cli
