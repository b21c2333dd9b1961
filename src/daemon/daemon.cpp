// The Daemon's loop: scans, decisions, publishing, signals, reload and shutdown.
#include <boost/asio/post.hpp>

#include "daemon/daemon_loop.h"

namespace freezr::daemon::detail {

int Daemon::run() {
  signals_.add(SIGUSR1);
  signals_.add(SIGUSR2);
  start_profile();
  reversibles_.prefer_signals(!cfg_->monitor.freeze_with_cgroup);
  started_ = clock_.monotonic();
  started_wall_ = clock_.wall();
  last_reload_success_ = started_wall_;
  log_.note(level_enum::info, ui::banner(*cfg_, dry_run()));
  for (const auto& n : cfg_->notes) log_.note(level_enum::info, "config note: " + n);
  if (!preflight()) {
    logging_.logger->flush();
    return 1;
  }
  wait_signal();
  next_tick_ = steady_clock::now();
  tick();
  os::notify_ready(
      fmt::format("monitoring {} rules every {:g}s", cfg_->rules.size(), cfg_->monitor.interval));
  // Start-up is over: the code pages only it ran leave the resident set.
  const auto code = os::release_code_pages();
  log_.note(level_enum::debug, fmt::format("released {} KiB of start-up code in {} mappings",
                                           code.released_kib, code.mappings));
  if (opts_.stats) schedule_report();
  schedule_housekeeping();
  schedule_watchdog();
  io_.run();
  writer_.lifecycle(clock_.wall(), "stop", true, "FreezR stopped");
  writer_.flush(clock_.wall());
  log_.note(level_enum::info, "FreezR stopped");
  logging_.logger->flush();
  return 0;
}

void Daemon::tick() {
  const Seconds t0 = clock_.monotonic();
  reversibles_.reconcile();  // a scan after they were made: holds the machine ended end here
  for (const auto& p : ledger_.take_problems()) log_.line(level_enum::warn, "ledger", {}, p);
  const auto& result =
      discovery_.scan(clock_.monotonic(), sweep_every(), cfg_->monitor.full_scan_every);
  ++checks_;
  if (result.full) ++full_scans_;
  load_ = result.snap.loadavg;
  mem_ = result.snap.meminfo;
  // FreezR's ancestors: a light scan reads few processes, and they do not change.
  if (result.full) protection_.refresh(result.snap);
  if (checks_ == 1) warn_unmatched(result);
  exec_watch_.on_scan(result);
  const double wall = clock_.wall();
  predictions_.observe(result, *cfg_, wall);
  notify_predictions();
  for (const auto& d :
       policy_.evaluate(result.snap, result.cls, protection_, &predictions_.forecaster())) {
    report::log_decision(log_, d, cfg_->rules[d.rule_index].steps[d.step].cooldown);
    carry_out(d);
  }
  writer_.transitions(wall, policy_.transitions());
  if (pressure_) pressure_->on_scan(result.snap);
  for (const auto& k : kernel_oom_.poll(result.snap)) on_kernel_kill(k, result);
  cool_down(result);
  writer_.scan(wall, result.snap, result.cls, cfg_->rules, policy_, degraded_, result.full);
  const double took = clock_.monotonic() - t0;
  scan_seconds_total_ += took;
  scan_durations_.observe(took);
  publish(result, took);
  write_status(*state_);
  follow_profile();
  schedule_tick();
}

int Daemon::sweep_every() {
  const auto& m = cfg_->monitor;
  const double window = std::max(kReaderSeconds, 3 * m.interval);
  const bool watched =
      (http_ && http_->ws_clients() > 0) || clock_.monotonic() - table_read_.load() < window;
  // A reader after a quiet spell gets a full table at the next scan, not after the long gap.
  if (watched && !watched_) discovery_.force_full();
  watched_ = watched;
  return watched ? m.full_scan_every : m.unwatched_full_scan_every;
}

void Daemon::note_reader(const serve::Request& r) {
  if (serve::reads_process_table(r.path, cfg_->http.per_process_metrics)) {
    table_read_.store(clock_.monotonic());
  }
}

void Daemon::publish(const scan::ScanResult& result, double took) {
  report::PublishInput in;
  in.result = &result;
  in.rules = &cfg_->rules;
  in.categories = &cfg_->categories;
  in.policy = &policy_;
  in.info = &scanner_.info();
  in.list = watched_;
  in.frozen = dry_run() ? dry_.frozen() : reversibles_.frozen();
  auto& st = in.state;
  st.version = ui::kVersion;
  st.pid = ::getpid();
  st.config_source = cfg_->source;
  st.http = http_address_;
  st.degraded_logging = degraded_;
  st.totals = totals();
  if (pressure_) {
    st.pressure = {engine::to_string(pressure_->level()), pressure_->mode(), pressure_->kills()};
  }
  st.pressure.kernel_kills = kernel_oom_.kills();
  st.thermal = thermal_rows();
  st.actions = action_counts_;
  st.updated = clock_.wall();
  st.started = started_wall_;
  st.dry_run = dry_run();
  st.interval = cfg_->monitor.interval;
  st.scans = checks_;
  st.full_scans = full_scans_;
  st.last_scan_seconds = took;
  st.scan_seconds_total = scan_seconds_total_;
  st.scan_durations = scan_durations_;
  st.last_reload_ok = last_reload_ok_;
  st.last_reload_success = last_reload_success_;
  const auto self = self_usage(source_);
  st.self_cpu_seconds = self.cpu_seconds;
  st.self_rss_bytes = self.rss_bytes;
  st.self_virtual_bytes = self.virtual_bytes;
  st.control = !token_.empty();
  st.predictions = predictions_.rows();
  st.profile = profile_row();
  state_ = report::build_state(std::move(in));
  if (http_ && http_->ws_clients() > 0) {
    http_->broadcast(report::live_update(*state_, writer_.take_feed()));
  } else {
    writer_.take_feed();
  }
}

std::shared_ptr<const serve::State> Daemon::state_with_processes() {
  // After a reload the table's verdicts are of the old rules until the next scan.
  if (!state_ || state_->listed || scanner_.rules_changed()) return state_;
  auto s = std::make_shared<serve::State>(*state_);
  report::list_processes(*s, scanner_.table(), cfg_->rules, &cfg_->categories, policy_,
                         &scanner_.info());
  state_ = std::move(s);
  return state_;
}

void Daemon::schedule_tick() {
  if (stopping_) return;
  next_tick_ += to_duration(cfg_->monitor.interval);
  const auto now = steady_clock::now();
  if (next_tick_ <= now) {
    log_.note(level_enum::warn, "scan overran its interval; the next scan starts now");
    next_tick_ = now;
  }
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) tick();
  });
}

