#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>

// SIGTERM and SIGINT for `sfbridge run`, read from a signalfd rather than caught by a handler.
// Both are blocked in every thread of the process (block() runs before any thread exists, and
// threads inherit the mask), so one that is not read stays pending, and a pending signal
// survives exec: a signal that comes while a restart replaces the process image
// (bridge/restart) is read by the new image, never lost. (A handler, as asio::signal_set
// installs, runs in whichever thread has the signal unblocked, such as a resolver's, and what it
// caught after the last wait was cancelled would go with the old image.)
namespace sfbridge::bridge {

class stop_signals {
public:
    // Blocks both in the calling thread; call before any thread is started.
    static void block();

    explicit stop_signals(boost::asio::any_io_executor ex);
    // Calls `on_signal` with the signal's number for each one read, until cancel().
    void start(std::function<void(int)> on_signal);
    // Reads no more: later signals stay pending (for a new image).
    void cancel();

private:
    void read_next();
    boost::asio::posix::stream_descriptor fd_;
    std::function<void(int)> on_signal_;
    bool cancelled_ = false;
};

} // namespace sfbridge::bridge
