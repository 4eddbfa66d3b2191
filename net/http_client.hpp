#pragma once

#include "net/cookie_jar.hpp"
#include "net/error.hpp"
#include "net/url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sfbridge::net {

namespace asio = boost::asio;
namespace http = boost::beast::http;

struct client_options {
    // Certificate authorities: a PEM file, or "" for the system store. Verification of the
    // peer's certificate and host name is on unless turned off (never in production).
    std::string ca_file;
    bool verify_peer = true;
    std::chrono::milliseconds connect_timeout{10000}; // resolve, connect, proxy, TLS
    std::chrono::milliseconds write_timeout{30000};
    std::size_t body_limit = 64 * 1024 * 1024;
    // An HTTP proxy to tunnel through with CONNECT (see proxy_from_environment).
    std::optional<url> proxy;
    bool accept_gzip = true;
    std::string user_agent = "sfbridge/0.1";
    // Plain http:// is for loopback (tests, a local simulator); anywhere else it would send
    // tokens in the clear, so it is refused unless this is set.
    bool allow_plain_http = false;
};

// The proxy for a destination from HTTPS_PROXY / https_proxy (or HTTP_PROXY / http_proxy for
// plain http), unless NO_PROXY / no_proxy names the host ("*", a host, or a domain suffix).
// Loopback destinations never use a proxy.
[[nodiscard]] std::optional<url> proxy_from_environment(const url& destination);

// A TLS client context: TLS 1.2 or newer, peer verification, the system store or a CA file.
// Throws on an unreadable CA file (a start-up error).
[[nodiscard]] std::shared_ptr<asio::ssl::context> make_tls_context(const client_options& o);

struct http_response {
    unsigned status = 0;
    http::fields headers;
    std::string body; // decoded (gzip removed)
};

using header_list = std::vector<std::pair<std::string, std::string>>;

// One HTTP/1.1 connection to one origin, kept alive between requests, one request at a time.
// It connects on first use and again after the server closes it. A request that fails on a
// reused connection before any byte of the answer arrived is sent once more on a fresh one if
// it is idempotent (or if it could not even be written), since the server most likely closed
// an idle keep-alive connection. Every step has a deadline. Cookies go through the jar when
// one is given. Not thread-safe; keep it alive while a request is in flight.
class http_connection {
public:
    http_connection(asio::any_io_executor ex, url origin, client_options opts,
                    std::shared_ptr<asio::ssl::context> tls, cookie_jar* jar = nullptr);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    // `timeout` bounds waiting for the answer (a long poll passes a long one).
    asio::awaitable<boost::system::error_code> async_request(http::verb method, std::string target,
                                                             std::string body,
                                                             const header_list& headers,
                                                             http_response& out, diagnostics& diag,
                                                             std::chrono::milliseconds timeout);

    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return open_; }
    [[nodiscard]] const url& origin() const noexcept { return origin_; }
    // TCP connections opened so far (for tests of keep-alive).
    [[nodiscard]] std::size_t connects() const noexcept { return connects_; }

private:
    asio::awaitable<boost::system::error_code> connect(diagnostics& diag);
    asio::awaitable<boost::system::error_code>
    exchange(http::verb method, const std::string& target, const std::string& body,
             const header_list& headers, http_response& out, diagnostics& diag,
             std::chrono::milliseconds timeout, bool& nothing_received, bool& write_failed);
    boost::beast::tcp_stream& lowest() noexcept;

    asio::any_io_executor ex_;
    url origin_;
    client_options opts_;
    std::shared_ptr<asio::ssl::context> tls_;
    cookie_jar* jar_;
    std::optional<boost::beast::tcp_stream> tcp_;
    std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> ssl_;
    boost::beast::flat_buffer buffer_;
    bool open_ = false;
    std::size_t connects_ = 0;
};

} // namespace sfbridge::net