void Daemon::warn_unmatched(const scan::ScanResult& r) {
  for (std::size_t i = 0; i < cfg_->rules.size(); ++i) {
    if (cfg_->rules[i].enabled && r.cls.members[i].empty()) {
      log_.note(level_enum::warn, "rule '" + cfg_->rules[i].name +
                                      "' matches no running process (check its match criteria)");
    }
  }
}

void Daemon::write_status(const serve::State& state) {
  if (!runtime_dir_) return;
  const auto written =
      runtime_dir_->write_atomically("status.json", serve::status_json(state).dump(2) + "\n");
  if (!written && !status_error_reported_) {
    log_.note(level_enum::warn,
              "status snapshot not written: " + written.error().message + " (said once)");
  }
  status_error_reported_ = !written;
}

void Daemon::carry_out(const engine::Decision& d) {
  if (d.verdict == engine::Verdict::kAct && d.action.kind == engine::ActionKind::kRestart &&
      d.action.service.empty()) {
    const auto refused = [this](const act::ActionOutcome& o) { on_outcome(o); };
    for (const auto& one : act::restarts_by_unit(d, scanner_.info(), own_unit_, refused)) {
      carry_out(one);
    }
    return;
  }
  if (d.whole_unit.empty() && d.origin == engine::Origin::kRule &&
      d.rule_index < cfg_->rules.size()) {
    auto unit = act::whole_unit(d, cfg_->rules[d.rule_index], scanner_.info(), own_unit_);
    if (!unit.empty()) {
      auto whole = d;
      whole.whole_unit = std::move(unit);
      carry_out(whole);
      return;
    }
  }
  writer_.decision(clock_.wall(), d);
  if (d.verdict != engine::Verdict::kAct && d.verdict != engine::Verdict::kRelease) return;
  if (notifier_.desktop() && d.verdict == engine::Verdict::kAct) {
    for (const auto& t : d.targets) {
      if (const auto uid = owner_of(opts_.proc_root, t.id.pid)) target_uids_[t.id] = *uid;
    }
  }
  if (d.verdict == engine::Verdict::kAct && d.action.before) {
    auto o = act::outcome_of(d);
    if (!d.targets.empty()) o.target = d.targets.front();
    auto env = act::command_environment(o, false);
    std::string pids;
    for (const auto& t : d.targets) pids += (pids.empty() ? "" : " ") + std::to_string(t.id.pid);
    env.emplace_back("FREEZR_PIDS", pids);
    // The action waits for its hook (never the loop); a target that exits meanwhile is
    // recognised by its start time when the action comes.
    run_hook("before", *d.action.before, o, std::move(env), [this, d] {
      if (!stopping_) actuator().apply(d);
    });
    return;
  }
  actuator().apply(d);
}

