#include "test/support/sim_fixture.hpp"
#include "test/support/tls_cert.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

TEST_CASE("stalled requests wait until the stall is lifted", "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    auto ctl = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await ctl.call(http::verb::put, "/__sim/faults", R"({"stall":true})");
        auto stalled = co_await c.call(http::verb::get, f.api("/limits"), "", {},
                                       std::chrono::milliseconds(300));
        CHECK(stalled.status == 0); // the client gave up
        asio::co_spawn(
            f.io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_ms(200);
                (void)co_await ctl.call(http::verb::put, "/__sim/faults", "{}");
            },
            asio::detached);
        const auto start = std::chrono::steady_clock::now();
        auto released = co_await c.call(http::verb::get, f.api("/limits"));
        CHECK(released.status == 200);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
    }());
}

TEST_CASE("a spent daily API limit is lifted when the fault settings are replaced",
          "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    auto ctl = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await ctl.call(http::verb::put, "/__sim/faults", R"({"apiDailyLimit":0})");
        const auto refused = co_await c.call(http::verb::get, f.api("/sobjects"));
        CHECK(refused.status == 403);
        CHECK(refused.body.find("REQUEST_LIMIT_EXCEEDED") != std::string::npos);
        // Another fault replaces the settings: the limit is the configured one again.
        (void)co_await ctl.call(http::verb::put, "/__sim/faults", R"({"failShare":0})");
        const auto allowed = co_await c.call(http::verb::get, f.api("/sobjects"));
        CHECK(allowed.status == 200);
    }());
}

TEST_CASE("a share of requests fails, and a share of record writes", "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"failShare":0.5})");
        int unavailable = 0;
        for (int i = 0; i < 200; ++i)
            unavailable += (co_await c.call(http::verb::get, f.api("/limits"))).status == 503;
        CHECK(unavailable > 60);
        CHECK(unavailable < 140);

        (void)co_await c.call(http::verb::put, "/__sim/faults", R"({"lockShare":0.5})");
        std::string body = R"({"records":[)";
        for (int i = 0; i < 200; ++i)
            body += std::string(i ? "," : "") + R"({"attributes":{"type":"Account"},"Name":"n"})";
        body += "]}";
        std::map<std::string, std::string> h;
        h["Content-Type"] = "application/json";
        auto r =
            co_await c.call(http::verb::post, f.api("/composite/sobjects"), body, std::move(h));
        REQUIRE(r.status == 200);
        int locked = 0;
        const auto results = parse_json(r.body);
        for (auto res : results->root.get_array())
            if (!bool(res["success"]))
                locked += str(res["errors"].at(0)["statusCode"]) == "UNABLE_TO_LOCK_ROW";
        CHECK(locked > 60);
        CHECK(locked < 140);
    }());
}

namespace {
// Records of `object` named `name`, through sfsim's REST query.
asio::awaitable<int> count_named(sim_fixture& f, http_client& c, const std::string& object,
                                 const std::string& name) {
    auto r = co_await c.call(http::verb::get, f.api("/query?q=SELECT+Id+FROM+" + object +
                                                    "+WHERE+Name+%3D+%27" + name + "%27"));
    REQUIRE(r.status == 200);
    co_return static_cast<int>(int64_t(parse_json(r.body)->root["totalSize"]));
}
} // namespace

