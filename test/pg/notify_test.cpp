#include "test/support/pg_env.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

using namespace sfbridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {
asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}
} // namespace

TEST_CASE("a NOTIFY reaches an idle listener", "[pg][notify]") {
    asio::io_context io;
    pg::connection listener(io.get_executor()), sender(io.get_executor());
    const auto channel = test::unique_name("chan_idle");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(listener);
        co_await test::must_connect(sender);
        co_await test::must_exec(listener, "LISTEN " + channel);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_for(50ms);
                (void)co_await test::must_query(sender, "SELECT pg_notify($1, $2)",
                                                pg::params(channel, "hello"));
            },
            asio::detached);
        pg::notification n;
        pg::diagnostics diag;
        auto ec = co_await listener.async_receive_notification(n, diag, 10s);
        INFO(diag.summary());
        REQUIRE_FALSE(ec);
        CHECK(n.channel == channel);
        CHECK(n.payload == "hello");
        CHECK(n.backend_pid == sender.backend_pid());
    }());
}

TEST_CASE("a NOTIFY sent while the listener runs a query is delivered", "[pg][notify]") {
    asio::io_context io;
    pg::connection listener(io.get_executor()), sender(io.get_executor());
    const auto channel = test::unique_name("chan_busy");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(listener);
        co_await test::must_connect(sender);
        co_await test::must_exec(listener, "LISTEN " + channel);

        bool received = false;
        std::string payload;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                pg::notification n;
                pg::diagnostics d;
                auto ec = co_await listener.async_receive_notification(n, d, 10s);
                CHECK_FALSE(ec);
                payload = n.payload;
                received = true;
            },
            asio::detached);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_for(100ms);
                (void)co_await test::must_query(sender, "SELECT pg_notify($1, 'during')",
                                                pg::params(channel));
            },
            asio::detached);
        // The listener is busy for 400 ms; the server sends the notification right after the
        // query's result, and the query's own read must hand it over.
        auto r = co_await test::must_query(listener, "SELECT pg_sleep(0.4), 'done'");
        CHECK(r.value(0, 1) == "done");
        for (int i = 0; i < 500 && !received; ++i)
            co_await sleep_for(10ms);
        CHECK(received);
        CHECK(payload == "during");

        // Several notifications arriving during a pipeline, in order.
        received = false;
        std::vector<std::string> got;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                for (int i = 0; i < 3; ++i) {
                    pg::notification n;
                    pg::diagnostics d;
                    if (co_await listener.async_receive_notification(n, d, 10s))
                        break;
                    got.push_back(n.payload);
                }
                received = true;
            },
            asio::detached);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_for(50ms);
                co_await test::must_exec(sender, "NOTIFY " + channel + ", 'a'; NOTIFY " + channel +
                                                     ", 'b'; NOTIFY " + channel + ", 'c'");
            },
            asio::detached);
        pg::pipeline p;
        p.add("SELECT pg_sleep(0.2)").add("SELECT 1");
        pg::pipeline_result out;
        pg::diagnostics diag;
        const auto awaited_1 = co_await listener.async_execute(p, out, diag);
        REQUIRE_FALSE(awaited_1);
        for (int i = 0; i < 500 && !received; ++i)
            co_await sleep_for(10ms);
        CHECK(got == std::vector<std::string>{"a", "b", "c"});
    }());
}

TEST_CASE("a burst of notifications arrives complete and in order", "[pg][notify]") {
    asio::io_context io;
    pg::connection listener(io.get_executor()), sender(io.get_executor());
    const auto channel = test::unique_name("chan_burst");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(listener);
        co_await test::must_connect(sender);
        co_await test::must_exec(listener, "LISTEN " + channel);
        (void)co_await test::must_query(
            sender, "SELECT pg_notify($1, g::text) FROM generate_series(1, 2000) g",
            pg::params(channel));
        for (int i = 1; i <= 2000; ++i) {
            pg::notification n;
            pg::diagnostics diag;
            const auto awaited_2 = co_await listener.async_receive_notification(n, diag, 10s);
            REQUIRE_FALSE(awaited_2);
            REQUIRE(n.payload == std::to_string(i));
        }
    }());
}

TEST_CASE("equal notifications a busy listener has not taken yet are queued once", "[pg][notify]") {
    asio::io_context io;
    pg::connection listener(io.get_executor()), sender(io.get_executor());
    const auto channel = test::unique_name("chan_fold");
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(listener);
        co_await test::must_connect(sender);
        co_await test::must_exec(listener, "LISTEN " + channel);
        // Separate transactions, so that Postgres does not fold them itself.
        for (int i = 0; i < 300; ++i)
            co_await test::must_exec(sender, "NOTIFY " + channel + ", 'same'");
        co_await test::must_exec(sender, "NOTIFY " + channel + ", 'other'");
        co_await test::must_exec(listener, "SELECT 1"); // busy: everything arrives meanwhile
        std::vector<std::string> got;
        for (;;) {
            pg::notification n;
            pg::diagnostics diag;
            const auto ec = co_await listener.async_receive_notification(n, diag, 300ms);
            if (ec)
                break;
            got.push_back(n.payload);
        }
        CHECK(got == std::vector<std::string>{"same", "other"});
    }());
}

TEST_CASE("a notification wait can time out or be cancelled and the session stays usable",
          "[pg][notify]") {
    asio::io_context io;
    pg::connection listener(io.get_executor());
    test::run(io, [&]() -> asio::awaitable<void> {
        co_await test::must_connect(listener);
        co_await test::must_exec(listener, "LISTEN nobody_sends_here");
        pg::notification n;
        pg::diagnostics diag;
        auto ec = co_await listener.async_receive_notification(n, diag, 100ms);
        CHECK(ec == boost::system::errc::timed_out);
        CHECK_FALSE(ec == pg::condition::connection_lost);
        CHECK(listener.is_open());

        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await sleep_for(50ms);
                listener.cancel_notification_wait();
            },
            asio::detached);
        ec = co_await listener.async_receive_notification(n, diag);
        CHECK(ec == pg::errc::cancelled);
        auto r = co_await test::must_query(listener, "SELECT 5");
        CHECK(r.value(0, 0) == "5");

        // Only one waiter at a time.
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                pg::notification n2;
                pg::diagnostics d2;
                (void)co_await listener.async_receive_notification(n2, d2, 200ms);
            },
            asio::detached);
        co_await sleep_for(10ms);
        const auto awaited_3 = co_await listener.async_receive_notification(n, diag, 10ms);
        CHECK(awaited_3 == pg::errc::operation_in_progress);
        co_await sleep_for(300ms);
    }());
}
