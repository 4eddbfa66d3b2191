// cometd-tail: subscribes to one channel of a Bayeux server and prints each event as one JSON
// line ({"channel", "replayId", "data"}) on stdout. A debugging aid, and the way to try the
// client against servers other than sfsim. Stops cleanly on SIGINT or SIGTERM.
#include "cometd/client.hpp"
#include "cometd/tail.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace {
const char* usage = R"(usage: cometd-tail URL CHANNEL [--replay ID] [--token TOKEN] [--ca-file FILE]

  URL            the Bayeux endpoint, e.g. https://org.my.salesforce.com/cometd/60.0
  CHANNEL        e.g. /topic/hc_Contact or /data/ChangeEvents
  --replay ID    resume after this replay id; -1 new events only (default), -2 all retained
  --token TOKEN  the access token (default: $SALESFORCE_ACCESS_TOKEN); never printed
  --ca-file FILE trust these certificate authorities instead of the system store
)";
[[noreturn]] void fail(const std::string& m) {
    std::fprintf(stderr, "cometd-tail: %s\n%s", m.c_str(), usage);
    std::exit(2);
}
} // namespace

int main(int argc, char** argv) {
    using namespace sfbridge;
    namespace asio = boost::asio;
    if (argc < 3)
        fail("URL and CHANNEL are required");
    cometd::client_config cfg;
    cfg.endpoint = argv[1];
    const std::string channel = argv[2];
    cfg.channels = {channel};
    std::int64_t replay = -1;
    std::string token =
        std::getenv("SALESFORCE_ACCESS_TOKEN") ? std::getenv("SALESFORCE_ACCESS_TOKEN") : "";
    for (int i = 3; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc)
            fail(flag + " needs a value");
        const std::string value = argv[++i];
        if (flag == "--replay")
            replay = std::stoll(value);
        else if (flag == "--token")
            token = value;
        else if (flag == "--ca-file")
            cfg.http.ca_file = value;
        else
            fail("unknown option " + flag);
    }
    if (token.empty())
        fail("no token: pass --token or set SALESFORCE_ACCESS_TOKEN");
    if (auto u = net::parse_url(cfg.endpoint))
        cfg.http.proxy = net::proxy_from_environment(*u);
    try {
        asio::io_context io(1);
        cometd::client c(io.get_executor(), cfg,
                         [&](bool refresh) -> asio::awaitable<std::optional<std::string>> {
                             // A fixed token cannot be refreshed: a second refusal ends the stream.
                             if (refresh)
                                 co_return std::nullopt;
                             co_return token;
                         });
        c.set_committed(channel, replay);
        int rc = 0;
        // An exception out of either coroutine (a programming error) leaves io.run() and ends
        // in the catch below with exit code 2, instead of vanishing.
        const auto rethrow = [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        };
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                if (co_await c.run())
                    rc = 1;
            },
            rethrow);
        const cometd::tail_output out{[](std::string_view line) {
                                          std::fwrite(line.data(), 1, line.size(), stdout);
                                          std::fputc('\n', stdout);
                                          std::fflush(stdout);
                                      },
                                      [](std::string_view message) {
                                          std::fprintf(stderr, "cometd-tail: %.*s\n",
                                                       static_cast<int>(message.size()),
                                                       message.data());
                                      }};
        asio::co_spawn(io, cometd::tail(c, out), rethrow);
        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](boost::system::error_code, int) { c.stop(); });
        io.run();
        return rc;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cometd-tail: %s\n", e.what());
        return 2;
    }
}
