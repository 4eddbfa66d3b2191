#pragma once

#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "mappings/resolve.hpp"

#include <boost/asio/awaitable.hpp>

// A value longer than its varchar column (SQLSTATE 22001): the field may have grown in
// Salesforce since sfbridge started (at start, provisioning widens from the describe it read).
// The object's describe is read again and the mapping's varchar columns narrower than their
// field now is are widened (mappings::ddl::widen_columns). True when a column was widened, so
// that the refused write is worth one more try.
namespace sfbridge::bridge {

boost::asio::awaitable<bool> widen_after_refusal(const sync_context& ctx, table_writer& w,
                                                 const mappings::resolved_mapping& m);

} // namespace sfbridge::bridge
