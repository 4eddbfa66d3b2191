#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

// How a single-threaded process stops: one stop_source, whose stop() ends every wait registered
// with it at once (Asio cancellation, no polling of a flag), and a loop_guard per running loop so
// that the owner can wait, without a busy-wait, until every loop has wound down.
namespace sfbridge {

class stop_source {
public:
    explicit stop_source(boost::asio::any_io_executor ex);
    stop_source(const stop_source&) = delete;
    stop_source& operator=(const stop_source&) = delete;

    // Requests the stop: runs every registered callback once (in registration order) and
    // cancels every sleep. Later calls do nothing.
    void stop();
    [[nodiscard]] bool stopping() const noexcept { return stopping_; }

    // A callback run by stop() while the registration lives (at once if stop() already ran):
    // how components with their own stop (a CometD client, a notification wait) are wired in.
    class registration {
    public:
        registration() = default;
        registration(registration&& o) noexcept : owner_(o.owner_), id_(o.id_) {
            o.owner_ = nullptr;
        }
        registration& operator=(registration&& o) noexcept;
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;
        ~registration() { reset(); }
        void reset() noexcept;

    private:
        friend class stop_source;
        registration(stop_source* owner, std::uint64_t id) : owner_(owner), id_(id) {}
        stop_source* owner_ = nullptr;
        std::uint64_t id_ = 0;
    };
    [[nodiscard]] registration on_stop(std::function<void()> f);

    // Waits for `d`, or less if stop() comes first. True when the whole time passed.
    boost::asio::awaitable<bool> sleep(std::chrono::milliseconds d);

    // Marks a loop as running for as long as it lives (named, for the shutdown message).
    class loop_guard {
    public:
        loop_guard(loop_guard&& o) noexcept : owner_(o.owner_), id_(o.id_) { o.owner_ = nullptr; }
        loop_guard(const loop_guard&) = delete;
        loop_guard& operator=(const loop_guard&) = delete;
        loop_guard& operator=(loop_guard&&) = delete;
        ~loop_guard();

    private:
        friend class stop_source;
        loop_guard(stop_source* owner, std::uint64_t id) : owner_(owner), id_(id) {}
        stop_source* owner_;
        std::uint64_t id_;
    };
    [[nodiscard]] loop_guard enter(std::string name);
    [[nodiscard]] std::size_t running_count() const noexcept { return loops_.size(); }
    // The loops still running, comma separated (for the shutdown deadline's message).
    [[nodiscard]] std::string running() const;
    // Returns once stop() has been called and no loop is running.
    boost::asio::awaitable<void> wait_stopped();

private:
    void changed(); // wakes wait_stopped

    boost::asio::any_io_executor ex_;
    bool stopping_ = false;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::function<void()>> callbacks_;
    std::map<std::uint64_t, std::string> loops_;
    boost::asio::steady_timer changed_;
};

// A one-shot event a coroutine can wait for (a spawned task's completion, say).
class async_flag {
public:
    explicit async_flag(boost::asio::any_io_executor ex);
    void set();
    [[nodiscard]] bool is_set() const noexcept { return set_; }
    boost::asio::awaitable<void> wait();

private:
    bool set_ = false;
    boost::asio::steady_timer timer_;
};

} // namespace sfbridge
