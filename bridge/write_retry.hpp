#pragma once

#include "bridge/row_outcome.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"

#include <boost/asio/awaitable.hpp>

#include <vector>

namespace sfbridge::bridge {

// Applies a batch, reopening the session and retrying with backoff while the failure is
// transient (bridge/write_failure: anything but a refused row). A refused row comes back at
// once, with `diag`, for the caller to decide. Stopping: three more tries at most. A session
// opened here, or by anyone, writes nothing until its owner has confirmed its positions
// (write_errc::positions_unsure, see table_writer::positions_unsure).
boost::asio::awaitable<boost::system::error_code>
apply_with_retry(const sync_context& ctx, table_writer& w, const change_batch& b,
                 const position_update& p, pg::diagnostics& diag);

// Applies a batch as apply_with_retry does, but a refused row fails alone: the batch is split
// in halves until each refused record is by itself; those are left out and added to `refused`
// (sfid, SystemModstamp and Postgres' reason), and the rest commits, the position with the last
// part. An error comes back only when it is transient and the stop cut the retries short.
boost::asio::awaitable<boost::system::error_code>
apply_isolating(const sync_context& ctx, table_writer& w, const change_batch& b,
                const position_update& p, std::vector<row_issue>& refused);

} // namespace sfbridge::bridge
