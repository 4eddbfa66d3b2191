#pragma once

#include "bridge/engine_config.hpp"
#include "bridge/mapping_runtime.hpp"
#include "bridge/table_writer.hpp"
#include "mappings/mapping_file.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <vector>

// Everything a misconfiguration breaks, checked and put in place before anything syncs: the
// mappings against the org's describes, the schema, each mapping's table and state row, and the
// channels (hc_ PushTopics, CDC channels). Used by `sfbridge run` and `mappings import`, and (the
// describe-and-resolve step alone) by `mappings validate`.
namespace sfbridge::bridge {

struct resolution {
    std::vector<mappings::resolved_mapping> mappings;
    std::vector<std::string> errors;   // mapping problems: every one of them, for one message
    std::vector<std::string> warnings; // logged or printed; nothing stops
    std::string failed_object;         // whose describe failed (when one did)
};

// Describes every mapped object and resolves its mapping. An object Salesforce does not know
// (404) is a mapping error in `out.errors`; any other failed describe (the network, a refused
// session) is returned, with `diag` saying why, as nothing can be concluded from it. Sets each
// mapping's daily API budget on the client unless only validating (`set_budgets` false).
boost::asio::awaitable<boost::system::error_code>
describe_and_resolve(salesforce::rest_client& rest, const mappings::mapping_file& file,
                     resolution& out, salesforce::diagnostics& diag, bool set_budgets = true);

// The schema, every mapping's table (created or migrated) and state row (replay id and
// high-water marks read back into the runtime; a changed column set or a reload asked for
// makes the mapping load again). False with one message in `error`.
boost::asio::awaitable<bool> prepare_tables(table_writer& w, const engine_config& cfg,
                                            std::vector<std::unique_ptr<mapping_runtime>>& maps,
                                            std::string& error);

// The led mappings' load state and positions, read back when a replica starts leading them.
boost::asio::awaitable<bool> read_lead_state(table_writer& w, const engine_config& cfg,
                                             std::vector<std::unique_ptr<mapping_runtime>>& maps,
                                             std::string& error);

// hc_ PushTopics for the mappings streamed that way, CDC channels for the others; each
// streamed runtime gets its channel.
boost::asio::awaitable<bool> provision_channels(salesforce::rest_client& rest,
                                                const std::string& schema,
                                                std::vector<std::unique_ptr<mapping_runtime>>& maps,
                                                std::string& error);

} // namespace sfbridge::bridge
