#pragma once

#include "bridge/table_writer.hpp"
#include "core/lifecycle.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

// The Postgres sessions a replica's pollers, loads, reloads and ANALYZEs share (issue 19:
// `--pg-connections`): a fixed number of table_writers, each opened when first used and kept
// open, lent out one at a time. So a replica's connections do not grow with its mappings: two
// hundred pollers take turns on a few sessions (a poll holds one only while it polls). The
// stream's writer, control's session, the write-back's LISTEN session and the lock session are
// not in it (engine_config::pg_connections counts the first two).
//
// Pooled sessions commit with synchronous_commit on: what a mapping committed on a session
// that was later lost is durable, so no other mapping using the session after a reconnect can
// hold positions ahead of the database (see table_writer::positions_unsure).
namespace sfbridge::bridge {

class writer_pool {
public:
    writer_pool(boost::asio::any_io_executor ex, std::string schema, std::size_t size);
    ~writer_pool();
    writer_pool(const writer_pool&) = delete;
    writer_pool& operator=(const writer_pool&) = delete;

    // A writer lent out; given back when destroyed or reset. Empty when the wait was stopped.
    class lease {
    public:
        lease() = default;
        lease(lease&& o) noexcept : pool_(o.pool_), w_(o.w_) { o.w_ = nullptr; }
        lease& operator=(lease&& o) noexcept;
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease() { reset(); }
        void reset() noexcept;
        explicit operator bool() const noexcept { return w_ != nullptr; }
        table_writer& operator*() const noexcept { return *w_; }
        table_writer* operator->() const noexcept { return w_; }

    private:
        friend class writer_pool;
        lease(writer_pool* p, table_writer* w) : pool_(p), w_(w) {}
        writer_pool* pool_ = nullptr;
        table_writer* w_ = nullptr;
    };

    // Waits, first come first served, until a writer is free; an empty lease if `stop` stops
    // first.
    boost::asio::awaitable<lease> acquire(stop_source& stop);
    // A free writer now, or an empty lease.
    [[nodiscard]] lease try_acquire();

    [[nodiscard]] std::size_t size() const noexcept { return writers_.size(); }
    [[nodiscard]] std::size_t in_use() const noexcept { return writers_.size() - free_.size(); }
    [[nodiscard]] std::size_t waiting() const noexcept { return waiters_.size(); }
    // Sessions open now (for tests and metrics).
    [[nodiscard]] std::size_t open_sessions() const noexcept;
    // Closes every session (the process stops; nothing may be lent out).
    void close() noexcept;

private:
    struct waiter;
    void give_back(table_writer* w) noexcept;

    boost::asio::any_io_executor ex_;
    std::vector<std::unique_ptr<table_writer>> writers_;
    std::vector<table_writer*> free_;
    std::deque<waiter*> waiters_;
};

} // namespace sfbridge::bridge
