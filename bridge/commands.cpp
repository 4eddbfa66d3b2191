#include "bridge/commands.hpp"

#include "bridge/engine.hpp"
#include "bridge/http_endpoint.hpp"
#include "bridge/loop_death.hpp"
#include "bridge/provision.hpp"
#include "bridge/run_sync.hpp"
#include "cometd/tail.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cctype>
#include <cstdlib>
#include <iostream>

namespace sfbridge::bridge {

namespace asio = boost::asio;

int cmd_run(const settings& s, const cli& c, bool import_only) {
    asio::io_context io(1);
    auto cfg = engine_options(s, c);
    cfg.mappings = load_mappings(c);
    const auto grace = cfg.shutdown_grace;
    const auto schema = cfg.schema;
    engine e(io.get_executor(), std::move(cfg));
    // Served from before the start, so that the orchestrator's probes see it starting.
    std::unique_ptr<http_endpoint> endpoint;
    if (const auto address = option_or_setting(c, "http", s, "SFBRIDGE_HTTP", "");
        !address.empty() && !import_only) {
        http_api_options ho;
        ho.token = s.get("SFBRIDGE_HTTP_TOKEN");
        // A token read from a secret file often ends with a line feed the client never sends.
        while (!ho.token.empty() && std::isspace(static_cast<unsigned char>(ho.token.back())))
            ho.token.pop_back();
        endpoint = std::make_unique<http_endpoint>(
            io.get_executor(), [&e] { return e.snapshot(); }, std::move(ho));
        endpoint->listen(parse_listen_address(address));
    }
    // Signals are handled from the first step: a stop during the start (login, describes,
    // DDL, PushTopics; each safe to abandon and done again by the next start) exits at once.
    asio::signal_set signals(io, SIGTERM, SIGINT);
    asio::steady_timer hard_stop(io);
    bool started = false;
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        log::info("sfbridge", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        if (!started) {
            log::info("sfbridge", "stopped before the start had finished");
            std::_Exit(0);
        }
        e.stop();
        // Calls in flight finish and record their outcomes within this; past it, give up on
        // them (the next start replays what is not committed, and looks for the records of
        // creates whose outcome it does not know).
        hard_stop.expires_after(grace);
        hard_stop.async_wait([&](const boost::system::error_code& tec) {
            if (!tec) {
                // What is not committed is rolled back by Postgres when the connections drop,
                // and its stream position with it: the next start fetches those events again.
                // Exit at once: unwinding suspended operations is neither needed nor safe here.
                log::warn("sfbridge", "in-flight work did not finish in time; exiting",
                          {{"still_running", e.running()}});
                std::_Exit(0);
            }
        });
    });
    std::string error;
    if (!run_sync(io, e.start(error))) {
        log::error("sfbridge", error);
        return 2;
    }
    if (import_only) {
        log::info("sfbridge", "mappings imported: tables and PushTopics are in place");
        return 0;
    }
    started = true;
    io.restart();
    asio::co_spawn(io, e.run(), [&](std::exception_ptr ex) {
        signals.cancel();
        hard_stop.cancel();
        if (endpoint)
            endpoint->stop();
        if (ex)
            std::rethrow_exception(ex);
    });
    try {
        io.run();
    } catch (...) {
        // A loop ended by an exception (logged with its name by the engine): record which, for
        // `sfbridge status`, and exit at once, as the hard stop does: unwinding would destroy
        // suspended loops after the engine they refer to. Exit code 2, so that a supervisor
        // restarts the process.
        const auto death = describe_death(std::current_exception());
        log::error("sfbridge", "exiting after an unexpected error",
                   {{"loop", death.loop}, {"error", death.error}});
        (void)record_loop_death(s.database_url(), schema, death);
        std::_Exit(2);
    }
    return 0;
}

namespace {

// Validation needs the org's describes but not the database.
int validate(const settings& s, const cli& c) {
    asio::io_context io(1);
    salesforce::rest_client rest(io.get_executor(), s.salesforce_config());
    const auto file = load_mappings(c);
    resolution res;
    std::string fatal;
    run_sync(io, [&]() -> asio::awaitable<int> {
        salesforce::diagnostics d;
        if (co_await rest.async_login(d)) {
            fatal = "Salesforce login failed: " + d.summary();
            co_return 0;
        }
        if (co_await describe_and_resolve(rest, file, res, d))
            fatal = "describe of " + res.failed_object + " failed: " + d.summary();
        co_return 0;
    }());
    for (const auto& w : res.warnings)
        std::cerr << "warning: " << w << "\n";
    for (const auto& e : res.errors)
        std::cerr << "error: " << e << "\n";
    if (!fatal.empty())
        std::cerr << "error: " << fatal << "\n";
    if (!res.errors.empty() || !fatal.empty())
        return 2;
    std::cout << "ok: " << file.mappings.size() << " mappings fit the org\n";
    return 0;
}

} // namespace

int cmd_mappings(const settings& s, const cli& c) {
    const std::string sub = c.positional.size() > 1 ? c.positional[1] : "";
    if (sub == "export") {
        std::cout << mappings::write_mapping_file(load_mappings(c));
        return 0;
    }
    if (sub == "validate")
        return validate(s, c);
    if (sub == "import")
        return cmd_run(s, c, true);
    throw std::runtime_error("mappings: expected validate, import or export");
}

int cmd_tail(const settings& s, const cli& c) {
    if (c.positional.size() < 2)
        throw std::runtime_error("tail: which channel? (e.g. /topic/hc_Contact)");
    const std::string channel = c.positional[1];
    // --replay ID resumes after ID; without it, only new events (-1).
    long long replay = -1;
    if (auto it = c.options.find("replay"); it != c.options.end())
        replay = std::stoll(it->second);
    asio::io_context io(1);
    salesforce::rest_client rest(io.get_executor(), s.salesforce_config());
    std::unique_ptr<cometd::client> client;
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec && client)
            client->stop();
    });
    int rc = 0; // 1 when the stream ended by an error rather than a signal
    const cometd::tail_output out{[](std::string_view line) {
                                      std::cout << line << "\n" << std::flush;
                                  },
                                  [](std::string_view message) { log::warn("tail", message); }};
    return run_sync(io, [&]() -> asio::awaitable<int> {
        salesforce::diagnostics d;
        if (co_await rest.async_login(d)) {
            log::error("sfbridge", "Salesforce login failed: " + d.summary());
            co_return 2;
        }
        cometd::client_config cc;
        cc.endpoint = rest.instance_url() + "/cometd/" + rest.api_version();
        cc.channels.push_back(channel);
        cc.http = s.salesforce_config().http;
        client = std::make_unique<cometd::client>(
            io.get_executor(), cc, [&](bool refresh) { return rest.streaming_token(refresh); });
        client->set_committed(channel, replay);
        asio::co_spawn(io, client->run(), [&](std::exception_ptr e, boost::system::error_code ec) {
            if (e)
                std::rethrow_exception(e);
            rc = ec ? 1 : 0;
        });
        co_await cometd::tail(*client, out);
        signals.cancel();
        co_return rc;
    }());
}

} // namespace sfbridge::bridge
