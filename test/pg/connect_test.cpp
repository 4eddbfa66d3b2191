#include "test/support/pg_env.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

using namespace sfbridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

TEST_CASE("connects and runs a query", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        CHECK(c.is_open());
        CHECK(c.backend_pid() > 0);
        auto r = co_await test::must_query(
            c, "SELECT 1 + 1 AS two, current_setting('application_name')");
        REQUIRE(r.rows() == 1);
        CHECK(r.value(0, 0) == "2");
        CHECK(r.value(0, 1) == "sfbridge");
        CHECK(r.column_index("two") == 0);
        CHECK(r.column_index("nope") == -1);
    }());
}

TEST_CASE("a host name is resolved without blocking and works", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::diagnostics diag;
        auto ec = co_await c.async_connect(test::pg_dsn_with("host=localhost"), diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        auto r = co_await test::must_query(c, "SELECT 1");
        CHECK(r.value(0, 0) == "1");
    }());
}

TEST_CASE("a wrong password is refused with libpq's reason within the deadline", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::diagnostics diag;
        const auto start = clk::now();
        auto ec = co_await c.async_connect(test::pg_dsn_with("password=wrong-password"), diag, 5s);
        CHECK(clk::now() - start < 5s);
        CHECK(ec == pg::errc::connect_failed);
        CHECK_THAT(diag.message, Catch::Contains("password authentication failed"));
        // The password itself never appears in what we report.
        CHECK_THAT(diag.summary(), !Catch::Contains("wrong-password"));
        CHECK_FALSE(c.is_open());
    }());
}

TEST_CASE("a closed port is refused promptly", "[pg]") {
    asio::io_context io;
    // Reserve a port, then close it so nothing listens there.
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    a.close();
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::diagnostics diag;
        const auto start = clk::now();
        auto ec = co_await c.async_connect(
            test::pg_dsn_with("host=127.0.0.1 port=" + std::to_string(port)), diag, 5s);
        CHECK(clk::now() - start < 5s);
        CHECK(ec == pg::errc::connect_failed);
        CHECK_THAT(diag.message, Catch::Contains("refused"));
    }());
}

TEST_CASE("a server that never answers times out at the deadline", "[pg]") {
    asio::io_context io;
    // Accepts the TCP connection and then says nothing.
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = a.local_endpoint().port();
    asio::ip::tcp::socket held(io);
    a.async_accept(held, [](boost::system::error_code) {});
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::diagnostics diag;
        const auto start = clk::now();
        auto ec = co_await c.async_connect(
            test::pg_dsn_with("host=127.0.0.1 sslmode=disable port=" + std::to_string(port)), diag,
            300ms);
        const auto took = clk::now() - start;
        CHECK(ec == pg::errc::timeout);
        CHECK(ec == pg::condition::connection_lost);
        CHECK(took >= 250ms);
        CHECK(took < 3s);
        CHECK_FALSE(c.is_open());
    }());
}

TEST_CASE("a malformed DSN is an invalid argument", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::diagnostics diag;
        auto ec = co_await c.async_connect("host=127.0.0.1 nonsense_option=1", diag);
        CHECK(ec == pg::errc::invalid_argument);
        CHECK_THAT(diag.message, Catch::Contains("nonsense_option"));
    }());
}

TEST_CASE("operations on a closed connection fail cleanly", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::diagnostics diag;
        pg::result r;
        const auto awaited_1 = co_await c.async_query("SELECT 1", r, diag);
        CHECK(awaited_1 == pg::errc::not_connected);
        co_await test::must_connect(c);
        c.close();
        const auto awaited_2 = co_await c.async_query("SELECT 1", r, diag);
        CHECK(awaited_2 == pg::errc::not_connected);
        // And it can be opened again.
        co_await test::must_connect(c);
        auto ok = co_await test::must_query(c, "SELECT 2");
        CHECK(ok.value(0, 0) == "2");
    }());
}

TEST_CASE("a second operation while one is outstanding is refused", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        bool first_done = false;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                pg::diagnostics d;
                pg::result r;
                auto ec = co_await c.async_query("SELECT pg_sleep(0.2)", r, d);
                CHECK_FALSE(ec);
                first_done = true;
            },
            asio::detached);
        asio::steady_timer t(io, 20ms);
        co_await t.async_wait(asio::use_awaitable);
        pg::diagnostics diag;
        pg::result r;
        const auto awaited_3 = co_await c.async_query("SELECT 1", r, diag);
        CHECK(awaited_3 == pg::errc::operation_in_progress);
        while (!first_done) {
            t.expires_after(10ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        // The first operation was not disturbed and the connection is usable.
        auto ok = co_await test::must_query(c, "SELECT 3");
        CHECK(ok.value(0, 0) == "3");
    }());
}

TEST_CASE("connecting and closing many times leaks no descriptor", "[pg]") {
    asio::io_context io;
    test::run(io, [&]() -> asio::awaitable<void> {
        {
            // Warm up whatever the first connection allocates once (resolver, SSL, ...).
            pg::connection c(io.get_executor());
            co_await test::must_connect(c);
        }
        const auto before = test::open_fds();
        for (int i = 0; i < 30; ++i) {
            pg::connection c(io.get_executor());
            co_await test::must_connect(c);
            (void)co_await test::must_query(c, "SELECT 1");
            pg::connection bad(io.get_executor());
            pg::diagnostics diag;
            auto ec = co_await bad.async_connect(test::pg_dsn_with("password=nope"), diag);
            CHECK(ec == pg::errc::connect_failed);
        }
        CHECK(test::open_fds() == before);
    }());
}