void Daemon::on_outcome(const act::ActionOutcome& o) {
  report::log_outcome(log_, o);
  if (o.final || !o.ok) notifier_.notify(notice_of(o));
  if (o.origin == engine::Origin::kPressure && pressure_) pressure_->on_outcome(o);
  writer_.outcome(clock_.wall(), o);
  if (o.final || !o.ok) {
    const char* outcome = o.dry_run ? "dry_run" : o.ok ? "ok" : "failed";
    const std::string action = std::string(o.undo ? "undo_" : "") + engine::to_string(o.action);
    ++action_counts_[{o.rule, action, outcome}];
  }
  if (!o.dry_run && !o.ok) ++failed_;
  if (!o.dry_run && o.ok && o.final && o.action == engine::ActionKind::kKill) ++kills_;
  if (!o.dry_run && o.ok && o.final && o.action == engine::ActionKind::kRestart) ++restarts_;
  if (!o.dry_run && o.ok && !o.undo && o.action == engine::ActionKind::kFreeze) ++freezes_;
  if (!o.dry_run && o.ok && !o.undo && o.action == engine::ActionKind::kThrottle) ++throttles_;
  if (!o.dry_run && o.ok && !o.undo && o.action == engine::ActionKind::kRenice) ++renices_;
  if (o.final && !o.undo && !o.dry_run && o.after) {
    run_hook("after", *o.after, o, act::command_environment(o, true));
  }
  if (stopping_ && linux_.pending() == 0) io_.stop();
}

void Daemon::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
    } else if (sig == SIGUSR1) {
      log_.note(level_enum::info, ui::statistics_block(totals()));
    } else if (sig == SIGUSR2) {
      reread_choice();
    } else {
      shutdown(sig);
      return;
    }
    wait_signal();
  });
}

std::vector<std::string> Daemon::settings_kept_until_restart(const config::Config& next) const {
  std::vector<std::string> out;
  auto kept = [&](const std::string& key, const std::string& now, const std::string& asked) {
    if (now != asked) out.push_back(key + " (\"" + now + "\" → \"" + asked + "\")");
  };
  kept("[logging] dir", cfg_->logging.dir, next.logging.dir);
  kept("[storage] dir", cfg_->storage.dir, next.storage.dir);
  kept("[storage] runtime_dir", cfg_->storage.runtime_dir, next.storage.runtime_dir);
  return out;
}

bool Daemon::http_changed(const config::Config& next) const {
  const auto& a = cfg_->http;
  const auto& b = next.http;
  return a.enabled != b.enabled || a.listen != b.listen || a.token_file != b.token_file ||
         a.web_config != b.web_config || a.max_connections != b.max_connections;
}

void Daemon::restart_http() {
  if (http_) {
    http_->stop();
    http_.reset();
  }
  http_address_.clear();
  token_.clear();
  access_.reset();
  Preflight pf(log_);
  if (!start_http(pf))
    log_.line(level_enum::err, "reload", {}, "HTTP is off until the next reload");
}

