// Faults of the server and the network. These restart the shared test cluster or cut traffic,
// so CTest runs them alone (RUN_SERIAL).
#include "test/support/pg_env.hpp"
#include "test/support/tcp_gate.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdlib>

using namespace sfbridge;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using clk = std::chrono::steady_clock;

namespace {

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// pg_ctl for the throwaway cluster, set by ./scripts/test (e.g. "runuser -u postgres --
// /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/x/data -l /tmp/x/log").
std::string pg_ctl() {
    const char* v = std::getenv("SFBRIDGE_TEST_PG_CTL");
    if (!v || !*v)
        FAIL("SFBRIDGE_TEST_PG_CTL is not set: run the suite through ./scripts/test");
    return v;
}

// Keeps trying to connect until the server is back (or 60 s pass).
asio::awaitable<void> reconnect(pg::connection& c) {
    pg::diagnostics diag;
    const auto until = clk::now() + 60s;
    while (clk::now() < until) {
        if (!co_await c.async_connect(test::pg_dsn(), diag, 2s))
            co_return;
        co_await sleep_for(100ms);
    }
    FAIL("the server did not come back: " << diag.summary());
}

asio::awaitable<int> backend_count_of(pg::connection& admin, int pid) {
    auto r = co_await test::must_query(
        admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pg::params(pid));
    co_return std::stoi(std::string(r.value(0, 0)));
}

} // namespace

TEST_CASE("a killed backend is reported as connection_lost at once whether idle or busy",
          "[pg][fault]") {
    asio::io_context io;
    test::reactor_ready(io);
    const auto fds_before = test::open_fds();
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::connection admin(io.get_executor()), idle(io.get_executor()),
            listening(io.get_executor()), busy(io.get_executor());
        co_await test::must_connect(admin);
        co_await test::must_connect(idle);
        co_await test::must_connect(listening);
        co_await test::must_connect(busy);
        co_await test::must_exec(listening, "LISTEN fault_chan");

        // The listener waits with no deadline: only the loss can end the wait.
        boost::system::error_code listen_ec;
        clk::time_point listen_failed_at{};
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                pg::notification n;
                pg::diagnostics d;
                listen_ec = co_await listening.async_receive_notification(n, d);
                listen_failed_at = clk::now();
            },
            asio::detached);
        boost::system::error_code busy_ec;
        clk::time_point busy_failed_at{};
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                pg::diagnostics d;
                pg::result r;
                busy_ec = co_await busy.async_query("SELECT pg_sleep(60)", r, d);
                busy_failed_at = clk::now();
            },
            asio::detached);
        co_await sleep_for(100ms);

        const auto killed_at = clk::now();
        (void)co_await test::must_query(
            admin, "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid",
            pg::params("{" + std::to_string(idle.backend_pid()) + "," +
                       std::to_string(listening.backend_pid()) + "," +
                       std::to_string(busy.backend_pid()) + "}"));
        for (int i = 0; i < 500 && (!listen_ec || !busy_ec); ++i)
            co_await sleep_for(10ms);

        CHECK(listen_ec == pg::condition::connection_lost);
        CHECK(listen_failed_at - killed_at < 2s);
        CHECK(busy_ec == pg::condition::connection_lost);
        CHECK(busy_failed_at - killed_at < 2s);
        CHECK(busy.is_broken());

        pg::diagnostics diag;
        pg::result r;
        const auto start = clk::now();
        auto ec = co_await idle.async_query("SELECT 1", r, diag);
        CHECK(ec == pg::condition::connection_lost);
        CHECK(clk::now() - start < 2s);
        INFO(diag.summary());
        CHECK_FALSE(diag.message.empty());

        // A new connection works at once.
        co_await test::must_connect(idle);
        auto ok = co_await test::must_query(idle, "SELECT 1");
        CHECK(ok.value(0, 0) == "1");
        const auto awaited_1 = co_await backend_count_of(admin, busy.backend_pid());
        CHECK(awaited_1 == 0);
    }());
    CHECK(test::open_fds() == fds_before);
}

