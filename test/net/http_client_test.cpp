#include "net/gzip.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "test/support/connect_proxy.hpp"
#include "test/support/sim_fixture.hpp"
#include "test/support/tls_cert.hpp"

#include <cstdlib>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

net::url origin(const std::string& text) {
    auto u = net::parse_url(text);
    REQUIRE(u);
    return *u;
}

struct call_result {
    boost::system::error_code ec;
    net::http_response res;
    net::diagnostics diag;
};

asio::awaitable<call_result> get(net::http_connection& c, std::string target,
                                 std::chrono::milliseconds timeout = 10s) {
    call_result r;
    r.ec = co_await c.async_request(http::verb::get, std::move(target), {}, {}, r.res, r.diag,
                                    timeout);
    co_return r;
}

} // namespace

TEST_CASE("plain HTTP requests reuse one kept-alive connection", "[net][http]") {
    sim_fixture f;
    net::client_options o;
    net::http_connection c(f.io.get_executor(), origin(f.sim->base_url()), o, nullptr);
    run(f.io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            auto r = co_await get(c, "/services/data/");
            INFO(r.diag.summary());
            REQUIRE_FALSE(r.ec);
            CHECK(r.res.status == 200);
            CHECK_THAT(r.res.body, Catch::Contains("/services/data/v60.0"));
        }
        CHECK(c.connects() == 1);
        // The server closes every connection: the next GET finds its connection stale and
        // goes again on a fresh one, unseen by the caller.
        f.sim->drop_connections();
        co_await sleep_ms(20);
        auto again = co_await get(c, "/services/data/");
        CHECK_FALSE(again.ec);
        CHECK(c.connects() == 2);
    }());
}

TEST_CASE("a stalled answer ends at the deadline and a refused connect at once", "[net][http]") {
    sim_fixture f;
    net::client_options o;
    o.connect_timeout = 2s;
    net::http_connection c(f.io.get_executor(), origin(f.sim->base_url()), o, nullptr);
    run(f.io, [&]() -> asio::awaitable<void> {
        f.sim->faults().stall = true;
        const auto start = std::chrono::steady_clock::now();
        auto r = co_await get(c, "/services/data/", 300ms);
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(r.ec == net::errc::timeout);
        CHECK(r.ec == net::condition::retryable);
        CHECK(took >= 250ms);
        CHECK(took < 3s);
        CHECK_FALSE(c.is_open());
        f.sim->faults().stall = false;

        asio::ip::tcp::acceptor a(f.io, {asio::ip::make_address("127.0.0.1"), 0});
        const auto port = a.local_endpoint().port();
        a.close();
        net::http_connection nobody(f.io.get_executor(),
                                    origin("http://127.0.0.1:" + std::to_string(port)), o, nullptr);
        auto refused = co_await get(nobody, "/");
        CHECK(refused.ec == net::errc::connect_failed);
        CHECK(refused.ec == net::condition::retryable);
        CHECK_THAT(refused.diag.summary(),
                   Catch::Contains("connect to 127.0.0.1:" + std::to_string(port)));
    }());
}

TEST_CASE("plain http is refused beyond loopback", "[net][http]") {
    asio::io_context io;
    net::client_options o;
    net::http_connection c(io.get_executor(), origin("http://login.salesforce.com/"), o, nullptr);
    run(io, [&]() -> asio::awaitable<void> {
        auto r = co_await get(c, "/");
        CHECK(r.ec == net::errc::bad_url);
        CHECK_THAT(r.diag.summary(), Catch::Contains("use https"));
    }());
}

TEST_CASE("a body over the limit is refused", "[net][http]") {
    sim_fixture f;
    net::client_options o;
    o.body_limit = 1000;
    net::http_connection c(f.io.get_executor(), origin(f.sim->base_url()), o, nullptr);
    run(f.io, [&]() -> asio::awaitable<void> {
        auto r = co_await get(c, "/services/data/"); // a few kilobytes of versions
        CHECK(r.ec == net::errc::body_too_large);
        CHECK_FALSE(r.ec == net::condition::retryable);
    }());
}

