#pragma once

#include "bridge/hc_service.hpp"
#include "bridge/http_api.hpp"
#include "bridge/status_history.hpp"
#include "net/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <string_view>

// Serves bridge/http_api on the engine's io_context (`sfbridge run --http ADDRESS:PORT`). The
// snapshot is taken per request; the process's memory and descriptors are read from /proc.
namespace sfbridge::bridge {

// "127.0.0.1:9090", "[::1]:9090", "0.0.0.0:9090" or ":9090" (loopback); throws
// std::invalid_argument naming what is wrong (a configuration error).
[[nodiscard]] boost::asio::ip::tcp::endpoint parse_listen_address(std::string_view text);

// Resident memory in bytes and open descriptors of this process (0 when /proc is unreadable).
void read_process_figures(double& resident_bytes, double& open_fds);

class http_endpoint {
public:
    http_endpoint(boost::asio::any_io_executor ex, std::function<status_snapshot()> snapshot,
                  http_api_options opts);
    // Binds (throws std::system_error when the address is taken) and starts serving. Warns
    // when the address is not a loopback one: the endpoint has no TLS, and without a token no
    // authentication.
    void listen(const boost::asio::ip::tcp::endpoint& ep);
    // Serves on a listening socket an earlier image of this process handed over (a restart to
    // apply an import); throws std::system_error when it is not one.
    void adopt(int native_listener);
    // Heroku Connect's API beside the rest (not owned; may be null).
    void serve_heroku_connect_api(hc_service* api) { hc_ = api; }
    // Stops serving and gives the listening socket up, still listening (see net::http_server).
    [[nodiscard]] int release_listener();
    [[nodiscard]] std::uint16_t port() const { return server_.port(); }
    void stop();

private:
    void sample();
    std::function<status_snapshot()> snapshot_;
    http_api_options opts_;
    status_history history_;
    boost::asio::steady_timer sampler_;
    bool stopped_ = false;
    hc_service* hc_ = nullptr;
    net::http_server server_;
};

} // namespace sfbridge::bridge
