#include "cli/profile_cmd.h"

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/table.h"
#include "config/profile_choice.h"
#include "fs/files.h"
#include "os/instance_lock.h"

namespace freezr::cli {

namespace {

// The "profile" object of the running FreezR's status snapshot, or null.
nlohmann::json running_profile(const config::Config& cfg) {
  const auto text = fs::read_regular_file(cfg.storage.runtime_dir + "/status.json", 1 << 24);
  if (!text) return nullptr;
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  return j.is_object() && j.contains("profile") ? j["profile"] : nlohmann::json(nullptr);
}

std::string when_of(const config::ProfileSpec& p) {
  std::string out;
  if (p.running) out = "a process runs";
  if (p.on_battery) {
    out += (out.empty() ? "" : " and ") + std::string(*p.on_battery ? "on battery" : "on mains");
  }
  return out.empty() ? "by hand only" : out;
}

int list(const config::Config& cfg, const std::string& format) {
  const auto now = running_profile(cfg);
  const std::string active = now.is_object() && now["name"].is_string() ? now["name"] : "";
  Table t;
  t.headers = {"profile", "active", "chosen", "priority", "description"};
  t.when_empty = "(the configuration has no [profile.NAME] sections)";
  for (const auto& p : cfg.profiles) {
    t.rows.push_back({p.name, p.name == active, when_of(p), p.priority, p.description});
  }
  fmt::print("{}", render(t, format));
  if (format != "table") return 0;
  if (!now.is_object()) {
    fmt::print("FreezR is not running (no status snapshot in {})\n", cfg.storage.runtime_dir);
  } else {
    fmt::print("in force: {} ({}: {})\n", active.empty() ? "none" : active,
               now.value("mode", "auto"), now.value("why", ""));
  }
  return 0;
}

}  // namespace

CLI::App* define_profile(CLI::App& app, ProfileOptions& o) {
  auto* sub = app.add_subcommand(
      "profile", "List the profiles, or switch the running FreezR to one (kept across restarts)");
  sub->fallthrough();
  auto* name = sub->add_option("name", o.name, "The [profile.NAME] to switch to");
  auto* off = sub->add_flag("--off", o.off, "No profile: the configuration as written");
  auto* automatic =
      sub->add_flag("--auto", o.automatic, "Back to the automatic choice ([profile.NAME.when])");
  name->excludes(off)->excludes(automatic);
  off->excludes(automatic);
  sub->add_option("--wait", o.wait, "Seconds to wait for the running FreezR to switch")
      ->check(CLI::Range(0.0, 600.0));
  sub->add_option("--format", o.format, "table, json or csv (the list)")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  return sub;
}

int cmd_profile(const config::Config& cfg, const ProfileOptions& o) {
  if (!o.name && !o.off && !o.automatic) return list(cfg, o.format);
  if (o.name && !config::find_profile(cfg, *o.name)) {
    fmt::print(stderr, "freezr: no profile named '{}' in {} (profiles: {})\n", *o.name, cfg.source,
               config::profile_names(cfg));
    return 2;
  }
  const config::ProfileChoice choice{!o.automatic, o.name.value_or("")};
  auto dir = fs::Directory::open(cfg.storage.dir);
  auto written =
      dir ? dir->write_atomically(config::kProfileFile, config::choice_text(choice), 0640, true)
          : Result<void>(dir.error());
  if (!written) {
    fmt::print(stderr, "freezr: cannot keep the choice in {}: {}\n", cfg.storage.dir,
               written.error().message);
    return 1;
  }
  const std::string wanted = o.automatic ? "the automatic choice"
                             : o.off     ? "no profile"
                                         : "profile " + *o.name;
  const auto told = os::InstanceLock::signal(cfg.storage.runtime_dir + "/freezr.lock", SIGUSR2);
  if (!told && told.error().gone()) {
    fmt::print("FreezR is not running: {} is in force from its next start\n", wanted);
    return 0;
  }
  if (!told) {
    fmt::print(stderr, "freezr: the choice is kept, but FreezR was not told: {}\n",
               told.error().message);
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(o.wait);
  for (;;) {
    const auto now = running_profile(cfg);
    const bool mode =
        now.is_object() && now.value("mode", "") == (choice.manual ? "manual" : "auto");
    const bool name = !choice.manual ||
                      (now.is_object() && (choice.profile.empty() ? now["name"].is_null()
                                                                  : now["name"] == choice.profile));
    if (mode && name) {
      const std::string active = now["name"].is_string() ? now["name"] : "none";
      fmt::print("FreezR (PID {}) runs under profile {} ({})\n", *told, active,
                 now.value("why", ""));
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr,
             "freezr: told FreezR (PID {}) to switch to {}, but its status does not show "
             "it after {:g}s (see its log)\n",
             *told, wanted, o.wait);
  return 1;
}

}  // namespace freezr::cli
