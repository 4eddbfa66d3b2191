#pragma once

#include "bridge/analyze_trigger.hpp"
#include "bridge/engine_config.hpp"
#include "core/lifecycle.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>

// What the engine's parts (provisioning, loads, polls, the stream, control) share: the one
// executor, the configuration, the Salesforce client, the process's stop, and the count of
// tombstones written since their table's last ANALYZE (bridge/analyze_trigger).
namespace sfbridge::bridge {

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
};

} // namespace sfbridge::bridge
