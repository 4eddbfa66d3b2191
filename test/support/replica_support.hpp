#pragma once

// Replicas in one test (issue 19): more engines on the harness's io_context and database.
#include "test/support/bridge_harness.hpp"

#include <boost/asio/co_spawn.hpp>

#include <utility>

namespace sfbridge::test {

// A second engine on the harness's io_context and database: another replica.
struct replica {
    harness& h;
    std::unique_ptr<bridge::engine> engine;
    bool running = false;

    explicit replica(harness& owner) : h(owner) {}
    replica(const replica&) = delete;
    replica& operator=(const replica&) = delete;
    // As harness::~harness: never destroyed under its own loops.
    ~replica() {
        if (!engine || !running || h.f.io.stopped())
            return;
        engine->stop();
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (running && std::chrono::steady_clock::now() < until)
            h.f.io.run_one_for(std::chrono::milliseconds(100));
        if (running)
            (void)engine.release();
    }

    asio::awaitable<void> start(bridge::engine_config c) {
        engine = std::make_unique<bridge::engine>(h.f.io.get_executor(), std::move(c));
        std::string error;
        const bool ok = co_await engine->start(error);
        INFO(error);
        REQUIRE(ok);
        running = true;
        asio::co_spawn(h.f.io, engine->run(), [this](std::exception_ptr) { running = false; });
    }
    asio::awaitable<void> stop() {
        engine->stop();
        for (int i = 0; i < 3000 && running; ++i)
            co_await sleep_ms(10);
        REQUIRE_FALSE(running);
    }
};

// The same settings for replicas "replica-a" and "replica-b".
inline std::pair<bridge::engine_config, bridge::engine_config>
two_replicas(harness& h, const std::string& json) {
    auto a = h.config(json);
    auto b = a;
    a.replica_id = "replica-a";
    b.replica_id = "replica-b";
    return {a, b};
}

inline std::size_t led_here(const bridge::engine& e) {
    std::size_t n = 0;
    for (const auto& m : e.snapshot().mappings)
        n += m.led_here ? 1 : 0;
    return n;
}

// Waits until the engine syncs `n` mappings (its leadership is in the state rows first).
inline asio::awaitable<bool> leads_soon(const bridge::engine& e, std::size_t n) {
    for (int i = 0; i < 600; ++i) {
        if (led_here(e) == n)
            co_return true;
        co_await sleep_ms(50);
    }
    UNSCOPED_INFO("the replica syncs " << led_here(e) << " mappings, not " << n);
    co_return false;
}

} // namespace sfbridge::test
