// DesktopNotifier: notices as desktop notifications. Its own thread asks logind (over the
// system bus) for the active, local graphical sessions — of the process's user, or of everyone
// for memory pressure — and for each such user hands a launch to its owner: FreezR's own
// `desktop-notify` run as that user on that user's session bus, with an icon and urgency by
// severity and, for a freeze, a "Thaw now" button. Rate-limited per user; a scan only queues.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/rule.h"
#include "notify/notice.h"

struct sd_bus;

namespace freezr::notify {

// One notification to show, as one user: the command and its environment.
struct DesktopLaunch {
  engine::Command command;  // as the session's user; its timeout: the wait for a button, and some
  std::vector<std::pair<std::string, std::string>> env;
  Pid thaw_pid = 0;  // the process "Thaw now" thaws (0: no button)
};

// The arguments of `desktop-notify` for n (after the program): summary, body, icon, urgency
// and, when it has one, the thaw button with its wait.
std::vector<std::string> desktop_arguments(const Notice& n);
// Whether n is one the desktop hears of: actions carried out (not logs, undos or dry runs),
// predictions, and memory pressure entering a level.
bool for_desktop(const Notice& n);

class DesktopNotifier {
 public:
  using Launch = std::function<void(DesktopLaunch)>;  // called from the notifier's thread
  using Log = std::function<void(bool warning, const std::string& line)>;
  DesktopNotifier(std::string program, std::string runtime_dir, int per_minute, Launch launch,
                  Log log);
  ~DesktopNotifier();
  DesktopNotifier(const DesktopNotifier&) = delete;
  DesktopNotifier& operator=(const DesktopNotifier&) = delete;

  void send(const Notice& n);  // queues (at most 100; the oldest go first)

 private:
  void work();
  void deliver(const Notice& n, ::sd_bus* bus);

  std::string program_, runtime_dir_;
  int per_minute_;
  Launch launch_;
  Log log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Notice> queue_;
  bool stopping_ = false;
  std::map<std::uint32_t, std::deque<double>> sent_;  // per user: when (Unix seconds)
  bool told_no_logind_ = false;
  std::thread thread_;
};

}  // namespace freezr::notify
