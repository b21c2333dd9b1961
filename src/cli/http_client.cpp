#include "cli/http_client.h"

#include "serve/http_client.h"

namespace freezr::cli {

namespace {
// The daemon's "host:port" as a URL; a wildcard host (0.0.0.0, ::) is reached on loopback.
serve::Url daemon_url(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  serve::Url u;
  u.port = colon == std::string::npos ? "9813" : listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  u.host = host;
  u.target = "/";
  return u;
}
}  // namespace

struct HttpClient::Impl {
  explicit Impl(const serve::Url& url, double timeout) : client(url, timeout) {}
  serve::HttpClient client;
};

HttpClient::HttpClient(const std::string& listen, std::string token, double timeout_seconds)
    : token_(std::move(token)) {
  const auto url = daemon_url(listen);
  address_ = url.authority();
  impl_ = std::make_unique<Impl>(url, timeout_seconds);
}

HttpClient::~HttpClient() = default;

Result<HttpAnswer> HttpClient::request(const std::string& method, const std::string& target) {
  serve::Headers headers;
  if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  auto r = impl_->client.request(method, target, headers);
  if (!r) return r.error();
  return HttpAnswer{r->status, std::move(r->body)};
}

}  // namespace freezr::cli
