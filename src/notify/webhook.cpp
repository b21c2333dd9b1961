#include "notify/webhook.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "core/text.h"
#include "fs/files.h"

namespace freezr::notify {

using nlohmann::json;

Result<serve::Headers> read_headers(const std::string& path) {
  auto text = fs::read_regular_file(path, 64 * 1024);
  if (!text) return Error(text.error().code, "headers_file " + path + ": " + text.error().message);
  serve::Headers out;
  int line_no = 0;
  std::size_t at = 0;
  while (at < text->size()) {
    const auto end = std::min(text->find('\n', at), text->size());
    auto line = text->substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto colon = line.find(':');
    const auto name = colon == std::string::npos ? std::string() : line.substr(0, colon);
    if (name.empty() || name.find_first_of(" \t") != std::string::npos) {
      return parse_error(
          fmt::format("headers_file {} line {}: expected \"Name: value\"", path, line_no));
    }
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out.emplace_back(name, value);
  }
  return out;
}

Delivery render(const Notice& n, const std::string& format, const std::string& host) {
  Delivery d;
  const int level = n.severity == "critical" ? 2 : n.severity == "warning" ? 1 : 0;
  if (format == "ntfy") {
    // ntfy takes the message as the body and the rest as headers (ASCII: the title's
    // non-ASCII bytes are left to the body).
    d.body = n.message;
    std::string title;
    for (const char c : "FreezR: " + n.title) {
      title +=
          static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e ? '?' : c;
    }
    d.headers = {{"Title", title},
                 {"Priority", std::to_string(3 + level)},
                 {"Tags", "freezr," + n.kind},
                 {"Content-Type", "text/plain; charset=utf-8"}};
    return d;
  }
  if (format == "gotify") {
    d.body = json{{"title", "FreezR: " + n.title},
                  {"message", n.message},
                  {"priority", level == 2   ? 8
                               : level == 1 ? 5
                                            : 2},
                  {"extras", {{"freezr", notice_json(n, host)}}}}
                 .dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    d.body = notice_json(n, host).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  d.headers = {{"Content-Type", "application/json"}};
  return d;
}

Result<std::unique_ptr<Webhook>> Webhook::create(const config::WebhookSettings& s, std::string host,
                                                 WebhookLog log) {
  auto url = serve::parse_url(s.url);
  if (!url) return url.error();
  serve::Headers headers;
  if (!s.headers_file.empty()) {
    auto h = read_headers(s.headers_file);
    if (!h) return h.error();
    headers = std::move(*h);
  }
  return std::unique_ptr<Webhook>(
      new Webhook(s, std::move(*url), std::move(headers), std::move(host), std::move(log)));
}

Webhook::Webhook(config::WebhookSettings s, serve::Url url, serve::Headers headers,
                 std::string host, WebhookLog log)
    : settings_(std::move(s)),
      url_(std::move(url)),
      headers_(std::move(headers)),
      host_(std::move(host)),
      log_(std::move(log)),
      thread_([this] { work(); }) {}

Webhook::~Webhook() {
  {
    std::unique_lock lock(mutex_);
    // A second for what is queued, unless the endpoint is down.
    wake_.wait_for(lock, std::chrono::seconds(1), [this] { return queue_.empty(); });
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Webhook::send(const Notice& n) {
  const auto& wanted = settings_.events;
  if (std::find(wanted.begin(), wanted.end(), n.kind) == wanted.end()) return;
  auto d = render(n, settings_.format, host_);
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= static_cast<std::size_t>(settings_.queue)) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.emplace_back(next_++, std::move(d));
  }
  wake_.notify_all();
}

void Webhook::work() {
  serve::HttpClient client(url_, settings_.timeout, settings_.ca_file);
  const std::string where = url_.authority();
  double backoff = 1;
  bool failing = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const auto [number, d] = queue_.front();
    lock.unlock();
    auto headers = headers_;
    headers.insert(headers.end(), d.headers.begin(), d.headers.end());
    const auto answer = client.request("POST", "", headers, d.body);
    const bool ok = answer && answer->status / 100 == 2;
    lock.lock();
    if (ok) {
      // Unless a full queue dropped it meanwhile, the one sent is the front still.
      if (!queue_.empty() && queue_.front().first == number) queue_.pop_front();
      backoff = 1;
      if (failing) {
        failing = false;
        const auto dropped = std::exchange(dropped_, 0);
        log_(false, fmt::format("webhook {} answers again; {} queued notice(s) to deliver{}",
                                settings_.url, queue_.size(),
                                dropped > 0 ? fmt::format(", {} dropped", dropped) : ""));
      }
      continue;
    }
    if (!failing) {
      failing = true;
      log_(true,
           fmt::format("webhook {} failed ({}); notices are queued (at most {}) and "
                       "retried",
                       settings_.url,
                       answer ? fmt::format("HTTP {}", answer->status) : answer.error().message,
                       settings_.queue));
    }
    wake_.wait_for(lock, std::chrono::duration<double>(backoff), [this] { return stopping_; });
    if (stopping_) return;
    backoff = std::min(backoff * 2, 60.0);
  }
}

}  // namespace freezr::notify
