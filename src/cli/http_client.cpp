#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace freezr::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  asio::io_context io;
  beast::tcp_stream stream{io};
  std::string host, port, host_header, token;
  std::chrono::steady_clock::duration timeout;
  bool connected = false;

  beast::error_code connect() {
    tcp::resolver resolver(io);
    beast::error_code ec;
    const auto found = resolver.resolve(host, port, ec);
    if (ec) return ec;
    beast::error_code result = asio::error::would_block;
    stream.expires_after(timeout);
    stream.async_connect(found, [&](beast::error_code e, const tcp::endpoint&) { result = e; });
    io.restart();
    io.run();
    connected = !result;
    return result;
  }

  // Starts op(done) on the stream and runs the loop until done is called (the stream's
  // expiry bounds the wait); gives done's error.
  template <typename Op>
  beast::error_code timed(Op op) {
    beast::error_code result = asio::error::would_block;
    op([&](beast::error_code ec, std::size_t) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  Result<HttpAnswer> once(const std::string& method, const std::string& target) {
    if (!connected) {
      if (auto ec = connect()) return Error(ec.value(), "cannot connect: " + ec.message());
    }
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, host_header);
    req.set(http::field::user_agent, "freezr-cli");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.keep_alive(true);
    req.prepare_payload();
    stream.expires_after(timeout);
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
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
      connected = false;
    }
    return HttpAnswer{static_cast<int>(res.result_int()), std::move(res.body())};
  }
};

HttpClient::HttpClient(const std::string& listen, std::string token, double timeout_seconds)
    : impl_(std::make_unique<Impl>()) {
  const auto colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  const std::string port = colon == std::string::npos ? "9813" : listen.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const bool v6 = host.find(':') != std::string::npos;
  address_ = (v6 ? "[" + host + "]" : host) + ":" + port;
  impl_->host = host;
  impl_->port = port;
  impl_->host_header = address_;
  impl_->token = std::move(token);
  impl_->timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(timeout_seconds));
}

HttpClient::~HttpClient() = default;

Result<HttpAnswer> HttpClient::request(const std::string& method, const std::string& target) {
  const bool reused = impl_->connected;
  auto r = impl_->once(method, target);
  // A kept-alive connection the daemon closed meanwhile (idle timeout): once more, afresh.
  if (!r && reused) r = impl_->once(method, target);
  return r;
}

}  // namespace freezr::cli
