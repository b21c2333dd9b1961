// Who may talk to the HTTP surface: the checks every request (a WebSocket upgrade included)
// passes before its route. FreezR runs as root and its answers show every process, so:
//  - the Host header must name FreezR: an IP literal, localhost, the configured address or
//    one of [http] allowed_hosts — else 421, which is what defeats DNS rebinding (a page that
//    rebinds its own name to 127.0.0.1 still sends that name);
//  - a browser's cross-origin WebSocket or state-changing request is refused (403): its
//    Origin must be the page's own (the Host it asks) or one of [http] allowed_origins;
//  - beyond loopback (or with basic auth users), reads need credentials as well (401), except
//    /healthz and the dashboard's own files: the token, a basic auth user of the web
//    configuration, or a client certificate TLS verified; a WebSocket may present the token as
//    the subprotocol "bearer.<token>", since a browser cannot set its headers.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/http.h"
#include "serve/web_config.h"

namespace freezr::serve {

struct AccessPolicy {
  std::string listen_host;                   // the configured address's host part
  std::vector<std::string> allowed_hosts;    // further names Host may give
  std::vector<std::string> allowed_origins;  // further origins, "scheme://host[:port]"
  bool reads_need_token = false;  // beyond loopback, or with basic auth users: reads need
                                  // the token, a basic auth user or a client certificate
  std::string token;
  std::shared_ptr<BasicAuth> basic;  // the web configuration's users, or null
  bool client_certs = false;         // TLS verified a client certificate on every connection
  std::function<bool(const std::string& path)> public_path;  // readable without the token
};

// The host part of a Host header value ("[::1]:9813" -> "::1", "Example:80" -> "example").
std::string host_of(const std::string& host_header);
bool ip_literal(const std::string& host);
// The subprotocols a Sec-WebSocket-Protocol header offers.
std::vector<std::string> subprotocols(const std::string& header);

// nullopt when req may go on to its route, else the refusal to send.
std::optional<Response> refusal(const Request& req, const AccessPolicy& policy);

}  // namespace freezr::serve
