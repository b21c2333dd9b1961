// The Daemon's profiles: the choice kept in the data directory, automatic switches after each
// scan, and the one path every switch takes (adopt, as a reload does).
#include "core/text.h"
#include "daemon/daemon_loop.h"
#include "proc/power_supply.h"

namespace freezr::daemon::detail {

namespace {
bool uses_battery(const config::Config& c) {
  return std::any_of(c.profiles.begin(), c.profiles.end(),
                     [](const config::ProfileSpec& p) { return p.on_battery.has_value(); });
}
bool automatic(const config::Config& c) {
  return std::any_of(c.profiles.begin(), c.profiles.end(),
                     [](const config::ProfileSpec& p) { return p.automatic(); });
}
}  // namespace

std::unique_ptr<config::Config> Daemon::configured(const config::Config& base,
                                                   const std::string& name) const {
  return std::make_unique<config::Config>(with_overrides(config::with_profile(base, name), opts_));
}

void Daemon::adopt(std::unique_ptr<config::Config> next) {
  next->logging.dir = cfg_->logging.dir;  // directories and the lock stay until restart
  next->storage.dir = cfg_->storage.dir;
  next->storage.runtime_dir = cfg_->storage.runtime_dir;
  // What the rules that change, go or are turned off hold is undone: nothing they decide any
  // more would release it.
  std::set<std::string> retiring;
  for (const auto& old : cfg_->rules) {
    const bool kept = std::any_of(next->rules.begin(), next->rules.end(), [&](const auto& r) {
      return r.enabled && engine::same_rule(old, r);
    });
    if (!kept) retiring.insert(old.name);
  }
  if (const int undone = reversibles_.undo_rules(retiring, "its rule changed"); undone > 0) {
    log_.note(level_enum::info, fmt::format("undid {} action(s) of rules that changed", undone));
  }
  retired_ += policy_.reset(&next->rules);
  scanner_.reset_rules(&next->rules, &next->categories);
  protection_ = engine::Protection(::getpid(), next->protected_names());
  cfg_ = std::move(next);
  for (const auto& problem : notifier_.configure(cfg_->notify)) {
    log_.line(level_enum::warn, "notify", {}, problem);
  }
  log_.set_json(cfg_->logging.json);
  predictions_.reset(*cfg_);
  exec_watch_.reset();
  for (const auto& d : thermal_.reset(&cfg_->thermal)) carry_out(d);
  discovery_.force_full();
  discovery_.set_batch_seconds(event_batch_seconds(*cfg_));
  reversibles_.prefer_signals(!cfg_->monitor.freeze_with_cgroup);
}

void Daemon::start_profile() {
  profile_since_ = clock_.wall();
  if (base_->profiles.empty()) return;
  const std::string path = cfg_->storage.dir + "/" + config::kProfileFile;
  if (auto text = fs::read_regular_file(path, 4096)) {
    if (auto c = config::parse_choice(*text)) {
      choice_ = *c;
      if (choice_.manual && !config::stands(*base_, choice_)) {
        log_.note(level_enum::warn, "profile: " + path + " chooses '" + choice_.profile +
                                        "', which the configuration does not have; choosing "
                                        "automatically");
      }
    } else {
      log_.note(level_enum::warn,
                "profile: " + path + " is not a choice (" + c.error().message + "); ignored");
    }
  }
  read_battery();
  chosen_ = wanted_profile(*base_);
  if (!chosen_.profile.empty()) adopt(configured(*base_, chosen_.profile));
}

std::optional<std::string> Daemon::running(const engine::Match& m) {
  for (const auto& p : scanner_.processes()) {
    if (!p.kernel_thread && p.id.pid != ::getpid() && engine::matches(m, p, scanner_.info())) {
      return fmt::format("{} (PID {})", terminal_safe(p.comm), p.id.pid);
    }
  }
  return std::nullopt;
}

void Daemon::read_battery() {
  if (!uses_battery(*base_)) return;
  battery_read_ = clock_.monotonic();
  on_battery_ = proc::on_battery(opts_.sys_root);
}

config::ChosenProfile Daemon::wanted_profile(const config::Config& base) {
  return config::choose_profile(
      base, choice_, [this](const engine::Match& m) { return running(m); }, on_battery_);
}

void Daemon::follow_profile() {
  // A choice by hand stands while the configuration has its profile.
  if (config::stands(*base_, choice_) || !automatic(*base_)) return;
  if (clock_.monotonic() - battery_read_ >= kBatterySeconds) read_battery();
  switch_profile(wanted_profile(*base_));
}

bool Daemon::switch_profile(const config::ChosenProfile& chosen) {
  if (chosen.profile == cfg_->profile) {
    chosen_ = chosen;
    return false;
  }
  const auto from = cfg_->profile;
  adopt(configured(*base_, chosen.profile));
  profile_switched(from, chosen);
  return true;
}

void Daemon::profile_switched(const std::string& from, const config::ChosenProfile& chosen) {
  ++profile_switches_;
  profile_since_ = clock_.wall();
  const auto name = [](const std::string& p) { return p.empty() ? std::string("none") : p; };
  const auto enabled = std::count_if(cfg_->rules.begin(), cfg_->rules.end(),
                                     [](const engine::Rule& r) { return r.enabled; });
  log_.line(level_enum::info, "profile",
            {{"from", name(from)}, {"to", name(chosen.profile)}, {"why", chosen.why}},
            fmt::format("{} of {} rules enabled, a scan every {:g}s", enabled, cfg_->rules.size(),
                        cfg_->monitor.interval));
  writer_.lifecycle(
      clock_.wall(), "profile", true,
      fmt::format("profile {} → {}: {}", name(from), name(chosen.profile), chosen.why));
  chosen_ = chosen;
  show_profile();
}

void Daemon::show_profile() {
  if (!state_) return;
  auto st = std::make_shared<serve::State>(*state_);
  st->profile = profile_row();
  state_ = std::move(st);
  write_status(*state_);
}

Result<void> Daemon::choose(const config::ProfileChoice& choice) {
  if (choice.manual && !config::stands(*base_, choice)) {
    return error_of(ErrorKind::kConfig, "no profile named '" + choice.profile +
                                            "' (profiles: " + config::profile_names(*base_) + ")");
  }
  if (data_dir_) {
    if (auto w = data_dir_->write_atomically(config::kProfileFile, config::choice_text(choice),
                                             0640, true);
        !w) {
      return w.error();
    }
  }
  choice_ = choice;
  if (!switch_profile(wanted_profile(*base_))) show_profile();  // a switch shows itself
  return {};
}

void Daemon::reread_choice() {
  if (!data_dir_) return;
  const auto text = fs::read_regular_file(data_dir_->path_of(config::kProfileFile), 4096);
  auto c = text ? config::parse_choice(*text) : Result<config::ProfileChoice>(text.error());
  if (!c) {
    log_.line(level_enum::err, "profile", {},
              "SIGUSR2: the profile choice cannot be read: " + c.error().message);
    return;
  }
  if (auto done = choose(*c); !done) {
    log_.line(level_enum::err, "profile", {}, "SIGUSR2: " + done.error().message);
  }
}

serve::ProfileRow Daemon::profile_row() const {
  serve::ProfileRow row;
  row.name = cfg_->profile;
  row.manual = choice_.manual;
  row.why = chosen_.why;
  row.since = profile_since_;
  row.switches = profile_switches_;
  row.on_battery = on_battery_;
  for (const auto& p : base_->profiles) {
    row.profiles.push_back({p.name, p.description, p.automatic(), p.priority});
  }
  return row;
}

}  // namespace freezr::daemon::detail
