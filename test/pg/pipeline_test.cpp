#include "test/support/pg_env.hpp"

using namespace sfbridge;
namespace asio = boost::asio;

TEST_CASE("10000 parameterized inserts in one pipeline", "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("p_many");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (id int, name text)");
        pg::pipeline p;
        const std::string sql = "INSERT INTO " + table + " VALUES ($1, $2)";
        for (int i = 0; i < 10000; ++i)
            p.add(sql, pg::params(i, "name " + std::to_string(i)));
        pg::pipeline_result out;
        pg::diagnostics diag;
        auto ec = co_await c.async_execute(p, out, diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        REQUIRE(out.results.size() == 10000);
        CHECK(out.failed_count() == 0);
        CHECK(out.results[9999].affected_rows() == 1);
        auto r = co_await test::must_query(c, "SELECT count(*), sum(id), max(name) FROM " + table);
        CHECK(r.value(0, 0) == "10000");
        CHECK(r.value(0, 1) == "49995000");
        CHECK(r.value(0, 2) == "name 9999");
    }());
}

TEST_CASE("a failing statement aborts the rest of its sync group only", "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("p_fail");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (id int PRIMARY KEY)");
        const std::string ins = "INSERT INTO " + table + " VALUES ($1)";
        pg::pipeline p;
        p.add(ins, pg::params(1))
            .add(ins, pg::params(2))
            .add(ins, pg::params(1))
            .add(ins, pg::params(3))
            .sync() // group 1: statement 2 fails, 3 is skipped
            .add(ins, pg::params(10))
            .sync()                                // group 2 runs
            .add("SELECT count(*) FROM " + table); // group 3, with the implicit final sync
        pg::pipeline_result out;
        pg::diagnostics diag;
        auto ec = co_await c.async_execute(p, out, diag);
        CHECK(pg::sqlstate_of(ec) == "23505");
        REQUIRE(diag.statement_index.has_value());
        CHECK(*diag.statement_index == 2);
        CHECK_THAT(diag.message, Catch::Contains("duplicate key"));
        REQUIRE(out.errors.size() == 6);
        CHECK_FALSE(out.errors[0]);
        CHECK_FALSE(out.errors[1]);
        CHECK(out.errors[2] == pg::condition::constraint_violation);
        CHECK(out.errors[3] == pg::errc::pipeline_aborted);
        CHECK_FALSE(out.errors[4]);
        CHECK_FALSE(out.errors[5]);
        CHECK(out.failed_count() == 2);
        // Group 1 was one implicit transaction and rolled back; group 2 committed.
        CHECK(out.results[5].value(0, 0) == "1");
        auto r = co_await test::must_query(c, "SELECT string_agg(id::text, ',') FROM " + table);
        CHECK(r.value(0, 0) == "10");
        CHECK(c.is_open());
    }());
}

TEST_CASE("pipeline results come back in order with their rows", "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        pg::pipeline p;
        for (int i = 0; i < 500; ++i) {
            p.add("SELECT $1::int * 2, repeat('y', $1::int)", pg::params(i));
            if (i % 50 == 49)
                p.sync();
        }
        pg::pipeline_result out;
        pg::diagnostics diag;
        const auto awaited_1 = co_await c.async_execute(p, out, diag);
        REQUIRE_FALSE(awaited_1);
        for (int i = 0; i < 500; ++i) {
            REQUIRE(out.results[static_cast<std::size_t>(i)].rows() == 1);
            CHECK(out.results[static_cast<std::size_t>(i)].value(0, 0) == std::to_string(i * 2));
            CHECK(out.results[static_cast<std::size_t>(i)].value(0, 1).size() ==
                  static_cast<std::size_t>(i));
        }
        // An empty pipeline is a no-op; the connection is still idle afterwards.
        pg::pipeline empty;
        const auto awaited_2 = co_await c.async_execute(empty, out, diag);
        CHECK_FALSE(awaited_2);
        auto r = co_await test::must_query(c, "SELECT 1");
        CHECK(r.value(0, 0) == "1");
    }());
}

TEST_CASE("explicit transactions inside a pipeline", "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("p_tx");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (k text PRIMARY KEY, v int)");
        pg::pipeline p;
        p.add("BEGIN");
        for (int i = 0; i < 100; ++i)
            p.add("INSERT INTO " + table +
                      " VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "
                      "EXCLUDED.v",
                  pg::params("k" + std::to_string(i % 10), i));
        p.add("COMMIT");
        pg::pipeline_result out;
        pg::diagnostics diag;
        const auto awaited_3 = co_await c.async_execute(p, out, diag);
        REQUIRE_FALSE(awaited_3);
        auto r = co_await test::must_query(c, "SELECT count(*), sum(v) FROM " + table);
        CHECK(r.value(0, 0) == "10");
        CHECK(r.value(0, 1) == std::to_string(90 + 91 + 92 + 93 + 94 + 95 + 96 + 97 + 98 + 99));
    }());
}
