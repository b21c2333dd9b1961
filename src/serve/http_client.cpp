#include "serve/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

namespace freezr::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + port;
}

Result<Url> parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else {
    return parse_error("'" + url + "' is not an http:// or https:// URL");
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    return parse_error("'" + url + "': put credentials in a headers file, not in the URL");
  }
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return parse_error("'" + url + "': unclosed '['");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return parse_error("'" + url + "': bad port");
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return parse_error("'" + url + "' names no host");
  if (!port.empty() && (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
                        std::stoi(port) == 0 || std::stoi(port) > 65535)) {
    return parse_error("'" + url + "': bad port '" + port + "'");
  }
  u.port = port.empty() ? (u.tls ? "443" : "80") : port;
  return u;
}

struct HttpClient::Impl {
  Url base;
  std::chrono::steady_clock::duration timeout;
  asio::io_context io;
  std::optional<asio::ssl::context> tls;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  bool connected = false;
  std::string setup_error;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // Starts op(done) and runs the loop until done is called (the stream's expiry bounds the
  // wait); gives done's error.
  template <typename Op>
  beast::error_code timed(Op op) {
    beast::error_code result = asio::error::would_block;
    op([&](beast::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  Result<void> connect() {
    plain.reset();
    secure.reset();
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto found = resolver.resolve(base.host, base.port, ec);
    if (ec) return Error(ec.value(), "cannot resolve " + base.host + ": " + ec.message());
    if (base.tls) {
      secure.emplace(io, *tls);
      if (SSL_set_tlsext_host_name(secure->native_handle(), base.host.c_str()) != 1) {
        return Error(EINVAL, "cannot set the TLS server name " + base.host);
      }
      secure->set_verify_callback(asio::ssl::host_name_verification(base.host));
    } else {
      plain.emplace(io);
    }
    lowest().expires_after(timeout);
    if (auto e = timed([&](auto done) { lowest().async_connect(found, done); })) {
      return Error(e.value(), "cannot connect to " + base.authority() + ": " + e.message());
    }
    if (secure) {
      lowest().expires_after(timeout);
      if (auto e = timed([&](auto done) {
            secure->async_handshake(asio::ssl::stream_base::client, done);
          })) {
        return Error(e.value(), "TLS with " + base.authority() + " failed: " + e.message());
      }
    }
    connected = true;
    return {};
  }

  template <typename Stream>
  Result<HttpAnswer> exchange(Stream& stream, http::request<http::string_body>& req) {
    lowest().expires_after(timeout);
    if (auto ec = timed([&](auto done) { http::async_write(stream, req, done); })) {
      connected = false;
      return Error(ec.value(), "cannot send: " + ec.message());
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64U << 20);
    if (auto ec = timed([&](auto done) { http::async_read(stream, buffer, parser, done); })) {
      connected = false;
      return Error(ec.value(), "no answer: " + ec.message());
    }
    auto res = parser.release();
    if (!res.keep_alive()) {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().close();
      connected = false;
    }
    return HttpAnswer{static_cast<int>(res.result_int()), std::move(res.body())};
  }

  Result<HttpAnswer> once(const std::string& method, const std::string& target,
                          const Headers& headers, const std::string& body) {
    if (!setup_error.empty()) return Error(EINVAL, setup_error);
    if (!connected) {
      if (auto c = connect(); !c) return c.error();
    }
    http::request<http::string_body> req(http::string_to_verb(method),
                                         target.empty() ? base.target : target, 11);
    req.set(http::field::host, base.authority());
    req.set(http::field::user_agent, "freezr");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();
    return secure ? exchange(*secure, req) : exchange(*plain, req);
  }
};

HttpClient::HttpClient(Url base, double timeout_seconds, const std::string& ca_file)
    : impl_(std::make_unique<Impl>()) {
  impl_->timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(timeout_seconds));
  if (base.tls) {
    impl_->tls.emplace(asio::ssl::context::tls_client);
    impl_->tls->set_verify_mode(asio::ssl::verify_peer);
    beast::error_code ec;
    if (ca_file.empty()) {
      impl_->tls->set_default_verify_paths(ec);
    } else {
      impl_->tls->load_verify_file(ca_file, ec);
    }
    if (ec) impl_->setup_error = "cannot load the trusted certificates: " + ec.message();
  }
  impl_->base = std::move(base);
}

const std::string& HttpClient::setup_error() const { return impl_->setup_error; }

HttpClient::~HttpClient() = default;

Result<HttpAnswer> HttpClient::request(const std::string& method, const std::string& target,
                                       const Headers& headers, const std::string& body) {
  const bool reused = impl_->connected;
  auto r = impl_->once(method, target, headers, body);
  // A kept-alive connection the server closed meanwhile (idle timeout): once more, afresh.
  if (!r && reused) r = impl_->once(method, target, headers, body);
  return r;
}

}  // namespace freezr::serve
