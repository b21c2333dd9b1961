// HttpClient: the CLI's client of a running FreezR's HTTP API (serve::HttpClient on the
// daemon's listen address, with its bearer token).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace freezr::cli {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // listen: the daemon's "host:port" ("[::1]:9813", "127.0.0.1:9813", "localhost:9813"); a
  // wildcard host (0.0.0.0, ::) is reached on loopback. token: sent as a bearer token ("" none).
  HttpClient(const std::string& listen, std::string token, double timeout_seconds = 2);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpAnswer> request(const std::string& method, const std::string& target);
  // The address as shown to users ("[::1]:9813").
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
  std::string address_;
};

}  // namespace freezr::cli
