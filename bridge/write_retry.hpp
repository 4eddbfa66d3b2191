#pragma once

#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"

#include <boost/asio/awaitable.hpp>

namespace sfbridge::bridge {

// Applies a batch, reopening the session and retrying with backoff while the failure is
// transient (the connection lost, a retryable condition). What Postgres refuses for the data
// itself comes back at once, for the caller to decide. Stopping: three more tries at most.
boost::asio::awaitable<boost::system::error_code> apply_with_retry(const sync_context& ctx,
                                                                   table_writer& w,
                                                                   const change_batch& b,
                                                                   const position_update& p);

} // namespace sfbridge::bridge
