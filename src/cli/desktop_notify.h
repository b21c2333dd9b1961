// `freezr desktop-notify`: one desktop notification over the session bus
// (org.freedesktop.Notifications), and the wait for its action. The daemon runs it as the
// session's user, so that it speaks to that user's bus as that user.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace freezr::cli {

struct DesktopNotifyOptions {
  std::string summary;
  std::string body;
  std::string icon = "dialog-information";
  std::string urgency = "normal";    // low, normal, critical
  std::vector<std::string> actions;  // "key=Label"
  double wait = 0;                   // seconds to wait for an action (0: none)
};

// Prints "invoked KEY" when an action was chosen, "closed" when the notification was closed,
// "shown" otherwise; exit status 1 with the reason when it could not be shown.
int cmd_desktop_notify(const DesktopNotifyOptions& o);
// The subcommand and its options, parsed into d.
CLI::App* define_desktop_notify(CLI::App& app, DesktopNotifyOptions& d);

}  // namespace freezr::cli