bool Daemon::reload() {
  if (!opts_.config_path) {
    log_.note(level_enum::info,
              "reload: running on the embedded default configuration; nothing to reload");
    return false;
  }
  os::notify_reloading();
  try {
    auto base = std::make_shared<const config::Config>(
        with_overrides(config::load_config(*opts_.config_path), opts_));
    const auto chosen = wanted_profile(*base);
    auto next = configured(*base, chosen.profile);
    const auto unchanged = settings_kept_until_restart(*next);
    const bool http = http_changed(*next);
    base_ = std::move(base);
    const auto before = cfg_->profile;
    adopt(std::move(next));
    if (chosen.profile != before) profile_switched(before, chosen);
    chosen_ = chosen;
    const auto msg =
        fmt::format("configuration reloaded from {}: {} rules", cfg_->source, cfg_->rules.size());
    log_.line(level_enum::info, "reload",
              {{"config", cfg_->source}, {"rules", static_cast<long long>(cfg_->rules.size())}},
              msg);
    writer_.lifecycle(clock_.wall(), "reload", true, msg);
    last_reload_ok_ = true;
    last_reload_success_ = clock_.wall();
    if (!unchanged.empty()) {
      std::string keys;
      for (const auto& k : unchanged) keys += (keys.empty() ? "" : ", ") + k;
      log_.line(level_enum::warn, "reload", {},
                "these settings need a restart and are kept until then: " + keys);
    }
    if (http) {
      // After the request that may have asked for this reload has been answered.
      boost::asio::post(io_, [this] { restart_http(); });
    } else if (access_) {  // who may ask: taken at once
      access_->allowed_hosts = cfg_->http.allowed_hosts;
      access_->allowed_origins = cfg_->http.allowed_origins;
    }
    if (const auto web = reload_web_config(); !web.empty())
      log_.line(level_enum::info, "reload", {}, web);
    os::notify_ready("configuration reloaded");
    return true;
  } catch (const config::ConfigError& e) {
    const std::string msg =
        std::string("configuration reload rejected, keeping the running one: ") + e.what();
    log_.line(level_enum::err, "reload", {{"ok", false}}, msg);
    writer_.lifecycle(clock_.wall(), "reload", false, msg);
    last_reload_ok_ = false;
    os::notify_ready("configuration reload rejected");
    return false;
  }
}

void Daemon::shutdown(int sig) {
  os::notify_stopping();
  log_.note(level_enum::info,
            fmt::format("received {}; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  stopping_ = true;
  for (auto* t : {&tick_timer_, &report_timer_, &housekeeping_timer_, &watchdog_timer_}) {
    t->cancel();
  }
  signals_.cancel();
  discovery_.stop();
  if (http_) http_->stop();
  if (pressure_) pressure_->stop();
  if (const int undone = reversibles_.undo_all(); undone > 0) {
    log_.note(level_enum::info, fmt::format("undid {} renice/throttle/freeze action(s)", undone));
  }
  if (linux_.pending() == 0) {
    io_.stop();
    return;
  }
  log_.note(level_enum::info,
            fmt::format("waiting for {} pending action(s) to finish", linux_.pending()));
  exit_timer_.expires_after(to_duration(cfg_->monitor.kill_grace + 12));
  exit_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) io_.stop();
  });
}

void Daemon::schedule_report() {
  report_timer_.expires_after(to_duration(opts_.report_interval));
  report_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    log_.note(level_enum::info, ui::statistics_block(totals()));
    schedule_report();
  });
}

void Daemon::schedule_housekeeping() {
  housekeeping_timer_.expires_after(to_duration(kHousekeepingSeconds));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    check_disks(false);
    if (++housekeeping_rounds_ % 60 == 0) {  // hourly
      run_retention();
      writer_.prune(clock_.wall());
    }
    schedule_housekeeping();
  });
}

void Daemon::schedule_watchdog() {
  const auto period = os::watchdog_period();
  if (!period) return;
  os::notify_watchdog();
  watchdog_timer_.expires_after(to_duration(*period));
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) schedule_watchdog();
  });
}

engine::Totals Daemon::totals() const {
  engine::Totals t;
  t.runtime = clock_.monotonic() - started_;
  t.checks = checks_;
  for (std::size_t i = 0; i <= cfg_->rules.size(); ++i) {
    const auto& c = i < cfg_->rules.size() ? policy_.counters(i) : retired_;
    t.process_checks += c.checks;
    t.violating_checks += c.violating_checks;
    t.cpu_violations += c.cpu_violations;
    t.memory_violations += c.memory_violations;
    t.cpu_since_action += c.cpu_since_action;
    t.memory_since_action += c.memory_since_action;
  }
  t.restarts = restarts_;
  t.kills = kills_;
  t.freezes = freezes_;
  t.throttles = throttles_;
  t.renices = renices_;
  t.failed_actions = failed_;
  t.load = load_;
  t.memory = mem_;
  return t;
}

}  // namespace freezr::daemon::detail

namespace freezr::daemon {

int run(config::Config config, const RunOptions& options) {
  // FreezR's files are for root (or its own user) and its group to read, whatever the umask
  // it was started with; the modes given where files are created narrow this further.
  ::umask(027);
  detail::Daemon d(std::move(config), options);
  return d.run();
}

}  // namespace freezr::daemon
