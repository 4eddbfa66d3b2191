#include "bridge/writer_pool.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;

struct writer_pool::waiter {
    explicit waiter(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    table_writer* got = nullptr;
};

writer_pool::writer_pool(asio::any_io_executor ex, std::string schema, std::size_t size)
    : ex_(std::move(ex)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(size, 1); ++i) {
        writers_.push_back(std::make_unique<table_writer>(ex_, schema));
        writers_.back()->set_durable(true);
        free_.push_back(writers_.back().get());
    }
}

writer_pool::~writer_pool() {
    close();
}

writer_pool::lease& writer_pool::lease::operator=(lease&& o) noexcept {
    if (this != &o) {
        reset();
        pool_ = o.pool_;
        w_ = o.w_;
        o.w_ = nullptr;
    }
    return *this;
}

void writer_pool::lease::reset() noexcept {
    if (w_ && pool_)
        pool_->give_back(w_);
    w_ = nullptr;
}

void writer_pool::give_back(table_writer* w) noexcept {
    // A session left inside a transaction (a failed statement of a caller that gave up) is
    // not lent out like that: the next user reopens it.
    if (w->is_open() && (w->connection().in_copy() || w->connection().in_transaction()))
        w->connection().close();
    if (waiters_.empty()) {
        free_.push_back(w);
        return;
    }
    waiter* next = waiters_.front();
    waiters_.pop_front();
    next->got = w;
    next->timer.cancel();
}

writer_pool::lease writer_pool::try_acquire() {
    if (free_.empty())
        return {};
    auto* w = free_.back();
    free_.pop_back();
    return {this, w};
}

asio::awaitable<writer_pool::lease> writer_pool::acquire(stop_source& stop) {
    if (!free_.empty() || stop.stopping())
        co_return try_acquire();
    waiter me(ex_);
    me.timer.expires_at(asio::steady_timer::time_point::max());
    waiters_.push_back(&me);
    auto wake = stop.on_stop([&me] { me.timer.cancel(); });
    boost::system::error_code ignore;
    co_await me.timer.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
    std::erase(waiters_, &me); // still queued when the stop woke it
    if (!me.got)
        co_return lease();
    co_return lease(this, me.got);
}

std::size_t writer_pool::open_sessions() const noexcept {
    return static_cast<std::size_t>(std::count_if(writers_.begin(), writers_.end(),
                                                  [](const auto& w) { return w->is_open(); }));
}

void writer_pool::close() noexcept {
    for (auto& w : writers_)
        w->connection().close();
}

} // namespace sfbridge::bridge