TEST_CASE("a server restart mid-use is detected promptly and a new connection works",
          "[pg][fault]") {
    asio::io_context io;
    test::reactor_ready(io);
    const auto fds_before = test::open_fds();
    test::run(io, [&]() -> asio::awaitable<void> {
        pg::connection worker(io.get_executor()), listener(io.get_executor());
        co_await test::must_connect(worker);
        co_await test::must_connect(listener);
        co_await test::must_exec(listener, "LISTEN restart_chan");

        boost::system::error_code listen_ec;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                pg::notification n;
                pg::diagnostics d;
                listen_ec = co_await listener.async_receive_notification(n, d);
            },
            asio::detached);

        // Restart in the background while the worker keeps querying.
        const std::string cmd = pg_ctl() + " restart -m fast -w >/dev/null 2>&1 &";
        REQUIRE(std::system(cmd.c_str()) == 0);
        const auto restarted_at = clk::now();
        boost::system::error_code worker_ec;
        int ok_queries = 0;
        while (clk::now() - restarted_at < 30s) {
            pg::diagnostics d;
            pg::result r;
            worker_ec = co_await worker.async_query("SELECT 1", r, d);
            if (worker_ec)
                break;
            ++ok_queries;
            co_await sleep_for(5ms);
        }
        CHECK(worker_ec == pg::condition::connection_lost);
        CHECK(clk::now() - restarted_at < 10s);
        for (int i = 0; i < 200 && !listen_ec; ++i)
            co_await sleep_for(10ms);
        CHECK(listen_ec == pg::condition::connection_lost);

        co_await reconnect(worker);
        auto r = co_await test::must_query(worker, "SELECT 42");
        CHECK(r.value(0, 0) == "42");
        worker.close();
        listener.close();
    }());
    CHECK(test::open_fds() == fds_before);
}

TEST_CASE("a network cut ends an operation at its deadline and a reset at once", "[pg][fault]") {
    asio::io_context io;
    test::reactor_ready(io);
    const auto fds_before = test::open_fds();
    {
        // Find the server's port from the DSN by asking the server itself.
        std::string port;
        test::run(io, [&]() -> asio::awaitable<void> {
            pg::connection c(io.get_executor());
            co_await test::must_connect(c);
            auto r = co_await test::must_query(c, "SELECT current_setting('port')");
            port = std::string(r.value(0, 0));
        }());
        test::tcp_gate gate(io, static_cast<std::uint16_t>(std::stoi(port)));
        const std::string via_gate =
            test::pg_dsn_with("host=127.0.0.1 sslmode=disable port=" + std::to_string(gate.port()));

        test::run(io, [&]() -> asio::awaitable<void> {
            pg::connection c(io.get_executor());
            pg::diagnostics diag;
            const auto awaited_2 = co_await c.async_connect(via_gate, diag);
            REQUIRE_FALSE(awaited_2);
            (void)co_await test::must_query(c, "SELECT 1");

            gate.set_blackhole(true);
            c.set_timeout(500ms);
            pg::result r;
            const auto start = clk::now();
            auto ec = co_await c.async_query("SELECT 1", r, diag);
            const auto took = clk::now() - start;
            CHECK(ec == pg::errc::timeout);
            CHECK(ec == pg::condition::connection_lost);
            CHECK(took < 3s);
            CHECK(c.is_broken());

            // Connecting through the cut times out too.
            ec = co_await c.async_connect(via_gate, diag, 500ms);
            CHECK(ec == pg::errc::timeout);

            gate.set_blackhole(false);
            const auto awaited_3 = co_await c.async_connect(via_gate, diag);
            REQUIRE_FALSE(awaited_3);
            (void)co_await test::must_query(c, "SELECT 1");

            // A reset (every connection dropped) is reported at once, not at the deadline.
            c.set_timeout(20s);
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    co_await sleep_for(100ms);
                    gate.drop_all();
                },
                asio::detached);
            const auto reset_start = clk::now();
            ec = co_await c.async_query("SELECT pg_sleep(10)", r, diag);
            CHECK(ec == pg::condition::connection_lost);
            CHECK(clk::now() - reset_start < 3s);
        }());
    }
    // Let the gate's aborted operations finish before counting descriptors.
    io.restart();
    io.poll();
    CHECK(test::open_fds() == fds_before);
}
