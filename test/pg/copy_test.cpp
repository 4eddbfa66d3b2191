#include "pg/copy_text.hpp"
#include "test/support/pg_env.hpp"

using namespace sfbridge;
namespace asio = boost::asio;
namespace ct = sfbridge::pg::copy_text;

TEST_CASE("COPY of 1000000 rows", "[pg][copy]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("c_million");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table +
                                        " (id int, name text, note text, amount float8)");
        pg::diagnostics diag;
        const auto awaited_1 = co_await c.async_copy_start("COPY " + table + " FROM STDIN", diag);
        REQUIRE_FALSE(awaited_1);
        CHECK(c.in_copy());
        std::string buf;
        for (int i = 0; i < 1000000; ++i) {
            const std::string id = std::to_string(i);
            ct::append_field(buf, id, true);
            ct::append_field(buf, "name\t" + id, false); // needs escaping
            if (i % 10 == 0)
                ct::append_null(buf, false);
            else
                ct::append_field(buf, "line1\nline2\\", false);
            ct::append_field(buf, std::to_string(i) + ".5", false);
            ct::end_row(buf);
            if (buf.size() > 64 * 1024) {
                auto ec = co_await c.async_copy_write(buf, diag);
                INFO(diag.summary());
                REQUIRE_FALSE(ec);
                buf.clear();
            }
        }
        const auto awaited_2 = co_await c.async_copy_write(buf, diag);
        REQUIRE_FALSE(awaited_2);
        std::uint64_t rows = 0;
        auto ec = co_await c.async_copy_end(rows, diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        CHECK(rows == 1000000);
        CHECK_FALSE(c.in_copy());
        auto r = co_await test::must_query(c, "SELECT count(*), count(note), sum(id::int8) FROM " +
                                                  table);
        CHECK(r.value(0, 0) == "1000000");
        CHECK(r.value(0, 1) == "900000");
        CHECK(r.value(0, 2) == "499999500000");
        auto one = co_await test::must_query(c, "SELECT name, note, amount FROM " + table +
                                                    " WHERE id = 777777");
        CHECK(one.value(0, 0) == "name\t777777");
        CHECK(one.value(0, 1) == "line1\nline2\\");
        CHECK(one.value(0, 2) == "777777.5");
    }());
}

TEST_CASE("COPY with bad data reports the row's error and the session goes on", "[pg][copy]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("c_bad");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (id int)");
        pg::diagnostics diag;
        const auto awaited_3 = co_await c.async_copy_start("COPY " + table + " FROM STDIN", diag);
        REQUIRE_FALSE(awaited_3);
        const auto awaited_4 = co_await c.async_copy_write("1\n2\nthree\n4\n", diag);
        REQUIRE_FALSE(awaited_4);
        std::uint64_t rows = 0;
        auto ec = co_await c.async_copy_end(rows, diag);
        CHECK(ec == pg::condition::bad_input);
        CHECK(diag.sqlstate == "22P02");
        CHECK_THAT(diag.message, Catch::Contains("three"));
        CHECK(c.is_open());
        auto r = co_await test::must_query(c, "SELECT count(*) FROM " + table);
        CHECK(r.value(0, 0) == "0");
    }());
}

TEST_CASE("COPY can be aborted and COPY steps are checked", "[pg][copy]") {
    asio::io_context io;
    pg::connection c(io.get_executor());
    const auto table = test::unique_name("c_abort");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(c);
        co_await test::must_exec(c, "CREATE TEMP TABLE " + table + " (id int)");
        pg::diagnostics diag;
        // Writing without a COPY in progress is refused without touching the session.
        const auto awaited_5 = co_await c.async_copy_write("1\n", diag);
        CHECK(awaited_5 == pg::errc::invalid_argument);
        // A statement that is not COPY FROM STDIN is refused.
        const auto awaited_6 = co_await c.async_copy_start("SELECT 1", diag);
        CHECK(awaited_6 == pg::errc::unexpected_result);
        const auto awaited_7 = co_await c.async_copy_start("COPY " + table + " FROM STDIN", diag);
        REQUIRE_FALSE(awaited_7);
        // No other statement while a COPY is open.
        pg::result r;
        const auto awaited_8 = co_await c.async_query("SELECT 1", r, diag);
        CHECK(awaited_8 == pg::errc::operation_in_progress);
        const auto awaited_9 = co_await c.async_copy_write("1\n2\n", diag);
        REQUIRE_FALSE(awaited_9);
        auto ec = co_await c.async_copy_abort("changed my mind", diag);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        auto n = co_await test::must_query(c, "SELECT count(*) FROM " + table);
        CHECK(n.value(0, 0) == "0");
        // A plain statement that turns out to be COPY FROM STDIN is ended, not left hanging.
        ec = co_await c.async_query("COPY " + table + " FROM STDIN", r, diag);
        CHECK(ec == pg::errc::unexpected_result);
        CHECK(c.is_open());
        auto ok = co_await test::must_query(c, "SELECT 1");
        CHECK(ok.value(0, 0) == "1");
    }());
}
