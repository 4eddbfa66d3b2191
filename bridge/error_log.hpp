#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/table_writer.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

namespace sfbridge::bridge {

// A change that could not be applied: logged, counted in the mapping's stats and kept in
// _sfbridge_errors (the payload cut to 100,000 characters) on the given writer's session.
boost::asio::awaitable<void> record_error(table_writer& w, mapping_runtime& m,
                                          const std::string& channel, std::int64_t replay_id,
                                          const std::string& message, const std::string& payload);

} // namespace sfbridge::bridge
