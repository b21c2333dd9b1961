#include "serve/admission.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "serve/routes.h"

namespace freezr::serve {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& x) { return lower(x) == lower(value); });
}

bool acceptable_host(const std::string& host, const AccessPolicy& p) {
  return ip_literal(host) || host == "localhost" || host == "localhost." ||
         host == lower(p.listen_host) || listed(p.allowed_hosts, host);
}

bool safe_method(const std::string& m) { return m == "GET" || m == "HEAD" || m == "OPTIONS"; }

// The token a WebSocket offers as a subprotocol "bearer.<token>".
std::string subprotocol_token(const std::string& protocols) {
  for (const auto& p : subprotocols(protocols)) {
    if (p.rfind("bearer.", 0) == 0) return p.substr(7);
  }
  return {};
}

}  // namespace

std::vector<std::string> subprotocols(const std::string& header) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= header.size()) {
    auto comma = header.find(',', at);
    if (comma == std::string::npos) comma = header.size();
    std::string p = header.substr(at, comma - at);
    p.erase(0, p.find_first_not_of(" \t"));
    p.erase(p.find_last_not_of(" \t") + 1);
    if (!p.empty()) out.push_back(std::move(p));
    at = comma + 1;
  }
  return out;
}

std::string host_of(const std::string& host_header) {
  std::string h = lower(host_header);
  if (!h.empty() && h.front() == '[') {
    const auto close = h.find(']');
    return close == std::string::npos ? h : h.substr(1, close - 1);
  }
  const auto colon = h.rfind(':');
  if (colon != std::string::npos && h.find(':') == colon) h.resize(colon);
  return h;
}

bool ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::optional<Response> refusal(const Request& req, const AccessPolicy& p) {
  if (!req.host.empty() && !acceptable_host(host_of(req.host), p)) {
    return json_error(421, "Host '" + req.host +
                               "' is not an address FreezR serves (add it to [http] "
                               "allowed_hosts)");
  }
  if ((req.websocket || !safe_method(req.method)) && !req.origin.empty()) {
    const std::string own = lower(req.host);
    const std::string origin = lower(req.origin);
    const bool same = !own.empty() && (origin == "http://" + own || origin == "https://" + own);
    if (!same && !listed(p.allowed_origins, req.origin)) {
      return json_error(403, "cross-origin request from " + req.origin +
                                 " refused (add it to [http] allowed_origins)");
    }
  }
  if (p.reads_need_token && !(p.public_path && p.public_path(req.path))) {
    const bool credentials =
        p.client_certs || authorized(req.authorization, p.token) ||
        (req.websocket && authorized("Bearer " + subprotocol_token(req.ws_protocols), p.token)) ||
        (p.basic && p.basic->verify(req.authorization));
    if (!credentials) {
      Response r = json_error(401, "credentials are required for reads here (a bearer token" +
                                       std::string(p.basic ? " or a basic auth user" : "") + ")");
      r.headers["WWW-Authenticate"] = p.basic ? "Basic realm=\"FreezR\", Bearer" : "Bearer";
      return r;
    }
  }
  return std::nullopt;
}

}  // namespace freezr::serve