TEST_CASE("gzip bodies are decoded", "[net][http]") {
    asio::io_context io;
    std::string payload;
    for (int i = 0; i < 2000; ++i)
        payload += "event " + std::to_string(i) + "\n";
    net::http_server server(
        io.get_executor(),
        [&](net::request& req,
            const net::peer_info&) -> asio::awaitable<std::optional<net::response>> {
            net::response res{http::status::ok, 11};
            const bool wants =
                req[http::field::accept_encoding].find("gzip") != std::string_view::npos;
            if (wants) {
                res.set(http::field::content_encoding, "gzip");
                res.body() = net::gzip(payload);
            } else {
                res.body() = payload;
            }
            co_return res;
        });
    server.listen({asio::ip::make_address("127.0.0.1"), 0});
    net::client_options o;
    net::http_connection c(io.get_executor(),
                           origin("http://127.0.0.1:" + std::to_string(server.port())), o, nullptr);
    run(io, [&]() -> asio::awaitable<void> {
        auto r = co_await get(c, "/");
        REQUIRE_FALSE(r.ec);
        CHECK(r.res.body == payload);
        CHECK(r.res.headers.find(http::field::content_encoding) == r.res.headers.end());
    }());
    server.stop();
}

TEST_CASE("cookies set by the server go back to it", "[net][http]") {
    sim_fixture f;
    net::cookie_jar jar;
    net::client_options o;
    net::http_connection c(f.io.get_executor(), origin(f.sim->base_url()), o, nullptr, &jar);
    run(f.io, [&]() -> asio::awaitable<void> {
        http_client raw = f.client();
        auto token = co_await raw.call(http::verb::post, "/__sim/oauth/access-token");
        const net::header_list auth{
            {"Authorization", "Bearer " + str(parse_json(token.body)->root["access_token"])},
            {"Content-Type", "application/json"}};
        net::http_response res;
        net::diagnostics diag;
        auto ec = co_await c.async_request(
            http::verb::post, "/cometd/60.0",
            R"([{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}])",
            auth, res, diag, 10s);
        REQUIRE_FALSE(ec);
        CHECK(jar.size() == 2);
        const std::string client = str(parse_json(res.body)->root.at(0)["clientId"]);
        // sfsim refuses this without its cookies: the jar must have sent them.
        ec = co_await c.async_request(http::verb::post, "/cometd/60.0",
                                      R"([{"channel":"/meta/subscribe","clientId":")" + client +
                                          R"(","subscription":"/data/ChangeEvents"}])",
                                      auth, res, diag, 10s);
        REQUIRE_FALSE(ec);
        CHECK(bool(parse_json(res.body)->root.at(0)["successful"]));
    }());
}

