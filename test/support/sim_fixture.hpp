#pragma once

#include "bench/support/http_client.hpp"
#include "sim/simulator.hpp"
#include "test/support/run.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <functional>
#include <memory>
#include <string>

namespace sfbridge::test {

namespace http = boost::beast::http;

// A parsed JSON document that owns its parser (DOM API: tests read in any order).
struct json_doc {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
};

inline std::unique_ptr<json_doc> parse_json(const std::string& text) {
    auto d = std::make_unique<json_doc>();
    auto err = d->parser.parse(text).get(d->root);
    INFO(text.substr(0, 2000));
    REQUIRE_FALSE(err);
    return d;
}

inline std::string str(simdjson::dom::element e) {
    std::string_view s;
    if (e.get_string().get(s))
        return {};
    return std::string(s);
}

// sfsim in this process, on a free port, on the test's io_context.
struct sim_fixture {
    boost::asio::io_context io;
    sim::simulator_config cfg;
    std::unique_ptr<sim::simulator> sim;

    explicit sim_fixture(const std::function<void(sim::simulator_config&)>& tweak = {}) {
        if (tweak)
            tweak(cfg);
        sim = std::make_unique<sim::simulator>(io.get_executor(), cfg);
        sim->start();
    }
    ~sim_fixture() {
        sim->stop();
        if (io.stopped())
            return; // a test timed out: nothing may be resumed (see run())
        // Let the server's sessions see their sockets closed.
        io.run_for(std::chrono::milliseconds(50));
    }

    http_client client() { return http_client(io, sim->port()); }

    // Logs in with the password grant, as a client would, and keeps the token on `c`.
    boost::asio::awaitable<void> login(http_client& c) {
        // Named, not braced in the call: GCC 12 miscompiles braced temporaries in co_await.
        std::map<std::string, std::string> headers;
        headers["Content-Type"] = "application/x-www-form-urlencoded";
        std::string body = "grant_type=password&client_id=" + cfg.auth.client_id +
                           "&client_secret=" + cfg.auth.client_secret +
                           "&username=" + cfg.auth.username + "&password=" + cfg.auth.password;
        auto r = co_await c.call(http::verb::post, "/services/oauth2/token", std::move(body),
                                 std::move(headers));
        REQUIRE(r.status == 200);
        auto d = parse_json(r.body);
        c.token = str(d->root["access_token"]);
        REQUIRE_FALSE(c.token.empty());
    }

    std::string api(std::string_view rest) { return "/services/data/v60.0" + std::string(rest); }
};

inline boost::asio::awaitable<void> sleep_ms(long ms) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                std::chrono::milliseconds(ms));
    co_await t.async_wait(boost::asio::use_awaitable);
}

} // namespace sfbridge::test
