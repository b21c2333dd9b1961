// The web configuration file ([http] web_config), in the format Prometheus' exporters read, so
// that admins reuse what they have:
//   tls_server_config:
//     cert_file: server.crt        # PEM; relative paths are relative to this file
//     key_file: server.key
//     client_ca_file: ca.crt       # optional: client certificates signed by this CA
//     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (the default)
//   basic_auth_users:
//     alice: $2y$10$...            # bcrypt hashes (htpasswd -B, or any bcrypt tool)
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/result.h"

namespace freezr::serve {

struct TlsFiles {
  std::string cert_file, key_file, client_ca_file;
  bool require_client_cert = false;
};

struct WebConfig {
  std::optional<TlsFiles> tls;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
};

// Reads and checks the file (paths made absolute, hashes bcrypt, client CA given when client
// certificates are required); an error names the file, and the line and column where it can.
Result<WebConfig> load_web_config(const std::string& path);

// Verifies "Basic <base64 user:password>" headers against bcrypt hashes. bcrypt is slow on
// purpose (tens of milliseconds), and checks run on FreezR's loop: an answer once verified is
// remembered (a few of them), and wrong ones are checked at most a few times a second — beyond
// that they are refused unchecked, so guessing cannot stall the scans.
class BasicAuth {
 public:
  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  [[nodiscard]] bool empty() const { return users_.empty(); }
  bool verify(const std::string& authorization);

 private:
  std::map<std::string, std::string> users_;
  std::mutex mutex_;
  std::set<std::string> verified_;  // header values found good
  double window_start_ = 0;
  int failures_in_window_ = 0;
};

}  // namespace freezr::serve
