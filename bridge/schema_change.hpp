#pragma once

#include "mappings/resolve.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

// What a start does about a mapping whose fields changed since the table was loaded (issue 20),
// decided from the column signature kept in _sfbridge_state (state_sql::load_signature:
// "col,col,... [WHERE filter]"). Pure.
//  - fields added: their columns are added and back-filled (bridge/field_refresh), the table is
//    not loaded again and syncing goes on meanwhile;
//  - fields removed (from the file, or gone from Salesforce): their columns stay, no longer
//    synced;
//  - the row filter changed: the table loads again (rows that left it must go, rows that
//    entered it must come).
namespace sfbridge::bridge::schema_change {

struct signature_diff {
    bool reload = false;
    std::vector<std::string> added;
    std::vector<std::string> removed;
};

// `stored` empty: a mapping never synced (nothing to compare; it loads).
[[nodiscard]] signature_diff compare(std::string_view stored, std::string_view now);

// The columns still to back-fill after this start: those pending from an earlier start that are
// still mapped, then those added now, then `followed` (retyped columns whose values are
// Postgres's casts). None when the table loads again.
[[nodiscard]] std::vector<std::string>
backfill_after(const std::vector<std::string>& pending, const signature_diff& diff,
               const mappings::resolved_mapping& m, const std::vector<std::string>& followed = {});

// Mapped fields (of a running mapping) that the describe now lacks, hides, or gives another
// type: the mapping must start again to sync without them or follow them.
[[nodiscard]] std::vector<std::string> fields_changed(const mappings::resolved_mapping& running,
                                                      const mappings::object_describe& now);

// The Salesforce type of each mapped column, kept in _sfbridge_state.field_types
// ("column=type,..."), so that a start knows which fields Salesforce retyped since the last
// one. `keep` adds columns (skipped ones) with the type they had.
[[nodiscard]] std::string field_types(const mappings::resolved_mapping& m,
                                      const std::map<std::string, std::string>& keep = {});
[[nodiscard]] std::map<std::string, std::string> parse_field_types(std::string_view text);
// Mapped columns whose Salesforce type differs from the one kept (none kept: none).
[[nodiscard]] std::vector<std::string>
retyped_columns(const mappings::resolved_mapping& m,
                const std::map<std::string, std::string>& stored);

[[nodiscard]] std::string join_columns(const std::vector<std::string>& columns);
[[nodiscard]] std::vector<std::string> split_columns(std::string_view text);

} // namespace sfbridge::bridge::schema_change
