#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace sfbridge::net {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct peer_info {
    asio::ip::tcp::endpoint remote;
    bool tls = false;
    std::uint64_t connection_id = 0; // unique per TCP connection, for per-connection state
};

// A small HTTP/1.1 server on Beast for one single-threaded io_context: keep-alive, a body size
// limit, an idle timeout, optional TLS. Each request is handed to a coroutine; it may take as
// long as it likes (a long poll), and may answer std::nullopt to drop the connection without a
// response (a reset, for fault injection).
class http_server {
public:
    using handler =
        std::function<asio::awaitable<std::optional<response>>(request&, const peer_info&)>;
    struct options {
        std::size_t body_limit = 64 * 1024 * 1024;
        std::chrono::seconds idle_timeout{120};
        std::chrono::seconds write_timeout{60};
        // Connections served at once; one more is closed as soon as it is accepted (0: no cap).
        std::size_t max_connections = 0;
    };

    // `tls` may be null for plain HTTP. The context must outlive the server.
    http_server(asio::any_io_executor ex, handler h, asio::ssl::context* tls = nullptr);
    http_server(asio::any_io_executor ex, handler h, asio::ssl::context* tls, options opts);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    // Binds and starts accepting. Port 0 picks a free port; port() tells which.
    void listen(const asio::ip::tcp::endpoint& ep);
    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] bool tls() const noexcept;

    // Closes every open connection at once (clients see a reset or EOF); keeps listening.
    void drop_all_connections();
    [[nodiscard]] std::size_t open_connections() const noexcept;

    // Stops accepting and closes every connection.
    void stop();

    // A restart that refuses no connection: release_listener() stops accepting and gives the
    // listening socket up, still bound and listening (new connections wait in its backlog), and
    // returns its descriptor (-1 when not listening or released before); the next process
    // image adopt()s it. Requests being answered are answered, and so are those that arrive on
    // open connections within `grace`; then each connection closes (once every one has, the
    // io_context has no more work of the server's). adopt() throws std::system_error when the
    // descriptor is not a TCP listener.
    [[nodiscard]] int release_listener(std::chrono::milliseconds grace = std::chrono::seconds(1));
    void adopt(int native_listener);

private:
    void start_accepting();
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace sfbridge::net
