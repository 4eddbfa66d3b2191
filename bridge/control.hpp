#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "core/backoff.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

// The control plane while sfbridge runs: `sfbridge reload` requests (a look at _sfbridge_state
// every 2 s rather than LISTEN: a listening session is woken by every NOTIFY in the database,
// which at a few hundred notifications a second measurably lengthened the stream's tail
// latency), each reload run while the rest streams on, an ANALYZE after every load, and one of
// the tombstone table whenever it has grown enough (bridge/analyze_trigger).
namespace sfbridge::bridge {

class control {
public:
    // `spawn` starts a loop the engine tracks (named, awaited at shutdown).
    using spawner = std::function<void(std::string name, boost::asio::awaitable<void> loop)>;
    control(const sync_context& ctx, std::vector<std::unique_ptr<mapping_runtime>>& maps,
            spawner spawn);

    boost::asio::awaitable<void> run();
    // Loads the mapping on `w` (opened again when lost) until a load succeeds, the stop, or
    // `attempts` failed attempts (0: no limit), retrying with backoff from `first_retry`; then
    // an ANALYZE when rows were written. Each failure is recorded (state `failing`, the
    // attempt count, the error). True when the mapping is loaded.
    boost::asio::awaitable<bool> load(mapping_runtime& m, table_writer& w,
                                      std::chrono::milliseconds first_retry, int attempts = 0);
    // Loads the mapping again on a session of its own.
    boost::asio::awaitable<void> reload(mapping_runtime& m);
    // Fresh statistics for the app's queries (and the merges) at once, instead of whenever
    // autovacuum gets to the new rows. On a connection of its own, so that streaming and
    // polling start while it runs (a third of a second for a million rows here).
    boost::asio::awaitable<void> analyze(mapping_runtime& m);

private:
    // The tombstones' statistics on the control session: the rows the last ANALYZE saw (read
    // once per session, and after each ANALYZE run here), and an ANALYZE when it is due.
    boost::asio::awaitable<void> tombstone_statistics(pg::connection& conn, bool& baseline_read);
    boost::asio::awaitable<void> schema_reload(pg::connection& conn);
    boost::asio::awaitable<void> failed_attempt(mapping_runtime& m, table_writer& w,
                                                std::string error);

    const sync_context& ctx_;
    std::vector<std::unique_ptr<mapping_runtime>>& maps_;
    spawner spawn_;
    bool schema_reload_asked_ = false;
    // After a failed ANALYZE of the tombstones, the next try waits (2 s, doubling to 5 min).
    backoff analyze_delays_{{std::chrono::seconds(2), std::chrono::minutes(5)}};
    std::chrono::steady_clock::time_point next_analyze_{};
};

} // namespace sfbridge::bridge
