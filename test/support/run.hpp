#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <optional>

// Never write `co_await` inside a Catch2 assertion (CHECK(co_await f())): Catch's macros end in
// `while ((false) && !!(expr))`, and GCC 12 runs the awaited operation a second time there.
// Await into a variable, then assert on it (scripts/check-test-asserts enforces this).
namespace sfbridge::test {

// Runs one coroutine on the io_context until it finishes and returns its value. A test that
// does not finish within `limit` fails instead of hanging the suite.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> task,
      std::chrono::seconds limit = std::chrono::seconds(120)) {
    std::optional<T> value;
    std::exception_ptr error;
    bool done = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e)
            value.emplace(std::move(v));
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!done && std::chrono::steady_clock::now() < deadline) {
        if (io.run_one_for(std::chrono::milliseconds(100)) == 0 && io.stopped())
            io.restart();
    }
    if (!done) {
        // Leave the abandoned coroutine suspended: resuming it later would touch the test's
        // locals after they are gone.
        io.stop();
        FAIL("the test coroutine did not finish within " << limit.count() << " s");
    }
    if (error)
        std::rethrow_exception(error);
    return std::move(*value);
}

inline void run(boost::asio::io_context& io, boost::asio::awaitable<void> task,
                std::chrono::seconds limit = std::chrono::seconds(120)) {
    auto wrapper = [](boost::asio::awaitable<void> t) -> boost::asio::awaitable<int> {
        co_await std::move(t);
        co_return 0;
    };
    (void)run(io, wrapper(std::move(task)), limit);
}

} // namespace sfbridge::test
