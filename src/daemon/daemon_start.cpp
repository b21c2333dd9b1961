// Daemon start-up: the members, the pre-flight checks, the database, HTTP and process events.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>

#include "daemon/daemon_loop.h"

namespace freezr::daemon::detail {

Daemon::Daemon(config::Config cfg, RunOptions opts)
    : opts_(std::move(opts)),
      base_(std::make_shared<const config::Config>(with_overrides(std::move(cfg), opts_))),
      cfg_(std::make_unique<config::Config>(*base_)),
      journal_(os::stderr_is_journal()),
      logging_(os::make_logger(cfg_->logging.dir, opts_.color, journal_)),
      log_(logging_.logger, cfg_->logging.json, journal_ ? journal_sink() : report::LineSink{}),
      tick_timer_(io_),
      report_timer_(io_),
      housekeeping_timer_(io_),
      watchdog_timer_(io_),
      exit_timer_(io_),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      source_(opts_.proc_root),
      scanner_(source_, &cfg_->rules, &cfg_->categories),
      policy_(&cfg_->rules),
      protection_(::getpid(), cfg_->protected_names()),
      services_(io_),
      cgroups_(cgroup_roots(source_), "freezr", act::instance_tag(cfg_->storage.dir)),
      control_(source_, opts_.proc_root),
      reversibles_(io_, source_, control_, clock_, cgroups_, ledger_,
                   [this](const act::ActionOutcome& o) { on_outcome(o); }),
      commands_(io_, clock_),
      notifier_(
          io_,
          [this](bool warning, const std::string& line) {
            log_.line(warning ? level_enum::warn : level_enum::info, "notify", {}, line);
          },
          [this](const notify::DesktopLaunch& l) { show_on_desktop(l); }),
      linux_(io_, control_, clock_, services_, reversibles_, commands_, cfg_->monitor.kill_grace,
             [this](const act::ActionOutcome& o) { on_outcome(o); }),
      dry_([this](const act::ActionOutcome& o) { on_outcome(o); },
           [this] { return clock_.wall(); }) {
  reversibles_.use_services(&services_);
}

bool Daemon::preflight() {
  Preflight pf(log_);
  pf.log_dir(logging_.dir, cfg_->logging.dir, logging_.file_error);
  auto data = pf.data_dir_and_lock(cfg_->storage.dir, cfg_->storage.runtime_dir, opts_.replace,
                                   cfg_->monitor.kill_grace + 20);
  if (!data) return false;
  data_dir_ = std::move(data->dir);
  runtime_dir_ = std::move(data->runtime);
  ledger_ = store::Ledger(&*data_dir_);
  lock_ = std::move(data->lock);
  preflight_warnings_ = 0;
  std::string own;
  if (auto r = source_.read_pid_file(::getpid(), "cgroup", own); r && *r) {
    own_unit_ = proc::parse_placement(own).system_unit;
  }
  check_disks(true);
  pf.system_health(source_);
  open_database(pf);
  cgroups_.accept_recorded(*data_dir_);
  if (!dry_run()) {
    delegate_cgroups(own);
    cgroups_.setup();
  }
  scanner_.set_cgroup_root(cgroups_.roots().v2);
  pf.check(true, "cgroups", cgroups_.describe());
  if (auto r = cgroups_.record(*data_dir_); !r) {
    pf.check(false, "cgroups", "cannot record the delegated cgroup: " + r.error().message);
  }
  if (dry_run()) {
    for (const auto& line : reversibles_.leftovers()) {
      pf.check(false, "leftovers",
               line +
                   ": left as it is in dry-run (a run without --dry-run "
                   "or `freezr thaw --all` undoes it)");
    }
  } else {
    for (const auto& line : reversibles_.recover()) pf.check(true, "leftovers", line);
  }
  for (const auto& p : ledger_.take_problems()) pf.check(false, "ledger", p);
  keep_stat_files(pf);
  if (!start_http(pf)) return false;
  start_notify(pf);
  pressure_ = std::make_unique<PressureWatcher>(
      PressureWatcher::Deps{io_, clock_, source_, opts_.proc_root, log_, writer_,
                            [this](const engine::Decision& d) { carry_out(d); },
                            [this]() -> const config::Config& { return *cfg_; },
                            [this]() -> const engine::Protection& { return protection_; },
                            [this] { return dry_run(); }, [this] { return clock_.wall(); },
                            [this]() -> std::optional<double> {
                              const auto& e = predictions_.forecaster().exhaustion();
                              return e ? std::optional<double>(e->seconds) : std::nullopt;
                            }});
  pf.check(true, "pressure", pressure_->start());
  if (const auto why = kernel_oom_.start(cfg_->pressure.kernel_log, source_); why.empty()) {
    pf.check(true, "kernel OOM kills", "read from " + cfg_->pressure.kernel_log);
  } else {
    pf.check(true, "kernel OOM kills", "counted in /proc/vmstat, the victim guessed (" + why + ")");
  }
  start_process_events(pf);
  start_thermal(pf);
  pf.lock_memory();
  pf.capabilities(command_capabilities(*cfg_));
  pf.summary(preflight_warnings_);
  writer_.lifecycle(clock_.wall(), "start", true,
                    "FreezR " + std::string(ui::kVersion) + " started with " + cfg_->source);
  run_retention();
  return true;
}

void Daemon::delegate_cgroups(const std::string& own_cgroup) {
  std::string dir = cgroups_.origin(own_cgroup, true);
  if (dir.empty() || !own_unit_.ends_with(".service")) return;
  // Started again after a crash, FreezR may find itself already in its own leaf.
  const std::string leaf = std::string("/") + act::Cgroups::kSelfLeaf;
  if (dir.ends_with(leaf)) dir.resize(dir.size() - leaf.size());
  if (!dir.ends_with("/" + own_unit_)) return;
  if (auto delegated = act::delegated_to(own_unit_, ::getpid()); delegated && *delegated) {
    cgroups_.delegate_to(dir);
  }
}

void Daemon::open_database(Preflight& pf) {
  // Created here, 0640 and never through a link, before SQLite opens it by path (its WAL and
  // shared-memory files take the same mode).
  if (auto fd = data_dir_->create_file("freezr.db", O_RDWR, 0640); fd) {
    struct stat st {};
    const bool empty = ::fstat(*fd, &st) == 0 && st.st_size == 0;
    ::close(*fd);
    std::error_code ec;
    if (empty && std::filesystem::exists(data_dir_->path_of("freezr.db-wal"), ec)) {
      pf.check(false, "database",
               data_dir_->path_of("freezr.db") +
                   " was empty beside its write-ahead log (truncated?): a new history starts");
    }
  } else {
    pf.check(false, "database", fd.error().message + "; no history");
    return;
  }
  std::string note;
  auto db = store::Database::open(data_dir_->path_of("freezr.db"), false, &note);
  if (!note.empty()) pf.check(false, "database", note);
  if (!db) {
    pf.check(false, "database", db.error().message + "; no history");
    return;
  }
  db_ = std::move(db).value();
  if (auto moved = ledger_.import_from(*db_); !moved) {
    pf.check(false, "ledger", moved.error().message);
  } else if (*moved > 0) {
    pf.check(true, "ledger",
             fmt::format("{} entries moved from the history into {}", *moved,
                         data_dir_->path_of(store::kLedgerFile)));
  }
  pf.check(true, "database",
           db_->path() + " (schema " + std::to_string(db_->schema_version()) + ")");
  if (cfg_->history.enabled) {
    history_ = std::make_unique<store::History>(*db_);
    writer_ = report::HistoryWriter(history_.get(), cfg_->history, [this](const std::string& w) {
      log_.note(level_enum::warn, w);
    });
    writer_.prune(clock_.wall());
  }
}

void Daemon::start_process_events(Preflight& pf) {
  if (!cfg_->monitor.process_events) {
    pf.check(true, "process events",
             "off ([monitor] process_events = false): new processes "
             "are found by scanning alone");
    return;
  }
  const auto subscribed = discovery_.start();
  discovery_.set_batch_seconds(event_batch_seconds(*cfg_));
  pf.check(subscribed.ok(), "process events",
           !subscribed ? fmt::format("unavailable ({}; needs CAP_NET_ADMIN in the host's network "
                                     "namespace): new processes are found by scanning every {:g}s",
                                     subscribed.error().message, cfg_->monitor.interval)
                       : std::string("subscribed to the kernel's process connector: exec and "
                                     "rename are seen at once"));
}

serve::ApiContext Daemon::api_context() {
  serve::ApiContext ctx;
  ctx.state = [this] { return state_; };
  ctx.state_with_processes = [this] { return state_with_processes(); };
  ctx.token = token_;
  ctx.history_path = db_ && history_ ? db_->path() : std::string();
  ctx.per_process_metrics = cfg_->http.per_process_metrics;
  ctx.now = [this] { return clock_.wall(); };
  ctx.asset = serve::dashboard_asset;
  ctx.version = ui::kVersion;
  ctx.thaw = [this](std::optional<Pid> pid) -> Result<nlohmann::json> {
    const auto pids = dry_run() ? dry_.thaw(pid) : reversibles_.thaw(pid);
    if (pid && pids.empty()) return Error(ESRCH, "PID is not frozen by FreezR");
    return nlohmann::json{{"thawed", pids}};
  };
  ctx.set_profile = [this](bool manual, const std::string& name) -> Result<nlohmann::json> {
    if (auto done = choose({manual, name}); !done) return done.error();
    return serve::profile_json(profile_row());
  };
  ctx.reload = [this] {
    const bool ok = reload();
    return nlohmann::json{{"reloaded", ok}};
  };
  return ctx;
}

bool Daemon::start_http(Preflight& pf) {
  if (!cfg_->http.enabled) return true;
  if (!cfg_->http.token_file.empty()) {
    auto t = read_token(cfg_->http.token_file);
    if (!t) {
      log_.line(level_enum::err, "preflight", {{"check", std::string("http token")}, {"ok", false}},
                t.error().message);
      return false;
    }
    token_ = *t;
  }
  const auto ctx = api_context();
  serve::ServerLimits limits;
  limits.max_connections = connection_cap(pf);
  // The history's readers open their own read-only connection: they answer off the loop.
  limits.offload = [](const serve::Request& r) { return serve::reads_history(r.path); };
  std::optional<serve::WebConfig> web;
  if (!cfg_->http.web_config.empty()) {
    auto w = serve::load_web_config(cfg_->http.web_config);
    if (!w) {
      pf.check(false, "http", w.error().message + "; HTTP is off, monitoring continues");
      return true;
    }
    web = std::move(*w);
  }
  const auto& listen = cfg_->http.listen;
  const bool beyond_loopback = !config::loopback_host(listen.substr(0, listen.rfind(':')));
  access_ = std::make_shared<serve::AccessPolicy>();
  access_->listen_host = serve::host_of(listen);
  access_->allowed_hosts = cfg_->http.allowed_hosts;
  access_->allowed_origins = cfg_->http.allowed_origins;
  access_->token = token_;
  access_->public_path = [](const std::string& p) {
    return p == "/healthz" || serve::dashboard_asset(p).has_value();
  };
  take_web_config(web);
  if (beyond_loopback && token_.empty() && !access_->basic && !access_->client_certs) {
    pf.check(false, "http",
             "listening on " + listen +
                 " (not loopback) needs the token, basic auth users or client certificates to "
                 "guard reads; HTTP is off, monitoring continues");
    return true;
  }
  access_->reads_need_token = beyond_loopback || access_->basic != nullptr;
  http_ = std::make_unique<serve::HttpServer>(
      io_,
      [this, ctx](const serve::Request& r) {
        note_reader(r);
        return serve::route(r, ctx);
      },
      limits, [access = access_](const serve::Request& r) { return serve::refusal(r, *access); });
  if (web && web->tls) {
    if (auto tls = http_->use_tls(*web->tls); !tls) {
      pf.check(false, "http", tls.error().message + "; HTTP is off, monitoring continues");
      http_.reset();
      return true;
    }
  }
  auto bound = http_->start(cfg_->http.listen);
  if (!bound) {
    pf.check(false, "http", bound.error().message + "; HTTP is off, monitoring continues");
    http_.reset();
    return true;
  }
  http_address_ = *bound;
  std::string how = http_->tls() ? " over TLS" : "";
  if (access_->client_certs) how += ", client certificates required";
  if (access_->basic) how += ", basic auth";
  if (!token_.empty()) how += " (control endpoints on)";
  pf.check(true, "http", "listening on " + *bound + how);
  return true;
}

void Daemon::take_web_config(const std::optional<serve::WebConfig>& web) {
  access_->basic = web && !web->basic_auth_users.empty()
                       ? std::make_shared<serve::BasicAuth>(web->basic_auth_users)
                       : nullptr;
  access_->client_certs = web && web->tls && web->tls->require_client_cert;
}

std::string Daemon::reload_web_config() {
  if (!http_ || cfg_->http.web_config.empty()) return {};
  auto web = serve::load_web_config(cfg_->http.web_config);
  if (!web) return web.error().message + "; the running web configuration is kept";
  if (web->tls) {
    if (auto tls = http_->use_tls(*web->tls); !tls) {
      return tls.error().message + "; the running web configuration is kept";
    }
  }
  take_web_config(*web);
  access_->reads_need_token = access_->reads_need_token || access_->basic != nullptr;
  return "web configuration " + cfg_->http.web_config + " reloaded" +
         (web->tls ? " (certificates taken for new connections)" : "");
}

void Daemon::keep_stat_files(Preflight& pf) {
  // The open-file limit raised to what the unit allows, and what is left beside the HTTP
  // connections and FreezR's own files kept for /proc/PID/stat.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = std::min<rlim_t>(lim.rlim_max, 1 << 20);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const long long room =
      lim.rlim_cur == RLIM_INFINITY ? (1 << 20) : static_cast<long long>(lim.rlim_cur);
  const long long budget = room - 256 - cfg_->http.max_connections;
  source_.keep_stat_open(budget > 0 ? static_cast<std::size_t>(budget) : 0);
  pf.check(true, "open files",
           budget > 0 ? fmt::format("/proc/PID/stat kept open for up to {} processes (open-file "
                                    "limit {})",
                                    budget, room)
                      : fmt::format("the open-file limit {} leaves no room to keep /proc/PID/stat "
                                    "open: each scan opens them",
                                    room));
}

int Daemon::connection_cap(Preflight& pf) {
  // Every connection is a file descriptor: keep room for the history, logs, /proc and PSI.
  constexpr int kReserved = 128;
  rlimit lim{};
  int cap = cfg_->http.max_connections;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
      static_cast<long long>(lim.rlim_cur) < cap + kReserved) {
    cap = std::max(1, static_cast<int>(lim.rlim_cur) - kReserved);
    pf.check(false, "http",
             fmt::format("max_connections {} lowered to {}: the open-file limit is {} "
                         "(raise LimitNOFILE)",
                         cfg_->http.max_connections, cap, lim.rlim_cur));
  }
  return cap;
}

