// HttpClient: FreezR's outbound HTTP/1.1 — the CLI asking a running FreezR, the daemon posting
// webhooks. IPv4 or IPv6, plain or TLS (the system's CAs, the server's name checked), one
// connection kept alive across requests and opened again when the server closed it, every wait
// bounded by the timeout. Blocking: call it from a thread that may wait.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace freezr::serve {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// The parts of an http:// or https:// URL.
struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string target;  // path and query, at least "/"
  // "host:port" as the Host header says it (brackets around IPv6).
  [[nodiscard]] std::string authority() const;
};
Result<Url> parse_url(const std::string& url);

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  // ca_file: the certificates to trust for TLS instead of the system's ("" for the system's).
  HttpClient(Url base, double timeout_seconds, const std::string& ca_file = "");
  // Why TLS cannot be set up (an unreadable ca_file), or "" when it can.
  [[nodiscard]] const std::string& setup_error() const;
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // target: a path and query on the base's host ("" for the base URL's own).
  Result<HttpAnswer> request(const std::string& method, const std::string& target,
                             const Headers& headers = {}, const std::string& body = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freezr::serve