TEST_CASE("TLS verifies the certificate and the host name", "[net][tls]") {
    self_signed_cert cert("DNS:localhost,IP:127.0.0.1");
    self_signed_cert other("DNS:other.example");
    sim_fixture f([&](sim::simulator_config& c) {
        c.tls_cert_file = cert.cert_file();
        c.tls_key_file = cert.key_file();
    });
    const std::string port = std::to_string(f.sim->port());
    run(f.io, [&]() -> asio::awaitable<void> {
        net::client_options trusting;
        trusting.ca_file = cert.cert_file();
        for (const char* host : {"localhost", "127.0.0.1"}) {
            INFO(host);
            net::http_connection ok(f.io.get_executor(),
                                    origin(std::string("https://") + host + ":" + port), trusting,
                                    net::make_tls_context(trusting));
            auto r = co_await get(ok, "/services/data/");
            INFO(r.diag.summary());
            CHECK_FALSE(r.ec);
            CHECK(r.res.status == 200);
        }

        // The system store does not know this self-signed certificate.
        net::client_options system;
        net::http_connection unknown(f.io.get_executor(), origin("https://localhost:" + port),
                                     system, net::make_tls_context(system));
        auto refused = co_await get(unknown, "/services/data/");
        CHECK(refused.ec == net::errc::tls_failed);
        CHECK_THAT(refused.diag.summary(), Catch::Contains("certificate verify failed"));

        // Trusting a different certificate does not help.
        net::client_options wrong_ca;
        wrong_ca.ca_file = other.cert_file();
        net::http_connection wrong(f.io.get_executor(), origin("https://localhost:" + port),
                                   wrong_ca, net::make_tls_context(wrong_ca));
        const auto answer = co_await get(wrong, "/services/data/");
        CHECK(answer.ec == net::errc::tls_failed);
    }());

    // A trusted certificate for another name fails the host name check.
    sim_fixture g([&](sim::simulator_config& c) {
        c.tls_cert_file = other.cert_file();
        c.tls_key_file = other.key_file();
    });
    run(g.io, [&]() -> asio::awaitable<void> {
        net::client_options o;
        o.ca_file = other.cert_file();
        net::http_connection mismatch(g.io.get_executor(),
                                      origin("https://localhost:" + std::to_string(g.sim->port())),
                                      o, net::make_tls_context(o));
        auto r = co_await get(mismatch, "/services/data/");
        CHECK(r.ec == net::errc::tls_failed);
        o.verify_peer = false; // only ever for tests
        net::http_connection unchecked(g.io.get_executor(),
                                       origin("https://localhost:" + std::to_string(g.sim->port())),
                                       o, net::make_tls_context(o));
        const auto answer = co_await get(unchecked, "/services/data/");
        CHECK_FALSE(answer.ec);
    }());
}

TEST_CASE("HTTPS goes through a CONNECT proxy", "[net][tls][proxy]") {
    self_signed_cert cert;
    sim_fixture f([&](sim::simulator_config& c) {
        c.tls_cert_file = cert.cert_file();
        c.tls_key_file = cert.key_file();
    });
    connect_proxy proxy(f.io);
    run(f.io, [&]() -> asio::awaitable<void> {
        net::client_options o;
        o.ca_file = cert.cert_file();
        o.proxy = origin("http://127.0.0.1:" + std::to_string(proxy.port()));
        net::http_connection c(f.io.get_executor(),
                               origin("https://localhost:" + std::to_string(f.sim->port())), o,
                               net::make_tls_context(o));
        auto r = co_await get(c, "/services/data/");
        INFO(r.diag.summary());
        CHECK_FALSE(r.ec);
        CHECK(proxy.tunnels() == 1);
        proxy.refuse(true);
        c.close();
        auto refused = co_await get(c, "/services/data/");
        CHECK(refused.ec == net::errc::proxy_refused);
        CHECK_THAT(refused.diag.summary(), Catch::Contains("403"));
    }());
}

TEST_CASE("the proxy comes from the environment unless NO_PROXY names the host", "[net][proxy]") {
    ::setenv("HTTPS_PROXY", "proxy.corp:3128", 1);
    ::setenv("NO_PROXY", "internal.example, .corp.example", 1);
    auto p = net::proxy_from_environment(origin("https://login.salesforce.com/"));
    REQUIRE(p);
    CHECK(p->host == "proxy.corp");
    CHECK(p->port == 3128);
    CHECK_FALSE(net::proxy_from_environment(origin("https://internal.example/")));
    CHECK_FALSE(net::proxy_from_environment(origin("https://db.corp.example/")));
    CHECK_FALSE(net::proxy_from_environment(origin("https://127.0.0.1:8443/")));
    CHECK_FALSE(net::proxy_from_environment(origin("http://plain.example/"))); // HTTP_PROXY unset
    ::unsetenv("HTTPS_PROXY");
    ::unsetenv("NO_PROXY");
    CHECK_FALSE(net::proxy_from_environment(origin("https://login.salesforce.com/")));
}
