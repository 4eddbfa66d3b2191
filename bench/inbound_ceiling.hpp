#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <string>
#include <vector>

// The inbound benchmark's ceiling: sfbridge's own write path without Salesforce.
namespace sfbridge::bench {

// The Contact fields the benchmark maps.
const std::vector<std::string>& inbound_fields();

// `changes` changes (30% creates, 60% updates, 10% deletes) written with sfbridge's own write
// path (COPY into staging, one merge per batch of 5,000, the tombstones analyzed as sfbridge
// does) into a table of `existing` rows set up as sfbridge's own is before it streams: loaded
// by COPY, analyzed, vacuumed, checkpointed. Changes per second.
boost::asio::awaitable<double> ceiling(boost::asio::io_context& io, const std::string& dsn,
                                       long changes, std::size_t existing);

} // namespace sfbridge::bench
