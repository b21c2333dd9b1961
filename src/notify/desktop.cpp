#include "notify/desktop.h"

#include <fmt/format.h>
#include <pwd.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstring>

namespace freezr::notify {

namespace {

constexpr const char* kLogind = "org.freedesktop.login1";

struct Session {
  std::uint32_t uid = 0;
  std::string path;
};

// The sessions logind lists that are active, local and graphical; an error in words.
Result<std::vector<Session>> graphical_sessions(sd_bus* bus) {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(bus, kLogind, "/org/freedesktop/login1",
                             "org.freedesktop.login1.Manager", "ListSessions", &error, &reply, "");
  if (r < 0) {
    std::string why = error.message != nullptr ? error.message : std::strerror(-r);
    sd_bus_error_free(&error);
    return Error(-r, "logind did not list the sessions: " + why);
  }
  std::vector<Session> all;
  r = sd_bus_message_enter_container(reply, 'a', "(susso)");
  const char *id = nullptr, *user = nullptr, *seat = nullptr, *path = nullptr;
  std::uint32_t uid = 0;
  while (r >= 0 &&
         (r = sd_bus_message_read(reply, "(susso)", &id, &uid, &user, &seat, &path)) > 0) {
    all.push_back({uid, path});
  }
  sd_bus_message_unref(reply);
  std::vector<Session> out;
  for (const auto& s : all) {
    char* type = nullptr;
    int active = 0, remote = 0;
    const char* iface = "org.freedesktop.login1.Session";
    if (sd_bus_get_property_string(bus, kLogind, s.path.c_str(), iface, "Type", nullptr, &type) >=
            0 &&
        sd_bus_get_property_trivial(bus, kLogind, s.path.c_str(), iface, "Active", nullptr, 'b',
                                    &active) >= 0 &&
        sd_bus_get_property_trivial(bus, kLogind, s.path.c_str(), iface, "Remote", nullptr, 'b',
                                    &remote) >= 0) {
      const std::string t = type != nullptr ? type : "";
      if (active != 0 && remote == 0 && (t == "x11" || t == "wayland" || t == "mir")) {
        out.push_back(s);
      }
    }
    std::free(type);
  }
  return out;
}

}  // namespace

bool for_desktop(const Notice& n) {
  if (n.kind == "prediction") return true;
  if (n.kind == "pressure") return n.action != "none";
  return n.kind == "action" && !n.dry_run && n.action.rfind("undo", 0) != 0 && n.action != "log";
}

std::vector<std::string> desktop_arguments(const Notice& n) {
  std::string body = n.rule.empty() ? n.reason : "Rule " + n.rule + ": " + n.reason;
  if (n.ok == false && !n.detail.empty()) body += (body.empty() ? "" : "\n") + n.detail;
  std::vector<std::string> args = {"desktop-notify",
                                   "--summary",
                                   n.title,
                                   "--body",
                                   body,
                                   "--icon",
                                   n.severity == "critical"  ? "dialog-error"
                                   : n.severity == "warning" ? "dialog-warning"
                                                             : "dialog-information",
                                   "--urgency",
                                   n.severity == "critical" ? "critical" : "normal"};
  if (n.thaw_for > 0 && n.pid != 0) {
    args.insert(args.end(),
                {"--action", "thaw=Thaw now", "--wait", fmt::format("{:g}", n.thaw_for)});
  }
  return args;
}

DesktopNotifier::DesktopNotifier(std::string program, std::string runtime_dir, int per_minute,
                                 Launch launch, Log log)
    : program_(std::move(program)),
      runtime_dir_(std::move(runtime_dir)),
      per_minute_(per_minute),
      launch_(std::move(launch)),
      log_(std::move(log)),
      thread_([this] { work(); }) {}

DesktopNotifier::~DesktopNotifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DesktopNotifier::send(const Notice& n) {
  if (!for_desktop(n)) return;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= 100) queue_.pop_front();
    queue_.push_back(n);
  }
  wake_.notify_all();
}

void DesktopNotifier::work() {
  sd_bus* bus = nullptr;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    const Notice n = queue_.front();
    queue_.pop_front();
    lock.unlock();
    if (bus == nullptr && sd_bus_open_system(&bus) < 0) bus = nullptr;
    if (bus != nullptr) deliver(n, bus);
    if (bus != nullptr && sd_bus_is_open(bus) <= 0) bus = sd_bus_flush_close_unref(bus);
    lock.lock();
  }
  if (bus != nullptr) sd_bus_flush_close_unref(bus);
}

void DesktopNotifier::deliver(const Notice& n, sd_bus* bus) {
  const auto sessions = graphical_sessions(bus);
  if (!sessions) {
    if (!std::exchange(told_no_logind_, true)) {
      log_(true, "desktop notifications: " + sessions.error().message);
    }
    return;
  }
  told_no_logind_ = false;
  // Memory pressure concerns everyone at the machine; anything else only its process's user,
  // and no one when that user is unknown.
  if (!n.uid && n.kind != "pressure") return;
  std::vector<std::uint32_t> users;
  for (const auto& s : *sessions) {
    if ((!n.uid || *n.uid == s.uid) &&
        std::find(users.begin(), users.end(), s.uid) == users.end()) {
      users.push_back(s.uid);
    }
  }
  for (const auto uid : users) {
    auto& times = sent_[uid];
    while (!times.empty() && n.ts - times.front() >= 60) times.pop_front();
    if (static_cast<int>(times.size()) >= per_minute_) continue;  // the rest of the minute: quiet
    times.push_back(n.ts);
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) continue;
    DesktopLaunch l;
    auto& c = l.command;
    c.uid = uid;
    c.gid = pw.pw_gid;
    c.user = pw.pw_name;
    c.home = pw.pw_dir != nullptr ? pw.pw_dir : "/";
    c.argv = desktop_arguments(n);
    c.argv.insert(c.argv.begin(), program_);
    c.timeout = n.thaw_for + 15;
    const auto dir = fmt::format("{}/{}", runtime_dir_, uid);
    l.env = {{"DBUS_SESSION_BUS_ADDRESS", "unix:path=" + dir + "/bus"}, {"XDG_RUNTIME_DIR", dir}};
    l.thaw_pid = n.thaw_for > 0 ? n.pid : 0;
    launch_(std::move(l));
  }
}

}  // namespace freezr::notify
