// Plain HTTP request and response values, so routes are pure functions and only the server
// knows Boost.Beast.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace freezr::serve {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string authorization;  // the Authorization header, if any
  std::string host;           // the Host header, if any
  std::string origin;         // the Origin header a browser sends, if any
  bool websocket = false;     // an upgrade to a WebSocket
  std::string ws_protocols;   // its Sec-WebSocket-Protocol offer
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

using Handler = std::function<Response(const Request&)>;
// Decides before any route (a WebSocket upgrade included): nullopt lets the request through.
using Gate = std::function<std::optional<Response>(const Request&)>;

// Splits "/a/b?x=1&y=%20z" into path and decoded query parameters.
void parse_target(const std::string& target, std::string& path,
                  std::map<std::string, std::string>& query);

Response json_error(int status, const std::string& message);

}  // namespace freezr::serve
