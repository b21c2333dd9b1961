#include "notify/notifier.h"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <filesystem>

namespace freezr::notify {

Notifier::Notifier(boost::asio::io_context& io, Log log, std::function<void(DesktopLaunch)> launch)
    : io_(io), log_(std::move(log)), launch_(std::move(launch)) {
  char name[256] = {0};
  host_ = ::gethostname(name, sizeof name - 1) == 0 ? name : "localhost";
  std::error_code ec;
  program_ = std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

Notifier::~Notifier() = default;

std::vector<std::string> Notifier::configure(const config::NotifySettings& s) {
  std::vector<std::string> problems;
  if (s == settings_ && (!webhooks_.empty() || desktop_)) return problems;
  settings_ = s;
  webhooks_.clear();
  desktop_.reset();
  const auto post_log = [this](bool warning, const std::string& line) {
    boost::asio::post(io_, [this, warning, line] { log_(warning, line); });
  };
  if (s.desktop) {
    desktop_ = std::make_unique<DesktopNotifier>(
        program_, s.desktop_runtime_dir, s.desktop_per_minute,
        [this](DesktopLaunch l) {
          boost::asio::post(io_, [this, l = std::move(l)] { launch_(l); });
        },
        post_log);
  }
  for (const auto& w : s.webhooks) {
    auto hook = Webhook::create(w, host_, post_log);
    if (!hook) {
      problems.push_back("webhook " + w.url + " is off: " + hook.error().message);
      continue;
    }
    webhooks_.push_back(std::move(*hook));
  }
  return problems;
}

void Notifier::notify(const Notice& n) {
  if (webhooks_.empty() && !desktop_) return;
  const auto key = std::make_tuple(n.kind, n.rule, n.action, n.pid, n.dry_run);
  if (n.kind != "lifecycle" && n.kind != "pressure") {
    auto [it, fresh] = last_sent_.try_emplace(key, n.ts);
    if (!fresh && n.ts - it->second < settings_.repeat_after) return;
    it->second = n.ts;
    if (last_sent_.size() > 10000) {  // forget what is long past
      std::erase_if(last_sent_,
                    [&](const auto& e) { return n.ts - e.second >= settings_.repeat_after; });
    }
  }
  for (const auto& w : webhooks_) w->send(n);
  if (desktop_) desktop_->send(n);
}

}  // namespace freezr::notify
