#pragma once

#include "mappings/resolve.hpp"

#include <string>
#include <string_view>

// The SQL that applies a change_batch: a temporary staging table per mapping (created once per
// session), COPY into it, and one merge that enforces the rule of the inbound sync:
//  - a row is only replaced by a version with an equal or newer SystemModstamp;
//  - a delete removes the row unless the row is newer, and leaves a tombstone so that an older
//    update arriving later (a replayed event, an overlapping poll) cannot bring it back;
//  - a newer upsert (an undelete) clears the tombstone.
// Pure.
namespace sfbridge::bridge::merge_sql {

[[nodiscard]] std::string stage_table(const mappings::resolved_mapping& m);
[[nodiscard]] std::string create_stage(const mappings::resolved_mapping& m);
[[nodiscard]] std::string copy_into_stage(const mappings::resolved_mapping& m);
// COPY straight into the mapping's table: for the initial load of an empty table, where every
// row is new and unique (no merge needed).
[[nodiscard]] std::string copy_into_table(std::string_view schema,
                                          const mappings::resolved_mapping& m);
// Runs after the COPY, in the same transaction.
[[nodiscard]] std::string merge(std::string_view schema, const mappings::resolved_mapping& m);
// The same merge as one statement over a VALUES list of `rows` rows (parameters: _op, then the
// mapping's columns, per row), for small batches: no staging table, one plan. Not for
// mappings with an upsert field (their link step must run first, as its own statement).
[[nodiscard]] std::string merge_values(std::string_view schema, const mappings::resolved_mapping& m,
                                       std::size_t rows);

} // namespace sfbridge::bridge::merge_sql
