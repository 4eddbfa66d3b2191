#pragma once

#include "test/support/sim_fixture.hpp"

namespace sfbridge::test {

// Drives sfsim's Bayeux endpoint by hand, as a client library would: a control connection for
// handshake and subscribe, a second one for the held /meta/connect, one cookie jar.
struct bayeux_driver {
    sim_fixture& f;
    http_client control;
    http_client poll;
    std::string client_id;
    int next_id = 1;
    std::string path = "/cometd/60.0";

    explicit bayeux_driver(sim_fixture& fx) : f(fx), control(fx.client()), poll(fx.client()) {}

    boost::asio::awaitable<http_reply> post(http_client& c, std::string body) {
        poll.token = control.token;
        // One jar for both connections.
        for (const auto& [k, v] : control.cookies)
            poll.cookies[k] = v;
        auto r = co_await c.call(http::verb::post, path, std::move(body), json_type(),
                                 std::chrono::seconds(60));
        for (const auto& [k, v] : c.cookies)
            control.cookies[k] = v;
        co_return r;
    }

    static std::map<std::string, std::string> json_type() {
        std::map<std::string, std::string> h;
        h["Content-Type"] = "application/json";
        return h;
    }

    std::string id() { return "\"" + std::to_string(next_id++) + "\""; }

    boost::asio::awaitable<std::unique_ptr<json_doc>> handshake() {
        auto r = co_await post(
            control,
            R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"ext":{"replay":true},"id":)" +
                id() + "}]");
        REQUIRE(r.status == 200);
        auto d = parse_json(r.body);
        client_id = str(d->root.at(0)["clientId"]);
        co_return d;
    }

    boost::asio::awaitable<std::unique_ptr<json_doc>> subscribe(const std::string& channel,
                                                                std::optional<long long> replay) {
        std::string ext;
        if (replay)
            ext = R"(,"ext":{"replay":{")" + channel + R"(":)" + std::to_string(*replay) + "}}";
        auto r = co_await post(control, R"([{"channel":"/meta/subscribe","clientId":")" +
                                            client_id + R"(","subscription":")" + channel + "\"" +
                                            ext + ",\"id\":" + id() + "}]");
        REQUIRE(r.status == 200);
        co_return parse_json(r.body);
    }

    boost::asio::awaitable<std::unique_ptr<json_doc>> connect() {
        auto r =
            co_await post(poll, R"([{"channel":"/meta/connect","clientId":")" + client_id +
                                    R"(","connectionType":"long-polling","id":)" + id() + "}]");
        INFO(r.error.message());
        REQUIRE(r.status == 200);
        co_return parse_json(r.body);
    }

    // The events in a connect reply (every message not on a /meta channel).
    static std::vector<simdjson::dom::element> events(const json_doc& d) {
        std::vector<simdjson::dom::element> out;
        for (auto m : d.root.get_array())
            if (!str(m["channel"]).starts_with("/meta/"))
                out.push_back(m);
        return out;
    }
    static simdjson::dom::element meta(const json_doc& d, std::string_view channel) {
        for (auto m : d.root.get_array())
            if (str(m["channel"]) == channel)
                return m;
        FAIL("no " << channel << " reply in " << simdjson::to_string(d.root));
        return {};
    }
};

} // namespace sfbridge::test
