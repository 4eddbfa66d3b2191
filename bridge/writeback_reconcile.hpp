#pragma once

#include "bridge/trigger_log.hpp"
#include "bridge/writeback_plan.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <set>
#include <string>
#include <vector>

// Creates whose answer was lost (writeback_entry::unknown), before anything is sent again: an
// insert with an upsert value simply goes again as that upsert (idempotent); the others are
// looked for in Salesforce (reconcile_plan.hpp). A record found is adopted: the entry succeeds
// with its sfid, written back like a create's. An entry whose record is not found goes on as a
// plain create. Runs inside the write-back's insert transaction (trigger_log).
namespace sfbridge::bridge {

// The record Salesforce holds for each of these creates whose answer was lost, or "" (none
// found, or nothing to recognise it by, which is logged). `batch_sfids`: records the batch
// holds already (created and answered, not yet recorded), never adopted. An error when
// Salesforce or Postgres could not be asked. `wide`: also the second look at records the app
// changed since (reconcile_plan.hpp), for adopting, not for deleting. `deleted`: which of the
// records found are in the recycle bin.
boost::asio::awaitable<boost::system::error_code>
find_lost_creates(salesforce::rest_client& rest, trigger_log& log,
                  const mappings::resolved_mapping& m, const std::vector<writeback_entry*>& es,
                  const std::set<std::string>& batch_sfids, std::vector<std::string>& found,
                  std::set<std::string>& deleted, bool wide = true);

// An error when Salesforce or Postgres could not be asked; the unknown entries then stay
// pending, unsent, for the next attempt.
boost::asio::awaitable<boost::system::error_code>
reconcile_creates(salesforce::rest_client& rest, trigger_log& log,
                  const mappings::resolved_mapping& m, const std::vector<writeback_entry*>& es,
                  const std::set<std::string>& batch_sfids);

} // namespace sfbridge::bridge
