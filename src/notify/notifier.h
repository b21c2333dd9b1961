// Notifier: where notices go — each configured webhook and, when asked, the desktop — once
// each: the same notice again (same kind, rule, action, process) within repeat_after seconds
// is not sent again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "config/config.h"
#include "notify/desktop.h"
#include "notify/notice.h"
#include "notify/webhook.h"

namespace freezr::notify {

class Notifier {
 public:
  // log is called on the io thread (the webhooks' lines are posted there).
  using Log = std::function<void(bool warning, const std::string& line)>;
  // launch: runs a desktop notification (posted to the io thread).
  Notifier(boost::asio::io_context& io, Log log, std::function<void(DesktopLaunch)> launch);
  ~Notifier();

  // Sets up the webhooks of s (kept as they are when unchanged); one line per webhook that
  // cannot be used, saying why.
  std::vector<std::string> configure(const config::NotifySettings& s);
  void notify(const Notice& n);
  [[nodiscard]] std::size_t webhooks() const { return webhooks_.size(); }
  [[nodiscard]] bool desktop() const { return desktop_ != nullptr; }

 private:
  boost::asio::io_context& io_;
  Log log_;
  config::NotifySettings settings_;
  std::string host_;
  std::vector<std::unique_ptr<Webhook>> webhooks_;
  std::function<void(DesktopLaunch)> launch_;
  std::string program_;  // FreezR itself, which shows desktop notifications as each user
  std::unique_ptr<DesktopNotifier> desktop_;
  std::map<std::tuple<std::string, std::string, std::string, Pid, bool>, double> last_sent_;
};

}  // namespace freezr::notify
