#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/row_outcome.hpp"
#include "bridge/table_writer.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

namespace sfbridge::bridge {

// A change that could not be applied as sent: logged, counted in the mapping's stats and kept
// in _sfbridge_errors (the payload cut to 100,000 bytes) on the given writer's session. The
// message and payload are stored as safe text (a NUL or a byte that is not UTF-8 would make
// Postgres refuse the row, or the parameter layer throw). A record's issue is kept once: the
// same message about the same sfid again (an overlapping poll, the stream and then a poll) is
// not stored twice.
boost::asio::awaitable<void> record_error(table_writer& w, mapping_runtime& m,
                                          const std::string& channel, std::int64_t replay_id,
                                          const row_issue& issue, const std::string& payload);
// The same without a record: an event that cannot be read, say.
boost::asio::awaitable<void> record_error(table_writer& w, mapping_runtime& m,
                                          const std::string& channel, std::int64_t replay_id,
                                          const std::string& message, const std::string& payload);

} // namespace sfbridge::bridge
