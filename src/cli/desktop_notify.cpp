#include "cli/desktop_notify.h"

#include <fmt/format.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include <cstring>

namespace freezr::cli {

namespace {

constexpr const char* kName = "org.freedesktop.Notifications";
constexpr const char* kPath = "/org/freedesktop/Notifications";

struct Wait {
  std::uint32_t id = 0;
  std::string invoked;
  bool closed = false;
};

int on_signal(sd_bus_message* m, void* userdata, sd_bus_error* /*err*/) {
  auto* w = static_cast<Wait*>(userdata);
  std::uint32_t id = 0;
  if (sd_bus_message_is_signal(m, kName, "ActionInvoked") != 0) {
    const char* key = nullptr;
    if (sd_bus_message_read(m, "us", &id, &key) >= 0 && id == w->id && key != nullptr) {
      w->invoked = key;
    }
  } else if (sd_bus_message_is_signal(m, kName, "NotificationClosed") != 0) {
    std::uint32_t reason = 0;
    if (sd_bus_message_read(m, "uu", &id, &reason) >= 0 && id == w->id) w->closed = true;
  }
  return 0;
}

double now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Appends Notify's arguments after the name: icon, summary, body, actions, hints, timeout.
int append_notify(sd_bus_message* call, const DesktopNotifyOptions& o) {
  int r = sd_bus_message_append(call, "susss", "FreezR", 0U, o.icon.c_str(), o.summary.c_str(),
                                o.body.c_str());
  if (r >= 0) r = sd_bus_message_open_container(call, 'a', "s");
  for (const auto& a : o.actions) {
    const auto eq = a.find('=');
    if (r >= 0) r = sd_bus_message_append(call, "s", a.substr(0, eq).c_str());
    if (r >= 0) r = sd_bus_message_append(call, "s", a.substr(eq + 1).c_str());
  }
  if (r >= 0) r = sd_bus_message_close_container(call);
  const std::uint8_t urgency = o.urgency == "low" ? 0 : o.urgency == "critical" ? 2 : 1;
  if (r >= 0) {
    r = sd_bus_message_append(call, "a{sv}", 2, "urgency", "y", urgency, "desktop-entry", "s",
                              "freezr");
  }
  // A critical notification stays until dismissed; the others go by the server's default.
  if (r >= 0) r = sd_bus_message_append(call, "i", urgency == 2 ? 0 : -1);
  return r;
}

}  // namespace

int cmd_desktop_notify(const DesktopNotifyOptions& o) {
  sd_bus* bus = nullptr;
  int r = sd_bus_open_user(&bus);
  if (r < 0) {
    fmt::print(stderr, "freezr: cannot reach the session bus: {}\n", std::strerror(-r));
    return 1;
  }
  Wait w;
  if (o.wait > 0 && !o.actions.empty()) {
    // Subscribed before the notification exists, so no answer can be missed.
    r = sd_bus_match_signal(bus, nullptr, nullptr, kPath, kName, nullptr, on_signal, &w);
  }
  sd_bus_message* call = nullptr;
  if (r >= 0) r = sd_bus_message_new_method_call(bus, &call, kName, kPath, kName, "Notify");
  if (r >= 0) r = append_notify(call, o);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  if (r >= 0) r = sd_bus_call(bus, call, 10 * 1000000ULL, &error, &reply);
  if (r >= 0) r = sd_bus_message_read(reply, "u", &w.id);
  if (r < 0) {
    fmt::print(stderr, "freezr: Notify failed: {}\n",
               error.message != nullptr ? error.message : std::strerror(-r));
    sd_bus_error_free(&error);
    sd_bus_message_unref(call);
    sd_bus_message_unref(reply);
    sd_bus_flush_close_unref(bus);
    return 1;
  }
  sd_bus_message_unref(call);
  sd_bus_message_unref(reply);
  const double until = now() + o.wait;
  while (o.wait > 0 && !o.actions.empty() && w.invoked.empty() && !w.closed) {
    const double left = until - now();
    if (left <= 0) break;
    r = sd_bus_process(bus, nullptr);
    if (r < 0) break;
    if (r > 0) continue;
    if (sd_bus_wait(bus, static_cast<std::uint64_t>(left * 1e6)) < 0) break;
  }
  sd_bus_flush_close_unref(bus);
  fmt::print("{}\n", !w.invoked.empty() ? "invoked " + w.invoked : w.closed ? "closed" : "shown");
  return 0;
}

CLI::App* define_desktop_notify(CLI::App& app, DesktopNotifyOptions& d) {
  auto* sub = app.add_subcommand("desktop-notify",
                                 "Show one desktop notification on the session bus and wait for "
                                 "its action (the daemon runs it as the session's user)");
  sub->add_option("--summary", d.summary, "The notification's title")->required();
  sub->add_option("--body", d.body, "Its text");
  sub->add_option("--icon", d.icon, "An icon name (default dialog-information)");
  sub->add_option("--urgency", d.urgency, "low, normal or critical")
      ->check(CLI::IsMember({"low", "normal", "critical"}));
  sub->add_option("--action", d.actions, "An action button, KEY=Label (repeatable)")
      ->check([](const std::string& v) {
        const auto eq = v.find('=');
        return eq == std::string::npos || eq == 0 || eq + 1 == v.size()
                   ? std::string("expected KEY=Label")
                   : std::string();
      });
  sub->add_option("--wait", d.wait, "Seconds to wait for an action (default 0)")
      ->check(CLI::Range(0.0, 86400.0));
  return sub;
}

}  // namespace freezr::cli
