#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/table_writer.hpp"
#include "mappings/ddl.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

// At start, the mapping's fields Salesforce retyped since the last start (issue 20), known
// from the types kept in _sfbridge_state.field_types: each column follows where its values
// convert (mappings::ddl::follow_types); where they do not, or Postgres refuses the ALTER, the
// field is synced without and named, as a field gone from the describe is (the log, /status,
// _sfbridge_errors). A skipped field the mapping cannot do without (its upsert field, one its
// row filter reads) stops the start with an error naming it.
namespace sfbridge::bridge {

struct followed_schema {
    // Retyped columns that followed: their values are Postgres's casts of the old ones until
    // back-filled.
    std::vector<std::string> columns;
    std::string field_types; // to keep in _sfbridge_state
};

boost::asio::awaitable<bool>
follow_schema(table_writer& w, const std::string& schema, mapping_runtime& m,
              const std::map<std::string, mappings::ddl::existing_column>& existing,
              std::string_view stored_types, followed_schema& out, std::string& error);

} // namespace sfbridge::bridge
