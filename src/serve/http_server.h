// HttpServer: one Boost.Beast server on the daemon's event loop. Limits: request body and
// header size, idle timeout, concurrent connections (WebSocket clients count too; out of file
// descriptors, accepting backs off instead of spinning). Bad requests get 4xx; nothing a
// client does can block the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "serve/http.h"
#include "serve/web_config.h"

namespace freezr::serve {

struct ServerLimits {
  std::size_t max_body = 64 * 1024;
  std::size_t max_header = 8 * 1024;
  double idle_seconds = 10;
  int max_connections = 64;
  std::size_t ws_queue = 4;  // messages queued per WebSocket client before skipping
  int ws_max_skipped = 200;  // consecutive skips before the client is dropped
  // Requests answered on a worker thread instead of the loop (reads of the history); at most
  // max_offloaded at once, 503 beyond. The handler must be safe to call from there for them.
  std::function<bool(const Request&)> offload;
  int max_offloaded = 4;
};

class HttpServer {
 public:
  // gate, when given, decides on every request (a WebSocket upgrade included) before handler.
  HttpServer(boost::asio::io_context& io, Handler handler, ServerLimits limits, Gate gate = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves HTTPS with these files from now on (connections already open stay as they are):
  // TLS 1.2 or later, and client certificates signed by the client CA when one is required.
  // Called again on reload to take renewed certificates; on error nothing changes.
  Result<void> use_tls(const TlsFiles& files);
  [[nodiscard]] bool tls() const;

  // Binds "host:port" (port 0: any free port) and starts accepting. Returns the bound
  // "host:port".
  Result<std::string> start(const std::string& listen);
  void stop();

  // Sends text to every WebSocket client of /ws. A client more than a few messages behind
  // skips messages; one that stays behind for long is dropped. Never blocks.
  void broadcast(const std::string& text);
  [[nodiscard]] int ws_clients() const;
  // Open connections, WebSocket clients included (at most max_connections).
  [[nodiscard]] int connections() const;
  // Connections refused so far: over max_connections, or when no descriptor was left.
  [[nodiscard]] std::uint64_t refused() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace freezr::serve
