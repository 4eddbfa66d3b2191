#include "core/log.hpp"
#include "test/support/pg_env.hpp"

#include <chrono>
#include <vector>

using namespace sfbridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

TEST_CASE("parameters round-trip as text with NULL apart from empty", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        auto r = co_await test::must_query(
            c, "SELECT $1::text, $2::int8, $3::bool, $4::text IS NULL, $5::text, $6::float8",
            pg::params("it's \"quoted\"; DROP TABLE x", 9007199254740993LL, false, std::nullopt, "",
                       0.1));
        REQUIRE(r.rows() == 1);
        CHECK(r.value(0, 0) == "it's \"quoted\"; DROP TABLE x");
        CHECK(r.value(0, 1) == "9007199254740993");
        CHECK(r.value(0, 2) == "f");
        CHECK(r.value(0, 3) == "t");
        CHECK_FALSE(r.is_null(0, 4));
        CHECK(r.value(0, 4).empty());
        CHECK(r.value(0, 5) == "0.1");
    }());
}

TEST_CASE("server errors carry SQLSTATE and message and detail and the session goes on", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("q_err");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (id int PRIMARY KEY)");
        (void)co_await test::must_query(c, "INSERT INTO " + table + " VALUES ($1)", pg::params(1));
        pg::diagnostics diag;
        pg::result r;
        auto ec =
            co_await c.async_query("INSERT INTO " + table + " VALUES ($1)", pg::params(1), r, diag);
        CHECK(ec == pg::condition::constraint_violation);
        CHECK(pg::sqlstate_of(ec) == "23505");
        CHECK(diag.sqlstate == "23505");
        CHECK_THAT(diag.message, Catch::Contains("duplicate key"));
        CHECK_THAT(diag.detail, Catch::Contains("(id)=(1)"));
        CHECK(diag.client_message == "query");

        ec = co_await c.async_query("SELEC 1", r, diag);
        CHECK(ec == pg::condition::bad_input);
        CHECK(diag.sqlstate == "42601");

        ec = co_await c.async_query("SELECT $1::int", pg::params("not a number"), r, diag);
        CHECK(ec == pg::condition::bad_input);
        CHECK(diag.sqlstate == "22P02");

        CHECK(c.is_open());
        auto ok = co_await test::must_query(c, "SELECT count(*) FROM " + table);
        CHECK(ok.value(0, 0) == "1");
    }());
}

TEST_CASE("exec runs a script and stops at the first error", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("q_exec");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (v int); INSERT INTO " +
                                        table + " VALUES (1), (2);");
        pg::diagnostics diag;
        auto ec = co_await c.async_exec("INSERT INTO " + table + " VALUES (3); SELECT 1/0; " +
                                            "INSERT INTO " + table + " VALUES (4);",
                                        diag);
        CHECK(pg::sqlstate_of(ec) == "22012");
        // A simple-protocol script is one implicit transaction: the insert of 3 is gone too.
        auto r = co_await test::must_query(c, "SELECT string_agg(v::text, ',' ORDER BY v) FROM " +
                                                  table);
        CHECK(r.value(0, 0) == "1,2");
    }());
}

TEST_CASE("a query past its deadline times out promptly and the session is dropped", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        c.set_timeout(300ms);
        pg::diagnostics diag;
        pg::result r;
        const auto start = clk::now();
        auto ec = co_await c.async_query("SELECT pg_sleep(10)", r, diag);
        const auto took = clk::now() - start;
        CHECK(ec == pg::errc::timeout);
        CHECK(ec == pg::condition::connection_lost);
        CHECK(took >= 250ms);
        CHECK(took < 3s);
        CHECK(c.is_broken());
        const auto awaited_1 = co_await c.async_query("SELECT 1", r, diag);
        CHECK(awaited_1 == pg::errc::broken);
        co_await test::must_connect(c);
        c.set_timeout(30s);
        auto ok = co_await test::must_query(c, "SELECT 1");
        CHECK(ok.value(0, 0) == "1");
    }());
}

TEST_CASE("server notices go to the logger and not to stderr", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    std::vector<std::string> lines;
    log::set_sink([&](std::string_view l) { lines.emplace_back(l); });
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "DO $$ BEGIN RAISE WARNING 'careful now'; END $$");
    }());
    log::set_sink({});
    bool found = false;
    for (const auto& l : lines)
        found = found || (l.find("careful now") != std::string::npos &&
                          l.find("level=warn") != std::string::npos);
    CHECK(found);
}

TEST_CASE("large results are read in full", "[pg]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        auto r = co_await test::must_query(
            c, "SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g");
        REQUIRE(r.rows() == 200000);
        CHECK(r.value(199999, 0) == "200000");
        CHECK(r.value(12345, 1).size() == 100);
    }());
}