TEST_CASE("answer faults apply the request, then drop, replace or delay its answer",
          "[sim][fault]") {
    sim_fixture f;
    auto c = f.client();
    auto ctl = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(c);
        std::map<std::string, std::string> json;
        json["Content-Type"] = "application/json";
        // A fresh client for each create: the test client sends a request again once when its
        // kept-alive connection closes, which is the very resend these faults expose.
        auto create = [&](std::string name) -> asio::awaitable<http_reply> {
            auto w = f.client();
            w.token = c.token;
            co_return co_await w.call(http::verb::post, f.api("/composite/sobjects"),
                                      R"({"records":[{"attributes":{"type":"Account"},"Name":")" +
                                          name + R"("}]})",
                                      json, std::chrono::milliseconds(5000));
        };
        // Dropped once: no answer, but the record exists; the next call is answered.
        auto set = co_await ctl.call(
            http::verb::put, "/__sim/faults",
            R"({"afterApply":{"action":"drop","api":"collections","object":"Account","count":1}})");
        REQUIRE(set.status == 200);
        auto dropped = co_await create("Dropped");
        CHECK(dropped.status == 0);
        const auto dropped_kept = co_await count_named(f, c, "Account", "Dropped");
        CHECK(dropped_kept == 1);
        auto next = co_await create("Answered");
        CHECK(next.status == 200);

        // Another object or API is not taken.
        (void)co_await ctl.call(http::verb::put, "/__sim/faults",
                                R"({"afterApply":{"action":"status","status":502,)"
                                R"("api":"collections","object":"Contact"}})");
        const auto created = co_await create("Not a Contact");
        CHECK(created.status == 200);
        (void)co_await ctl.call(
            http::verb::put, "/__sim/faults",
            R"({"afterApply":{"action":"status","status":502,"api":"collections"}})");
        auto proxy = co_await create("Behind a proxy");
        CHECK(proxy.status == 502);
        const auto proxied_kept = co_await count_named(f, c, "Account", "Behind+a+proxy");
        CHECK(proxied_kept == 1);

        // Delayed past the client's deadline: the client gives up, the record exists.
        (void)co_await ctl.call(
            http::verb::put, "/__sim/faults",
            R"({"afterApply":{"action":"delay","delayMs":60000,"api":"collections"}})");
        auto late =
            co_await c.call(http::verb::post, f.api("/composite/sobjects"),
                            R"({"records":[{"attributes":{"type":"Account"},"Name":"Late"}]})",
                            json, std::chrono::milliseconds(300));
        CHECK(late.status == 0);
        (void)co_await ctl.call(http::verb::put, "/__sim/faults", "{}");
        auto c2 = f.client();
        co_await f.login(c2);
        const auto late_kept = co_await count_named(f, c2, "Account", "Late");
        CHECK(late_kept == 1);

        auto bad = co_await ctl.call(http::verb::put, "/__sim/faults",
                                     R"({"afterApply":{"action":"explode"}})");
        CHECK(bad.status == 400);
        CHECK(bad.body.find("drop, status or delay") != std::string::npos);
    }());
}

TEST_CASE("dropping every connection closes them all", "[sim][fault]") {
    sim_fixture f;
    auto a = f.client();
    auto b = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        co_await f.login(a);
        b.token = a.token;
        (void)co_await b.call(http::verb::get, f.api("/limits"));
        auto drop = co_await a.call(http::verb::post, "/__sim/faults/drop-connections");
        CHECK(drop.status == 200);
        co_await sleep_ms(50);
        // The next request on each finds its connection closed and opens a new one.
        auto again = co_await b.call(http::verb::get, f.api("/limits"));
        CHECK(again.status == 200);
    }());
}

TEST_CASE("sfsim serves HTTPS with a given certificate", "[sim][tls]") {
    self_signed_cert tls;
    sim_fixture f([&](sim::simulator_config& c) {
        c.tls_cert_file = tls.cert_file();
        c.tls_key_file = tls.key_file();
    });
    CHECK(f.sim->base_url().starts_with("https://127.0.0.1:"));
    run(f.io, [&]() -> asio::awaitable<void> {
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.add_certificate_authority(asio::buffer(tls.cert_pem));
        ctx.set_verify_mode(asio::ssl::verify_peer);
        asio::ssl::stream<asio::ip::tcp::socket> stream(f.io, ctx);
        co_await stream.next_layer().async_connect(
            {asio::ip::make_address("127.0.0.1"), f.sim->port()}, asio::use_awaitable);
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        http::request<http::string_body> req{http::verb::get, "/services/data/", 11};
        req.set(http::field::host, "127.0.0.1");
        co_await http::async_write(stream, req, asio::use_awaitable);
        boost::beast::flat_buffer buf;
        http::response<http::string_body> res;
        co_await http::async_read(stream, buf, res, asio::use_awaitable);
        CHECK(res.result_int() == 200);
        CHECK_THAT(res.body(), Catch::Contains("/services/data/v60.0"));
    }());
    // Plain HTTP to the TLS port gets nowhere.
    auto plain = f.client();
    run(f.io, [&]() -> asio::awaitable<void> {
        auto r = co_await plain.call(http::verb::get, "/services/data/", "", {},
                                     std::chrono::milliseconds(2000));
        CHECK(r.status == 0);
    }());
}
