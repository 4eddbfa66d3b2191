#pragma once

#include "bridge/analyze_trigger.hpp"
#include "bridge/engine_config.hpp"
#include "core/lifecycle.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

// What the engine's parts (provisioning, loads, polls, the stream, control) share: the one
// executor, the configuration, the Salesforce client, the process's stop, and the count of
// tombstones written since their table's last ANALYZE (bridge/analyze_trigger).
namespace sfbridge::bridge {

class writer_pool;

// Every Postgres statement has a deadline (pg::connection's, 30 s). Statements over a whole
// table or set that cannot be cut in chunks (clearing a reload's seen set, ANALYZE) get this
// one instead: long enough for tens of millions of rows, short of hanging for good.
inline constexpr std::chrono::milliseconds long_statement_deadline{std::chrono::minutes(10)};

struct sync_context {
    boost::asio::any_io_executor ex;
    const engine_config& cfg;
    salesforce::rest_client& rest;
    stop_source& stop;
    analyze_trigger& tombstones;
    // The mappings this replica leads, with their epochs (bridge/leadership); null: no
    // replicas (a mapping never led has epoch 0).
    const std::map<std::string, std::int64_t>* epochs = nullptr;
    // Told when Postgres refused a write for a stale epoch: another replica leads the mapping.
    std::function<void()> fenced;
    // The sessions pollers, loads, reloads and ANALYZEs borrow (bridge/writer_pool).
    writer_pool* pool = nullptr;
    // Told when a mapped field is gone from Salesforce or changed its type while running (a
    // query refused with INVALID_FIELD, confirmed by the describe): sfbridge starts again in
    // place, and the new start syncs without it (bridge/schema_change).
    std::function<void(const std::string& what)> schema_changed;

    [[nodiscard]] std::int64_t epoch_of(const std::string& object) const {
        if (!epochs)
            return 0;
        const auto it = epochs->find(object);
        return it == epochs->end() ? 0 : it->second;
    }
};

} // namespace sfbridge::bridge
