#include "core/lifecycle.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace sfbridge {

namespace asio = boost::asio;

stop_source::stop_source(asio::any_io_executor ex) : ex_(ex), changed_(ex) {
    changed_.expires_at(asio::steady_timer::time_point::max());
}

void stop_source::stop() {
    if (stopping_)
        return;
    stopping_ = true;
    // A callback may end registrations (its own or others'): walk the ids, not the map.
    std::vector<std::uint64_t> ids;
    for (const auto& [id, f] : callbacks_)
        ids.push_back(id);
    for (auto id : ids)
        if (auto it = callbacks_.find(id); it != callbacks_.end()) {
            auto f = it->second; // the registration may go while it runs
            f();
        }
    changed();
}

stop_source::registration& stop_source::registration::operator=(registration&& o) noexcept {
    if (this != &o) {
        reset();
        owner_ = o.owner_;
        id_ = o.id_;
        o.owner_ = nullptr;
    }
    return *this;
}

void stop_source::registration::reset() noexcept {
    if (owner_)
        owner_->callbacks_.erase(id_);
    owner_ = nullptr;
}

stop_source::registration stop_source::on_stop(std::function<void()> f) {
    if (stopping_) {
        f();
        return {};
    }
    const auto id = next_id_++;
    callbacks_.emplace(id, std::move(f));
    return registration(this, id);
}

asio::awaitable<bool> stop_source::sleep(std::chrono::milliseconds d) {
    if (stopping_)
        co_return false;
    asio::steady_timer timer(ex_, d);
    asio::cancellation_signal signal;
    auto reg = on_stop([&signal] { signal.emit(asio::cancellation_type::terminal); });
    boost::system::error_code ec;
    co_await timer.async_wait(
        asio::bind_cancellation_slot(signal.slot(), asio::redirect_error(asio::use_awaitable, ec)));
    co_return !ec && !stopping_;
}

stop_source::loop_guard stop_source::enter(std::string name) {
    const auto id = next_id_++;
    loops_.emplace(id, std::move(name));
    return loop_guard(this, id);
}

stop_source::loop_guard::~loop_guard() {
    if (!owner_)
        return;
    owner_->loops_.erase(id_);
    owner_->changed();
}

std::string stop_source::running() const {
    std::string out;
    for (const auto& [id, name] : loops_)
        out += (out.empty() ? "" : ", ") + name;
    return out;
}

void stop_source::changed() {
    changed_.cancel();
}

asio::awaitable<void> stop_source::wait_stopped() {
    while (!stopping_ || !loops_.empty()) {
        // The timer never expires (set in the constructor; re-arming here would cancel the
        // waits of other waiters): changed() cancels it to wake every waiter.
        boost::system::error_code ec;
        co_await changed_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

async_flag::async_flag(asio::any_io_executor ex) : timer_(ex) {
    timer_.expires_at(asio::steady_timer::time_point::max());
}

void async_flag::set() {
    set_ = true;
    timer_.cancel();
}

asio::awaitable<void> async_flag::wait() {
    while (!set_) {
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

} // namespace sfbridge
