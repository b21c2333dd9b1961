#include "cli/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/config_cmd.h"
#include "cli/dashboard.h"
#include "cli/desktop_notify.h"
#include "cli/history_cmds.h"
#include "cli/profile_cmd.h"
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
  std::string sys_root = "/sys";
  std::string sort = "cpu";
  std::optional<std::string> rule;
  std::optional<std::string> category;
  std::optional<std::string> unit;  // ps --unit
  double ps_interval = 1.0;
  bool ps_io = false;
  bool replace = false;
  std::optional<std::string> log_format;
  std::string color = "auto";
  std::string format = "table";  // check, ps, categories, oom-order, service status
  std::optional<std::string> log_dir;
  std::optional<std::string> data_dir;
  std::optional<std::string> runtime_dir;
  int limit = 0;
  std::optional<std::string> file;
  bool print = false;  // config check --print
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "freezr: {} (see 'freezr --help')\n", message);
  return 2;
}

int config_error(const config::ConfigError& e) {
  fmt::print(stderr, "freezr: configuration error: {}\n", e.what());
  return 2;
}

// Every option's value and every subcommand, as parsed.
struct Commands {
  Args a;
  double dash_interval = 1.0;
  int oom_limit = 0;
  std::optional<Pid> thaw_pid;
  bool thaw_all = false;
  HistoryQuery hq;
  SuggestOptions suggest_options;
  Pid why_pid = 0;
  int why_limit = 100;
  ServiceOptions so;
  CLI::App *check = nullptr, *ps = nullptr, *cats = nullptr, *dash = nullptr, *oom = nullptr,
           *cfg = nullptr, *thaw = nullptr, *history = nullptr, *events = nullptr, *why = nullptr,
           *stats = nullptr, *exp = nullptr, *suggest = nullptr, *svc = nullptr,
           *completion = nullptr, *desktop = nullptr, *sensors = nullptr;
  std::string shell;
  DesktopNotifyOptions desktop_options;
  ProfileOptions profile_options;
  CLI::App* profile = nullptr;
};

void define_global(CLI::App& app, Args& a) {
  app.footer(kUnits);
  app.set_version_flag("--version,-V", fmt::format("freezr {}", ui::kVersion));
  app.add_option("--config,-c", a.config, "Configuration file (TOML)");
  app.add_flag("--dry-run", a.dry_run, "Decide as usual but only log what would be done");
  app.add_flag("--stats", a.stats, "Print the statistics block every --report-interval seconds");
  app.add_option("--report-interval", a.report_interval, "Seconds between statistics blocks")
      ->check(CLI::Range(1.0, 86400.0));
  app.add_flag("--replace", a.replace,
               "Ask a running FreezR (the holder of the lock) to stop, then take over");
  app.add_option("--log-format", a.log_format, "text, or json: one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--color", a.color,
                 "auto (on a terminal, unless NO_COLOR is set), always or never: colours of the "
                 "console log and the terminal dashboard")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.add_option("--log-dir", a.log_dir, "Directory of the daily log files");
  app.add_option("--data-dir", a.data_dir, "Directory of the history and the ledger");
  app.add_option("--runtime-dir", a.runtime_dir,
                 "Directory of the lock file and the status snapshot");
  app.add_option("--proc-root", a.proc_root, "Read processes from this /proc tree")->group("");
  app.add_option("--sys-root", a.sys_root, "Read sensors from this /sys tree")->group("");
  app.add_subcommand("run", "Run the guardian in the foreground (the default)")->fallthrough();
}