void Daemon::check_disks(bool at_start) {
  double worst = 0;
  for (const auto& dir : std::set<std::string>{cfg_->logging.dir, cfg_->storage.dir}) {
    auto u = disk_usage(dir);
    if (!u) continue;
    worst = std::max(worst, u->used_percent);
    if (at_start) {
      const bool ok = u->used_percent <= cfg_->preflight.disk_warn_percent;
      if (!ok) ++preflight_warnings_;
      log_.line(ok ? level_enum::info : level_enum::warn, "preflight",
                {{"check", std::string("disk space")}, {"ok", ok}},
                fmt::format("{}: {:.1f}% used, {:.1f} MiB free", dir, u->used_percent,
                            static_cast<double>(u->free_bytes) / kMiB));
    }
  }
  const bool critical = worst > cfg_->preflight.disk_critical_percent;
  if (critical == degraded_) return;
  degraded_ = critical;
  if (logging_.file) {
    logging_.file->set_level(critical ? level_enum::warn : level_enum::trace);
  }
  log_.line(critical ? level_enum::warn : level_enum::info, "disk",
            {{"used_percent", worst}, {"critical_percent", cfg_->preflight.disk_critical_percent}},
            critical ? "disk almost full: files keep only warnings; monitoring continues"
                     : "disk space recovered: full file logging again");
}

void Daemon::run_retention() {
  if (!logging_.file) return;
  int removed = 0, compressed = 0;
  for (const auto& p :
       os::apply_retention(*logging_.dir, today(), cfg_->logging.keep_days,
                           cfg_->logging.compress_after_days, &removed, &compressed)) {
    log_.line(level_enum::warn, "retention", {}, p);
  }
  if (removed + compressed > 0) {
    log_.line(level_enum::info, "retention",
              {{"deleted", static_cast<long long>(removed)},
               {"compressed", static_cast<long long>(compressed)}},
              "old daily log files handled");
  }
}

}  // namespace freezr::daemon::detail
