#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/sync_context.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

// Salesforce's clock, as its Date header shows it. SystemModstamp is Salesforce's time, so the
// high-water marks a poll or a load leaves are in Salesforce's time too: a local clock running
// ahead by more than the poll overlap would otherwise start the next poll past changes it never
// fetched (issue 15).
namespace sfbridge::bridge {

// Pure: how far Salesforce's clock is from ours, from a Date header read at `local_ms`. The
// header has whole seconds and is read after it was written, so the estimate is low by up to a
// second plus the trip: marks fall a little earlier than Salesforce's now, never later.
[[nodiscard]] std::optional<std::int64_t> clock_offset(std::int64_t local_ms,
                                                       std::string_view date_header);
// Pure: whether an offset is worth a warning (over 10 s either way).
[[nodiscard]] bool skew_worth_warning(std::int64_t offset_ms) noexcept;

// Measures the offset for `m` (GET /services/data, which needs no session and which Salesforce
// does not count) unless measured in the last 10 minutes; warns once per process when it is
// worth it. A failed measure keeps the last offset (0 at first) and is tried again next time.
boost::asio::awaitable<void> measure_clock(const sync_context& ctx, mapping_runtime& m);

// Salesforce's time now, as last measured for `m`.
[[nodiscard]] std::int64_t salesforce_now(const mapping_runtime& m) noexcept;

} // namespace sfbridge::bridge