void define_inspection(CLI::App& app, Commands& c) {
  auto& a = c.a;
  c.check = app.add_subcommand(
      "check",
      "Sample over one interval and print every rule's matches and verdict; acts on "
      "nothing");
  c.check->fallthrough();
  c.ps = app.add_subcommand("ps", "Show the process table with the rule of each process");
  c.ps->fallthrough();
  c.ps->add_option("--sort", a.sort, "Sort by cpu, mem or io (disk reads plus writes)")
      ->check(CLI::IsMember({"cpu", "mem", "io"}));
  c.ps->add_flag("--io", a.ps_io, "Read every process's disk I/O and show its rates");
  c.ps->add_option("--rule", a.rule, "Only processes under this rule");
  c.ps->add_option("--category", a.category, "Only processes of this category");
  c.ps->add_option("--unit", a.unit,
                   "Only processes of systemd units matching this glob (app-firefox-*.scope)");
  c.ps->add_option("--interval", a.ps_interval, "Sampling interval in seconds")
      ->check(CLI::Range(0.05, 60.0));
  c.ps->add_option("--limit,-n", a.limit, "Show at most N rows")->check(CLI::Range(0, 1000000));
  c.cats = app.add_subcommand("categories", "List the category library rules can match on");
  c.cats->fallthrough();
  c.sensors = app.add_subcommand("sensors", "List the temperature sensors [[thermal]] can name");
  c.sensors->fallthrough();
  c.dash = app.add_subcommand("dashboard", "A live terminal view of the running FreezR");
  c.dash->fallthrough();
  c.dash->add_option("--interval", c.dash_interval, "Seconds between refreshes")
      ->check(CLI::Range(0.1, 60.0));
  c.oom = app.add_subcommand("oom-order", "Show who would be killed first under memory pressure");
  c.oom->fallthrough();
  c.oom->add_option("--limit,-n", c.oom_limit, "Show at most N candidates")
      ->check(CLI::Range(0, 1000000));
  for (auto* sub : {c.check, c.ps, c.cats, c.oom, c.sensors}) {
    sub->add_option("--format", a.format, "table, json or csv")
        ->check(CLI::IsMember({"table", "json", "csv"}));
  }
}

void define_config_and_thaw(CLI::App& app, Commands& c) {
  c.cfg = app.add_subcommand("config", "Print, check or convert configurations");
  c.cfg->fallthrough();
  c.cfg->require_subcommand(1);
  c.cfg->add_subcommand("default", "Print the embedded default configuration, commented");
  auto* check =
      c.cfg->add_subcommand("check", "Validate a configuration (FILE, or the one `run` would use)");
  check->add_option("FILE", c.a.file, "Configuration file");
  check->add_flag("--print", c.a.print,
                  "Print the configuration in force (the file merged with its conf.d), as TOML");
  c.cfg->add_subcommand("convert", "Translate a Rust FreezR configuration into FreezR rules")
      ->add_option("FILE", c.a.file, "Configuration file")
      ->required();
  c.thaw = app.add_subcommand("thaw", "Thaw a process frozen by FreezR, or all of them");
  c.thaw->fallthrough();
  auto* pid = c.thaw->add_option("PID", c.thaw_pid, "The frozen process");
  auto* all = c.thaw->add_flag("--all", c.thaw_all, "Every process frozen by FreezR");
  pid->excludes(all);
}

