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

TEST_CASE("a statement added as prepared is parsed once and then run by name", "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("p_prep");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (id int, name text)");
        const std::string ins = "INSERT INTO " + table + " VALUES ($1, $2)";
        const std::string count = "SELECT count(*) FROM " + table + " WHERE id > $1";
        const std::string on_server = "SELECT count(*) FILTER (WHERE statement = '" + ins +
                                      "'), count(*) FROM pg_prepared_statements";
        for (int round = 0; round < 3; ++round) {
            pg::pipeline p;
            // The same text twice in one group: one Parse.
            p.add_prepared(ins, pg::params(2 * round, "a"))
                .add_prepared(ins, pg::params(2 * round + 1, "b"))
                .add_prepared(count, pg::params(-1));
            pg::pipeline_result out;
            pg::diagnostics diag;
            auto ec = co_await c.async_execute(p, out, diag);
            INFO(diag.summary());
            REQUIRE_FALSE(ec);
            REQUIRE(out.results.size() == 3);
            CHECK(out.failed_count() == 0);
            CHECK(out.results[1].affected_rows() == 1);
            CHECK(out.results[2].value(0, 0) == std::to_string(2 * round + 2));
            CHECK(c.prepared_statements() == 2);
            auto s = co_await test::must_query(c, on_server);
            CHECK(s.value(0, 0) == "1");
            CHECK(s.value(0, 1) == "2");
        }
    }());
}

TEST_CASE("a prepared statement whose Parse fails reports the error as its own", "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        for (int round = 0; round < 2; ++round) {
            pg::pipeline p;
            p.add("SELECT 1").add_prepared("SELEC $1::int", pg::params(1)).add("SELECT 2");
            pg::pipeline_result out;
            pg::diagnostics diag;
            auto ec = co_await c.async_execute(p, out, diag);
            // The same error each time: a failed Parse leaves no name behind.
            CHECK(pg::sqlstate_of(ec) == "42601");
            REQUIRE(diag.statement_index.has_value());
            CHECK(*diag.statement_index == 1);
            CHECK_FALSE(out.errors[0]);
            CHECK(pg::sqlstate_of(out.errors[1]) == "42601");
            CHECK(out.errors[2] == pg::errc::pipeline_aborted);
            CHECK(c.prepared_statements() == 0);
            CHECK(c.is_open());
        }
        // A group that fails before a Parse: the statement's next group prepares it afresh.
        const std::string sel = "SELECT $1::int + 1";
        pg::pipeline p;
        p.add("SELECT 1 / 0")
            .add_prepared(sel, pg::params(1))
            .sync()
            .add_prepared(sel, pg::params(41));
        pg::pipeline_result out;
        pg::diagnostics diag;
        auto ec = co_await c.async_execute(p, out, diag);
        CHECK(pg::sqlstate_of(ec) == "22012");
        CHECK(out.errors[1] == pg::errc::pipeline_aborted);
        REQUIRE_FALSE(out.errors[2]);
        CHECK(out.results[2].value(0, 0) == "42");
        CHECK(c.prepared_statements() == 1);
        // A Parse accepted in a group that then fails stays: names are not transactional.
        const std::string other = "SELECT $1::int * 2";
        pg::pipeline q;
        q.add_prepared(other, pg::params(2)).add("SELECT 1 / 0");
        ec = co_await c.async_execute(q, out, diag);
        CHECK(pg::sqlstate_of(ec) == "22012");
        CHECK(c.prepared_statements() == 2);
        pg::pipeline again;
        again.add_prepared(other, pg::params(21));
        ec = co_await c.async_execute(again, out, diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        CHECK(out.results[0].value(0, 0) == "42");
        auto s = co_await test::must_query(c, "SELECT count(*) FROM pg_prepared_statements");
        CHECK(s.value(0, 0) == "2");
    }());
}

TEST_CASE("prepared statements end with the session and are prepared again after it",
          "[pg][pipeline]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        const std::string sel = "SELECT $1::text || '!'";
        for (int session = 0; session < 2; ++session) {
            co_await test::must_connect(c);
            for (int run = 0; run < 2; ++run) {
                pg::pipeline p;
                p.add_prepared(sel, pg::params("hi"));
                pg::pipeline_result out;
                pg::diagnostics diag;
                auto ec = co_await c.async_execute(p, out, diag);
                INFO(diag.summary());
                REQUIRE_FALSE(ec);
                CHECK(out.results[0].value(0, 0) == "hi!");
                CHECK(c.prepared_statements() == 1);
            }
            c.close();
            CHECK(c.prepared_statements() == 0);
        }
    }());
}
