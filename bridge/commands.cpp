#include "bridge/commands.hpp"

#include "bridge/engine.hpp"
#include "bridge/hc_service.hpp"
#include "bridge/http_endpoint.hpp"
#include "bridge/loop_death.hpp"
#include "bridge/provision.hpp"
#include "bridge/restart.hpp"
#include "bridge/run_lifecycle.hpp"
#include "bridge/run_sync.hpp"
#include "bridge/stop_signals.hpp"
#include "cometd/tail.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <system_error>
#include <unistd.h>

namespace sfbridge::bridge {

namespace asio = boost::asio;

namespace {

// Heroku Connect's API for this process: one connection, its id stable across restarts.
hc_service_options api_options(const engine_config& cfg, const settings& s, const cli& c,
                               std::string token) {
    hc_service_options o;
    o.token = std::move(token);
    o.database_url = s.database_url();
    o.mappings_path = c.options.at("mappings");
    o.connection.schema = cfg.schema;
    o.connection.api_version = cfg.salesforce.api_version;
    o.connection.ordered_writes = cfg.writes == write_algorithm::ordered;
    o.connection.file = cfg.mappings;
    const auto& who = cfg.salesforce.auth.username.empty() ? cfg.salesforce.auth.client_id
                                                           : cfg.salesforce.auth.username;
    // A Terraform configuration that managed Heroku Connect through herokux knows the add-on's
    // and the app's ids: given, they are the connection's.
    o.connection.id = s.get("SFBRIDGE_HEROKU_CONNECTION_ID");
    o.connection.app_id = s.get("SFBRIDGE_HEROKU_APP_ID");
    for (const auto& [name, value] : {std::pair{"SFBRIDGE_HEROKU_CONNECTION_ID", o.connection.id},
                                      std::pair{"SFBRIDGE_HEROKU_APP_ID", o.connection.app_id}})
        if (!value.empty() && !hc::is_uuid(value))
            throw std::runtime_error(std::string(name) + " must be a UUID (8-4-4-4-12 hex digits)");
    if (o.connection.id.empty())
        o.connection.id = hc::name_uuid("sfbridge:connection:" + cfg.salesforce.auth.login_url +
                                        ":" + who + ":" + cfg.schema);
    o.applying_import = take_applying_import();
    return o;
}

// On the socket a restart handed over, or a new one.
void serve_http(http_endpoint& endpoint, const std::string& address) {
    if (const int fd = take_handed_over_listener(); fd >= 0) {
        try {
            endpoint.adopt(fd);
            return;
        } catch (const std::system_error& x) {
            log::warn("http", "the listening socket handed over is unusable; listening anew",
                      {{"error", x.what()}});
            ::close(fd);
        }
    }
    endpoint.listen(parse_listen_address(address));
}

} // namespace

int cmd_run(const settings& s, const cli& c, bool import_only) {
    stop_signals::block(); // before any thread: see bridge/stop_signals
    asio::io_context io(1);
    auto cfg = engine_options(s, c);
    cfg.mappings = load_mappings(c);
    const auto grace = cfg.shutdown_grace;
    const auto schema = cfg.schema;
    std::unique_ptr<hc_service> api;
    std::string token = s.get("SFBRIDGE_HTTP_TOKEN");
    // A token read from a secret file often ends with a line feed the client never sends.
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
        token.pop_back();
    auto api_opts = api_options(cfg, s, c, token);
    const bool applying_import = api_opts.applying_import;
    const std::string mappings_path = api_opts.mappings_path;
    engine e(io.get_executor(), std::move(cfg));
    run_lifecycle life(io, e, grace);
    // Served from before the start, so that the orchestrator's probes see it starting.
    std::unique_ptr<http_endpoint> endpoint;
    if (const auto address = option_or_setting(c, "http", s, "SFBRIDGE_HTTP", "");
        !address.empty() && !import_only) {
        http_api_options ho;
        ho.token = token;
        endpoint = std::make_unique<http_endpoint>(
            io.get_executor(), [&e] { return e.snapshot(); }, std::move(ho));
        api = std::make_unique<hc_service>(
            io.get_executor(), std::move(api_opts), [&e] { return e.rest(); },
            [&life] { life.begin_stop(true); });
        endpoint->serve_heroku_connect_api(api.get());
        serve_http(*endpoint, address);
    }
    life.attach(endpoint.get(), api.get());
    e.on_schema_change([&life](const std::string& what) {
        log::warn("sfbridge",
                  "starting again in place, to read the mapping file and the describes again",
                  {{"why", what}});
        life.begin_stop(true);
    });
    // Signals are handled from the first step: a stop during the start exits at once. One that
    // came while a previous image restarted is pending still: read now.
    stop_signals signals(io.get_executor());
    signals.start([&](int sig) {
        log::info("sfbridge", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        life.begin_stop(false);
    });
    std::string error;
    if (!run_sync(io, e.start(error))) {
        log::error("sfbridge", error);
        if (applying_import && restore_previous_mappings(mappings_path)) {
            log::error("sfbridge",
                       "the imported mappings could not be applied; the previous "
                       "mapping file is back, restarting on it",
                       {{"file", mappings_path}});
            restart_process(endpoint ? endpoint->release_listener() : -1);
        }
        return 2;
    }
    if (applying_import)
        forget_previous_mappings(mappings_path);
    if (import_only) {
        log::info("sfbridge", "mappings imported: tables and PushTopics are in place");
        return 0;
    }
    life.mark_started();
    io.restart();
    asio::co_spawn(io, e.run(), [&](std::exception_ptr ex) {
        if (!ex)
            life.run_finished();
        signals.cancel();
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
    life.after_run();
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
    if (sub == "add")
        return cmd_mappings_add(s, c);
    if (sub == "plan")
        return cmd_mappings_plan(s, c);
    throw std::runtime_error("mappings: expected add, plan, validate, import or export");
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
