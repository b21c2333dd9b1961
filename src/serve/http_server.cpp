#include "serve/http_server.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <deque>
#include <list>

#include "serve/admission.h"

namespace freezr::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

std::chrono::steady_clock::duration seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

// Shuts a stream down: TCP's send side, or the whole connection under TLS (a close_notify
// would wait on a round trip a misbehaving client need not answer).
void close_stream(beast::tcp_stream& s) {
  beast::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_send, ignored);
}
void close_stream(TlsStream& s) { beast::get_lowest_layer(s).close(); }

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& context, Handler h, Gate g, ServerLimits l)
      : acceptor(context), backoff(context), handler(std::move(h)), gate(std::move(g)), limits(l) {}

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec.value() == ENFILE || ec.value() == ENOMEM) {
        // Out of file descriptors: accepting again at once would spin. Wait, then retry;
        // the connection stays in the backlog meanwhile.
        ++self->refused;
        self->backoff.expires_after(std::chrono::milliseconds(200));
        self->backoff.async_wait([self](beast::error_code wait_ec) {
          if (!wait_ec) self->accept();
        });
        return;
      }
      if (!ec) {
        if (self->open >= self->limits.max_connections) {
          // Over the cap (WebSocket clients count too): close at once rather than queue.
          ++self->refused;
          beast::error_code ignored;
          socket.shutdown(tcp::socket::shutdown_both, ignored);
        } else if (self->tls) {
          std::make_shared<Session<TlsStream>>(self, TlsStream(std::move(socket), *self->tls))
              ->handshake();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(self, beast::tcp_stream(std::move(socket)))
              ->read();
        }
      }
      self->accept();
    });
  }

  struct WsClient {  // what broadcast sees of a WebSocket client, whatever its stream
    virtual ~WsClient() = default;
    virtual void send(const std::shared_ptr<const std::string>& text) = 0;
    virtual void close() = 0;
    bool closed = false;
  };

  template <typename Stream>
  struct WsSession : WsClient, std::enable_shared_from_this<WsSession<Stream>> {
    WsSession(std::shared_ptr<Impl> server, Stream stream)
        : owner(std::move(server)), ws(std::move(stream)) {
      ++owner->open;
    }
    ~WsSession() override { --owner->open; }

    void start(http::request<http::string_body> req, bool freezr_protocol) {
      beast::get_lowest_layer(ws).expires_never();  // the websocket's own timeouts from here
      ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
      if (freezr_protocol) {
        // A browser that offered subprotocols fails the connection unless one is chosen.
        ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
          res.set(http::field::sec_websocket_protocol, "freezr");
        }));
      }
      ws.read_message_max(4096);
      ws.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return;
        self->owner->ws.push_back(self);
        self->read();
      });
    }

    // Incoming messages are read and ignored (it notices closes and pings).
    void read() {
      ws.async_read(in, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) {
          self->closed = true;
          return;
        }
        self->in.consume(self->in.size());
        self->read();
      });
    }

    void send(const std::shared_ptr<const std::string>& text) override {
      if (closed) return;
      if (queue.size() >= owner->limits.ws_queue) {
        if (++skipped_in_a_row > owner->limits.ws_max_skipped) close();
        return;
      }
      skipped_in_a_row = 0;
      queue.push_back(text);
      if (queue.size() == 1) write();
    }

    void close() override {
      closed = true;
      beast::get_lowest_layer(ws).close();
    }

    void write() {
      ws.text(true);
      ws.async_write(asio::buffer(*queue.front()),
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->queue.pop_front();
                       if (ec) {
                         self->closed = true;
                         return;
                       }
                       if (!self->queue.empty()) self->write();
                     });
    }

    std::shared_ptr<Impl> owner;
    websocket::stream<Stream> ws;
    beast::flat_buffer in;
    std::deque<std::shared_ptr<const std::string>> queue;
    int skipped_in_a_row = 0;
  };

  template <typename Stream>
  struct Session : std::enable_shared_from_this<Session<Stream>> {
    Session(std::shared_ptr<Impl> server, Stream s)
        : owner(std::move(server)), stream(std::move(s)) {
      ++owner->open;
    }
    ~Session() { --owner->open; }

    // TLS only: the handshake, within the idle timeout, then the first request.
    void handshake() {
      beast::get_lowest_layer(stream).expires_after(seconds(owner->limits.idle_seconds));
      stream.async_handshake(ssl::stream_base::server,
                             [self = this->shared_from_this()](beast::error_code ec) {
                               if (ec) {
                                 ++self->owner->tls_failures;
                                 close_stream(self->stream);
                                 return;
                               }
                               self->read();
                             });
    }

    void read() {
      parser.emplace();
      parser->body_limit(owner->limits.max_body);
      parser->header_limit(static_cast<std::uint32_t>(owner->limits.max_header));
      beast::get_lowest_layer(stream).expires_after(seconds(owner->limits.idle_seconds));
      http::async_read(stream, buffer, *parser,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         self->on_read(ec);
                       });
    }

    void on_read(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted) {
        close_stream(stream);
        return;
      }
      if (ec) {
        Response r =
            json_error(ec == http::error::body_limit || ec == http::error::header_limit ? 413 : 400,
                       "bad request: " + ec.message());
        send(r, false);
        return;
      }
      const auto& msg = parser->get();
      Request req;
      req.method = std::string(msg.method_string());
      parse_target(std::string(msg.target()), req.path, req.query);
      const auto header = [&](http::field f) {
        const auto it = msg.find(f);
        return it == msg.end() ? std::string() : std::string(it->value());
      };
      req.authorization = header(http::field::authorization);
      req.host = header(http::field::host);
      req.origin = header(http::field::origin);
      req.websocket = websocket::is_upgrade(msg);
      req.ws_protocols = header(http::field::sec_websocket_protocol);
      if (owner->gate) {
        if (auto refused = owner->gate(req)) {
          send(*refused, false, false);
          return;
        }
      }
      if (req.websocket && req.path == "/ws") {
        const auto offered = subprotocols(req.ws_protocols);
        const bool freezr_protocol =
            std::find(offered.begin(), offered.end(), "freezr") != offered.end();
        std::make_shared<WsSession<Stream>>(owner, std::move(stream))
            ->start(parser->release(), freezr_protocol);
        return;
      }
      req.body = msg.body();
      const bool keep_alive = msg.keep_alive(), head = req.method == "HEAD";
      if (owner->limits.offload && owner->limits.offload(req)) {
        // Answered on a worker thread (history and events read their own read-only
        // connection): the loop, and so the scans, never wait for such a reader.
        if (owner->offloaded >= owner->limits.max_offloaded) {
          Response busy = json_error(503, "too many history reads at once; retry shortly");
          busy.headers["Retry-After"] = "1";
          send(busy, keep_alive, head);
          return;
        }
        ++owner->offloaded;
        asio::post(owner->workers,
                   [self = this->shared_from_this(), req, keep_alive, head]() mutable {
                     auto r = std::make_shared<Response>(answer(self->owner->handler, req));
                     // The session goes back to the loop with the answer: it is never released (nor
                     // is the server, with this pool) on a worker thread.
                     const auto loop = self->stream.get_executor();
                     asio::post(loop, [self = std::move(self), r, keep_alive, head] {
                       --self->owner->offloaded;
                       self->send(*r, keep_alive, head);
                     });
                   });
        return;
      }
      send(answer(owner->handler, req), keep_alive, head);
    }

    static Response answer(const Handler& handler, const Request& req) {
      try {
        return handler(req);
      } catch (const std::exception& e) {
        return json_error(500, std::string("internal error: ") + e.what());
      }
    }

    // head: the answer to a HEAD request, its headers (Content-Length included) without the
    // body, so that the next response on a kept-alive connection is read as such.
    void send(const Response& r, bool keep_alive, bool head = false) {
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(r.status), 11);
      res->set(http::field::server, "freezr");
      res->set(http::field::content_type, r.content_type);
      res->set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : r.headers) res->set(k, v);
      res->keep_alive(keep_alive);
      if (head) {
        res->content_length(r.body.size());
      } else {
        res->body() = r.body;
        res->prepare_payload();
      }
      http::async_write(
          stream, *res,
          [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
            if (ec || !keep_alive) {
              close_stream(self->stream);
            } else {
              self->read();
            }
          });
    }

    std::shared_ptr<Impl> owner;
    Stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
  };

  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  Handler handler;
  Gate gate;
  ServerLimits limits;
  std::shared_ptr<ssl::context> tls;  // null: plain HTTP
  asio::thread_pool workers{2};       // offloaded answers (ServerLimits::offload)
  int offloaded = 0;                  // answers being computed there
  int open = 0;                       // HTTP connections and WebSocket clients
  std::uint64_t refused = 0;          // connections refused over the cap or for want of descriptors
  std::uint64_t tls_failures = 0;     // handshakes that failed (no or a bad client certificate...)
  std::list<std::shared_ptr<WsClient>> ws;
};

