#include "bridge/http_endpoint.hpp"

#include "core/log.hpp"

#include <charconv>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp::endpoint parse_listen_address(std::string_view text) {
    const auto bad = [&](const std::string& why) {
        return std::invalid_argument("--http " + std::string(text) + ": " + why +
                                     " (expected ADDRESS:PORT, e.g. 127.0.0.1:9090)");
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        throw bad("no port");
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (r.ec != std::errc{} || r.ptr != port_text.data() + port_text.size() || port > 65535)
        throw bad("the port is not a number from 0 to 65535");
    if (host.starts_with('[') && host.ends_with(']'))
        host = host.substr(1, host.size() - 2);
    if (host.empty())
        host = "127.0.0.1";
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(host, ec);
    if (ec)
        throw bad("\"" + std::string(host) + "\" is not an IP address");
    return {addr, static_cast<unsigned short>(port)};
}

void read_process_figures(double& resident_bytes, double& open_fds) {
    resident_bytes = 0;
    open_fds = 0;
    std::ifstream statm("/proc/self/statm");
    long long size = 0, resident = 0;
    if (statm >> size >> resident)
        resident_bytes = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
        ++open_fds;
}

namespace {
// A few probes, scrapers and API clients: bodies no larger than a mapping file of hundreds of
// mappings, short idle times and a cap on connections, so that clients (authenticated or not)
// cannot take the memory or the file descriptors the sync needs (32 MiB at most).
net::http_server::options server_options() {
    net::http_server::options o;
    o.body_limit = 1024 * 1024;
    o.idle_timeout = std::chrono::seconds(15);
    o.write_timeout = std::chrono::seconds(15);
    o.max_connections = 32;
    return o;
}
} // namespace

http_endpoint::http_endpoint(asio::any_io_executor ex, std::function<status_snapshot()> snapshot,
                             http_api_options opts)
    : snapshot_(std::move(snapshot)), opts_(std::move(opts)), sampler_(ex),
      server_(
          ex,
          [this](net::request& req,
                 const net::peer_info&) -> asio::awaitable<std::optional<net::response>> {
              auto s = snapshot_();
              if (hc_ != nullptr) {
                  auto api = co_await hc_->handle(req, s);
                  if (api)
                      co_return std::move(*api);
              }
              read_process_figures(s.resident_bytes, s.open_fds);
              s.recent.assign(history_.samples().begin(), history_.samples().end());
              co_return answer(req, s, opts_);
          },
          nullptr, server_options()) {}

void http_endpoint::stop() {
    stopped_ = true;
    sampler_.cancel();
    server_.stop();
}

// A sample a second for the status page's charts, while serving.
void http_endpoint::sample() {
    sampler_.expires_after(std::chrono::seconds(1));
    sampler_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_)
            return;
        history_.add(snapshot_());
        sample();
    });
}

int http_endpoint::release_listener() {
    stopped_ = true;
    sampler_.cancel();
    return server_.release_listener();
}

void http_endpoint::adopt(int native_listener) {
    server_.adopt(native_listener);
    (void)::fcntl(native_listener, F_SETFD, FD_CLOEXEC); // as a socket opened here would be
    sample();
    log::info("http", "serving on the listening socket handed over by the restart",
              {{"port", std::to_string(server_.port())}});
}

void http_endpoint::listen(const tcp::endpoint& ep) {
    server_.listen(ep);
    sample();
    const std::string where = ep.address().to_string() + ":" + std::to_string(server_.port());
    if (!ep.address().is_loopback())
        log::warn("http",
                  "the HTTP endpoint listens beyond this machine: it has no TLS" +
                      std::string(opts_.token.empty()
                                      ? " and no authentication; set SFBRIDGE_HTTP_TOKEN "
                                        "to require a bearer token"
                                      : ""),
                  {{"address", where}});
    log::info("http", "serving /healthz, /readyz, /status, /metrics and Heroku Connect's API",
              {{"address", where}});
}

} // namespace sfbridge::bridge
