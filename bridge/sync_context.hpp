#pragma once

#include "bridge/engine_config.hpp"
#include "core/lifecycle.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/any_io_executor.hpp>

// What the engine's parts (provisioning, loads, polls, the stream, control) share: the one
// executor, the configuration, the Salesforce client and the process's stop.
namespace sfbridge::bridge {

struct sync_context {
    boost::asio::any_io_executor ex;
    const engine_config& cfg;
    salesforce::rest_client& rest;
    stop_source& stop;
};

} // namespace sfbridge::bridge
