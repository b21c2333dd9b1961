// Webhook: notices POSTed to one endpoint by a thread of its own, from a bounded queue, in
// order, with retries and back-off (1 s doubling to 60 s) while the endpoint is down. A scan
// never waits for it: send() only queues. A dead endpoint costs one warning when it starts
// failing and one line when it answers again; when the queue is full the oldest notice goes.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.h"
#include "core/result.h"
#include "notify/notice.h"
#include "serve/http_client.h"

namespace freezr::notify {

// What a webhook tells its owner (from its own thread): a level (false: a warning) and a line.
using WebhookLog = std::function<void(bool warning, const std::string& line)>;

// The "Name: value" lines of a headers file (blank lines and # comments skipped).
Result<serve::Headers> read_headers(const std::string& path);

// The request a notice becomes in a format: "json" (notice_json), "ntfy" (the message as the
// body; title, priority and tags as headers) or "gotify" (title, message, priority and the
// notice under extras).
struct Delivery {
  serve::Headers headers;
  std::string body;
};
Delivery render(const Notice& n, const std::string& format, const std::string& host);

class Webhook {
 public:
  // Fails when the URL or the headers file cannot be used.
  static Result<std::unique_ptr<Webhook>> create(const config::WebhookSettings& s, std::string host,
                                                 WebhookLog log);
  ~Webhook();  // gives the queue up to a second to drain, then stops
  Webhook(const Webhook&) = delete;
  Webhook& operator=(const Webhook&) = delete;

  // Queues n when its kind is one the webhook wants.
  void send(const Notice& n);
  [[nodiscard]] const config::WebhookSettings& settings() const { return settings_; }

 private:
  Webhook(config::WebhookSettings s, serve::Url url, serve::Headers headers, std::string host,
          WebhookLog log);
  void work();

  config::WebhookSettings settings_;
  serve::Url url_;
  serve::Headers headers_;
  std::string host_;
  WebhookLog log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::uint64_t, Delivery>> queue_;  // numbered, oldest first
  std::uint64_t next_ = 0;
  std::size_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace freezr::notify