HttpServer::HttpServer(asio::io_context& io, Handler handler, ServerLimits limits, Gate gate)
    : impl_(std::make_shared<Impl>(io, std::move(handler), std::move(gate), limits)) {}

HttpServer::~HttpServer() { stop(); }

Result<void> HttpServer::use_tls(const TlsFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  const auto fail = [&](const std::string& what, const std::string& file) {
    return error_of(ErrorKind::kConfig,
                    "TLS: cannot use " + what + " " + file + ": " + ec.message());
  };
  if (context->use_certificate_chain_file(files.cert_file, ec); ec) {
    return fail("the certificate", files.cert_file);
  }
  if (context->use_private_key_file(files.key_file, ssl::context::pem, ec); ec) {
    return fail("the key", files.key_file);
  }
  if (files.require_client_cert) {
    if (context->load_verify_file(files.client_ca_file, ec); ec) {
      return fail("the client CA", files.client_ca_file);
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  }
  impl_->tls = std::move(context);  // for the connections accepted from now on
  return {};
}

bool HttpServer::tls() const { return impl_->tls != nullptr; }

Result<std::string> HttpServer::start(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{EINVAL, "bad listen address '" + host + "': " + ec.message()};
  const auto port = static_cast<unsigned short>(std::stoi(listen.substr(colon + 1)));
  tcp::endpoint ep(address, port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    a.close(ignored);
    return Error{ec.value(), "cannot listen on " + listen + ": " + ec.message()};
  }
  impl_->accept();
  const auto bound = a.local_endpoint();
  const std::string shown = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                    : bound.address().to_string();
  return shown + ":" + std::to_string(bound.port());
}

void HttpServer::stop() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->backoff.cancel();
  impl_->workers.join();  // what is being read finishes; its answer is dropped with the loop
  for (auto& w : impl_->ws) w->close();
  impl_->ws.clear();
}

void HttpServer::broadcast(const std::string& text) {
  auto shared = std::make_shared<const std::string>(text);
  impl_->ws.remove_if([](const auto& w) { return w->closed; });
  for (auto& w : impl_->ws) w->send(shared);
}

int HttpServer::ws_clients() const { return static_cast<int>(impl_->ws.size()); }

int HttpServer::connections() const { return impl_->open; }

std::uint64_t HttpServer::refused() const { return impl_->refused; }

}  // namespace freezr::serve
