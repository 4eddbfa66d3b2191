#pragma once

// Replicas in one test (issue 19): more engines on the harness's io_context and database.
#include "test/support/writeback_support.hpp"

#include <boost/asio/co_spawn.hpp>

#include <memory>
#include <utility>

namespace sfbridge::test {

// A second engine on the harness's io_context and database: another replica.
struct replica {
    harness& h;
    std::unique_ptr<bridge::engine> engine;
    // Shared with run()'s completion, which may come after this replica is gone (an engine that
    // did not stop in time is left to the harness's io_context).
    std::shared_ptr<bool> running = std::make_shared<bool>(false);

    explicit replica(harness& owner) : h(owner) {}
    replica(const replica&) = delete;
    replica& operator=(const replica&) = delete;
    // As harness::~harness: never destroyed under its own loops.
    ~replica() {
        if (!engine || !*running || h.f.io.stopped())
            return;
        engine->stop();
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (*running && std::chrono::steady_clock::now() < until)
            h.f.io.run_one_for(std::chrono::milliseconds(100));
        if (*running)
            (void)engine.release();
    }

    asio::awaitable<void> start(bridge::engine_config c) {
        engine = std::make_unique<bridge::engine>(h.f.io.get_executor(), std::move(c));
        std::string error;
        const bool ok = co_await engine->start(error);
        INFO(error);
        REQUIRE(ok);
        *running = true;
        asio::co_spawn(h.f.io, engine->run(), [r = running](std::exception_ptr) { *r = false; });
    }
    asio::awaitable<void> stop() {
        engine->stop();
        for (int i = 0; i < 3000 && *running; ++i)
            co_await sleep_ms(10);
        REQUIRE_FALSE(*running);
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

// The app's writes in a failover test: `n` rows named app-1..app-n, each third one followed by
// a second version of the row before it ("app-<i> v2"); `at(i)` runs after row i.
template <class F>
asio::awaitable<void> app_burst(pg::connection& app, const std::string& table, int n, F at) {
    for (int i = 1; i <= n; ++i) {
        co_await must_exec(app, "INSERT INTO " + table + " (lastname) VALUES ('app-" +
                                    std::to_string(i) + "')");
        if (i % 3 == 0)
            co_await must_exec(app, "UPDATE " + table + " SET lastname = 'app-" +
                                        std::to_string(i - 1) + " v2' WHERE lastname = 'app-" +
                                        std::to_string(i - 1) + "'");
        co_await at(i);
    }
}

// After app_burst(n): nothing waits in the trigger log, the table equals sfsim, each app row is
// one record in Salesforce with its last version, and no sfid is in two rows.
inline asio::awaitable<void> app_burst_synced(harness& h, pg::connection& app,
                                              const std::string& table, int n) {
    bool ok = co_await eventually(
        app, "SELECT count(*) FROM " + h.schema + "._trigger_log WHERE state <> 'SUCCESS'", "0",
        120);
    CHECK(ok);
    ok = co_await converged(h, app, "Contact", "LastName", 120);
    CHECK(ok);
    const std::vector<std::string> fields{"LastName"};
    const auto records = co_await sim_rows(h, "Contact", fields);
    std::map<std::string, int> app_records;
    for (const auto& [id, row] : records)
        if (row.rfind("LastName=app-", 0) == 0)
            ++app_records[row];
    CHECK(app_records.size() == static_cast<std::size_t>(n));
    for (const auto& [row, count] : app_records) {
        INFO(row);
        CHECK(count == 1);
    }
    auto v2 = co_await must_query(app, "SELECT count(*) FROM " + table +
                                           " WHERE lastname LIKE 'app-% v2'");
    CHECK(v2.value(0, 0) == std::to_string(n / 3));
    auto dup = co_await must_query(app, "SELECT count(*) - count(DISTINCT sfid) FROM " + table);
    CHECK(dup.value(0, 0) == "0");
}

// Waits until exactly one of the two engines leads the mapping.
inline asio::awaitable<bool> one_leads(const bridge::engine& a, const bridge::engine& b) {
    for (int i = 0; i < 600; ++i) {
        if (led_here(a) + led_here(b) == 1)
            co_return true;
        co_await sleep_ms(50);
    }
    co_return false;
}

} // namespace sfbridge::test