void add_format(CLI::App* sub, HistoryQuery& hq) {
  sub->add_option("--format", hq.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
}

void add_period(CLI::App* sub, HistoryQuery& hq, bool with_rule = true) {
  sub->fallthrough();
  sub->add_option("--since", hq.since,
                  "Start: 90s, 15m, 2h, -1h, @EPOCH, Unix seconds, today, yesterday, a local "
                  "date or RFC 3339");
  sub->add_option("--from", hq.from, "Start (same forms as --since)");
  sub->add_option("--until,--to", hq.to, "End (same forms)");
  if (with_rule) sub->add_option("--rule", hq.rule, "Only this rule");
}

void define_history(CLI::App& app, Commands& c) {
  auto& hq = c.hq;
  c.history = app.add_subcommand("history", "Samples per rule from the history");
  add_period(c.history, hq);
  c.history->add_flag("--minutes", hq.minutes, "Per-minute averages and maxima");
  add_format(c.history, hq);
  c.events = app.add_subcommand("events", "Violations, actions, reloads from the history");
  add_period(c.events, hq);
  c.events
      ->add_option("--kind", hq.kind,
                   "action, violation, pressure, prediction, lifecycle or decision")
      ->check(CLI::IsMember({"action", "violation", "pressure", "prediction", "lifecycle",
                             "decision", "kernel_oom"}));
  add_format(c.events, hq);
  c.why = app.add_subcommand(
      "why",
      "Every decision FreezR made about a process (alive or dead), with its reason and "
      "outcome, newest first");
  c.why->fallthrough();
  c.why->add_option("PID", c.why_pid, "The process")->required()->check(CLI::Range(1, 1 << 22));
  c.why->add_option("--limit,-n", c.why_limit, "At most N entries (default 100)")
      ->check(CLI::Range(1, 100000));
  add_format(c.why, hq);
  c.stats = app.add_subcommand("stats", "Per-rule statistics over a period");
  c.stats->fallthrough();
  c.stats->add_option("--last", hq.since, "The period, e.g. 1h (default) or 7d");
  add_format(c.stats, hq);
  c.exp = app.add_subcommand("export", "Export samples and events to a file");
  add_period(c.exp, hq);
  c.exp->add_option("--format", hq.format, "json or csv")
      ->check(CLI::IsMember({"json", "csv"}))
      ->required();
  c.exp->add_option("--output,-o", hq.output, "The file to write")->required();
  c.exp->add_option("--what", hq.what, "For csv: samples or events")
      ->check(CLI::IsMember({"samples", "events"}));
}

void define_suggest_and_service(CLI::App& app, Commands& c) {
  c.suggest = app.add_subcommand(
      "suggest",
      "From the history: processes that often ran hot or big without a rule, each "
      "with a rule to paste");
  add_period(c.suggest, c.hq, false);
  auto& so = c.suggest_options;
  c.suggest->add_option("--cpu", so.cpu, "CPU% of one core that counts as hot (default 50)")
      ->check(CLI::Range(1.0, 100000.0));
  c.suggest->add_option("--memory", so.memory, "MiB that count as big (default 1024)")
      ->check(CLI::Range(1.0, 1e9));
  c.suggest->add_option("--limit,-n", so.limit, "At most N suggestions (default 10)")
      ->check(CLI::Range(1, 1000));
  c.svc = app.add_subcommand("service", "Install, remove or inspect the systemd unit");
  c.svc->require_subcommand(1);
  for (auto* sub :
       {c.svc->add_subcommand("install", "Write the unit and a default config, enable it"),
        c.svc->add_subcommand("uninstall", "Disable and remove the unit"),
        c.svc->add_subcommand("status",
                              "Show the unit, the last status snapshot and "
                              "systemctl status")}) {
    sub->add_option("--unit-dir", c.so.unit_dir, "Where the unit file goes")
        ->each([&c](const std::string&) { c.so.unit_dir_given = true; });
    sub->add_option("--config-dir", c.so.config_dir, "Where config.toml goes");
    sub->add_option("--data-dir", c.so.data_dir, "FreezR's data directory");
    sub->add_option("--runtime-dir", c.so.runtime_dir, "Where FreezR writes status.json");
    sub->add_flag("!--no-systemctl", c.so.systemctl, "Only write or read files");
  }
  c.svc->get_subcommand("install")->add_flag(
      "--dry-run", c.so.dry_run,
      "Install a unit whose FreezR only logs what it would do (watch first)");
  c.svc->get_subcommand("status")
      ->add_option("--format", c.so.format, "table, or json: the unit and the snapshot")
      ->check(CLI::IsMember({"table", "json"}));
}

// --color: always, never, or (auto) nullopt — on a terminal — unless NO_COLOR is set
// (no-color.org: any non-empty value).
std::optional<bool> colour_wanted(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return std::nullopt;
}

// The history commands; nullopt when none was asked for.
std::optional<int> run_history_command(Commands& c) {
  if (!(c.history->parsed() || c.events->parsed() || c.stats->parsed() || c.exp->parsed() ||
        c.suggest->parsed() || c.why->parsed())) {
    return std::nullopt;
  }
  auto loaded = resolve_config(c.a.config);
  c.hq.data_dir = c.a.data_dir.value_or(loaded.config.storage.dir);
  if (!times_readable(c.hq)) return 2;
  if (c.why->parsed()) return cmd_why(c.hq, c.why_pid, c.why_limit);
  if (c.suggest->parsed()) {
    return cmd_suggest(c.hq, c.suggest_options, loaded.config.categories,
                       loaded.config.protected_names());
  }
  if (c.history->parsed()) return cmd_history(c.hq);
  if (c.events->parsed()) return cmd_events(c.hq);
  if (c.stats->parsed()) return cmd_stats(c.hq);
  return cmd_export(c.hq);
}

int dispatch(Commands& c, RunDaemon run_daemon) {
  auto& a = c.a;
  if (c.cfg->parsed()) return cmd_config(c.cfg, a.file ? a.file : a.config, a.print);
  if (auto status = run_history_command(c)) return *status;
  if (c.thaw->parsed()) {
    if (!c.thaw_pid && !c.thaw_all) return usage_error("thaw needs a PID or --all");
    auto loaded = resolve_config(a.config);
    return cmd_thaw(a.data_dir.value_or(loaded.config.storage.dir), c.thaw_pid, a.proc_root);
  }
  if (c.sensors->parsed()) return cmd_sensors(a.sys_root, a.format);
  if (c.profile->parsed()) {
    auto loaded = resolve_config(a.config);
    if (a.data_dir) loaded.config.storage.dir = *a.data_dir;
    if (a.runtime_dir) loaded.config.storage.runtime_dir = *a.runtime_dir;
    return cmd_profile(loaded.config, c.profile_options);
  }
  if (c.svc->parsed()) {
    if (c.svc->got_subcommand("install")) return service_install(c.so);
    if (c.svc->got_subcommand("uninstall")) return service_uninstall(c.so);
    return service_status(c.so);
  }
  auto loaded = resolve_config(a.config);
  if (c.check->parsed()) return cmd_check(loaded.config, a.proc_root, a.format);
  if (c.cats->parsed()) return cmd_categories(loaded.config, a.format);
  if (c.oom->parsed()) return cmd_oom_order(loaded.config, a.proc_root, c.oom_limit, a.format);
  if (c.dash->parsed()) {
    if (a.runtime_dir) loaded.config.storage.runtime_dir = *a.runtime_dir;
    return cmd_dashboard(loaded.config, c.dash_interval, colour_wanted(c.a.color).value_or(true));
  }
  if (c.ps->parsed()) {
    return cmd_ps(loaded.config, a.proc_root,
                  {a.sort, a.rule, a.category, a.unit, a.ps_interval, a.limit, a.format, a.ps_io});
  }
  daemon::RunOptions opts;
  opts.config_path = loaded.path;
  opts.dry_run = a.dry_run;
  opts.stats = a.stats;
  opts.report_interval = a.report_interval;
  opts.proc_root = a.proc_root;
  opts.sys_root = a.sys_root;
  opts.replace = a.replace;
  if (a.log_format) opts.json_log = *a.log_format == "json";
  opts.color = colour_wanted(a.color);
  opts.log_dir = a.log_dir;
  opts.data_dir = a.data_dir;
  opts.runtime_dir = a.runtime_dir;
  return run_daemon(std::move(loaded.config), opts);
}

}  // namespace

int main(int argc, char** argv, RunDaemon run_daemon) {
  CLI::App app{
      "FreezR: a Linux process guardian. It watches processes through /proc, matches "
      "them against rules and acts when one breaks its rule for long enough.",
      "freezr"};
  Commands c;
  define_global(app, c.a);
  define_inspection(app, c);
  define_config_and_thaw(app, c);
  define_history(app, c);
  define_suggest_and_service(app, c);
  c.completion = app.add_subcommand("completion", "Print the shell completion script");
  c.completion->add_option("shell", c.shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  c.desktop = define_desktop_notify(app, c.desktop_options);
  c.profile = define_profile(app, c.profile_options);
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
  if (c.completion->parsed()) {
    fmt::print("{}", completion_script(app, c.shell));
    return 0;
  }
  if (c.desktop->parsed()) return cmd_desktop_notify(c.desktop_options);
  try {
    return dispatch(c, run_daemon);
  } catch (const config::ConfigError& e) {
    return config_error(e);
  } catch (const std::system_error& e) {
    fmt::print(stderr, "freezr: {}\n", e.what());
    return 1;
  }
}

}  // namespace freezr::cli
