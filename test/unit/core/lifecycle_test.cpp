#include "core/lifecycle.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <chrono>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sfbridge::async_flag;
using sfbridge::stop_source;

TEST_CASE("stop ends every sleep at once", "[unit][lifecycle]") {
    asio::io_context io;
    stop_source stop(io.get_executor());
    int ended = 0, slept_through = 0;
    for (int i = 0; i < 3; ++i)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                if (co_await stop.sleep(std::chrono::hours(1)))
                    ++slept_through;
                ++ended;
            },
            asio::detached);
    const auto t0 = std::chrono::steady_clock::now();
    io.poll(); // the three sleeps are waiting
    CHECK(ended == 0);
    stop.stop();
    io.run();
    CHECK(ended == 3);
    CHECK(slept_through == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::minutes(10));
    // After the stop a sleep returns at once.
    bool whole = true;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { whole = co_await stop.sleep(1h); }, asio::detached);
    io.restart();
    io.run();
    CHECK_FALSE(whole);
}

TEST_CASE("a sleep that is not stopped runs its whole time", "[unit][lifecycle]") {
    asio::io_context io;
    stop_source stop(io.get_executor());
    bool whole = false;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { whole = co_await stop.sleep(1ms); }, asio::detached);
    io.run();
    CHECK(whole);
}

TEST_CASE("stop callbacks run once, and not after their registration ends", "[unit][lifecycle]") {
    asio::io_context io;
    stop_source stop(io.get_executor());
    int a = 0, b = 0;
    auto ra = stop.on_stop([&] { ++a; });
    {
        auto rb = stop.on_stop([&] { ++b; });
    }
    auto moved = std::move(ra);
    stop.stop();
    stop.stop();
    CHECK(a == 1);
    CHECK(b == 0);
    int late = 0;
    auto rl = stop.on_stop([&] { ++late; }); // registered after the stop: runs at once
    CHECK(late == 1);
}

TEST_CASE("wait_stopped returns once stopped and every loop has left", "[unit][lifecycle]") {
    asio::io_context io;
    stop_source stop(io.get_executor());
    bool done = false;
    auto first = std::make_unique<stop_source::loop_guard>(stop.enter("stream"));
    auto second = std::make_unique<stop_source::loop_guard>(stop.enter("poll Account"));
    CHECK(stop.running() == "stream, poll Account");
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await stop.wait_stopped();
            done = true;
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await stop.wait_stopped(); // a second waiter does not disturb the first
        },
        asio::detached);
    io.poll();
    first.reset(); // a loop leaving before the stop does not end the wait
    io.poll();
    CHECK_FALSE(done);
    stop.stop();
    io.poll();
    CHECK_FALSE(done);
    CHECK(stop.running() == "poll Account");
    second.reset();
    io.run();
    CHECK(done);
    CHECK(stop.running_count() == 0);
}

TEST_CASE("an async_flag wakes its waiter when set", "[unit][lifecycle]") {
    asio::io_context io;
    async_flag flag(io.get_executor());
    bool woke = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await flag.wait();
            woke = true;
        },
        asio::detached);
    io.poll();
    CHECK_FALSE(woke);
    flag.set();
    io.run();
    CHECK(woke);
    CHECK(flag.is_set());
}
