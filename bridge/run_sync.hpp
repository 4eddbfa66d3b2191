#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace sfbridge::bridge {

// Runs one coroutine to completion on `io` (a command's whole life); rethrows what it threw.
// Returns as soon as the task is done, even if other work (a signal wait) is still pending.
// Called again on the same context, it runs the next task.
template <class T>
T run_sync(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
    std::optional<T> result;
    std::exception_ptr error;
    io.restart(); // a context an earlier run_sync stopped runs again
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e)
            result = std::move(v);
        io.stop();
    });
    io.run();
    if (error)
        std::rethrow_exception(error);
    return std::move(*result);
}

} // namespace sfbridge::bridge
