#pragma once

#include "mappings/resolve.hpp"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The Postgres objects of a Heroku Connect schema, generated as SQL scripts. The shapes follow
// heroku-connect.md 1.1 to 1.9 exactly (names, columns, index names, trigger functions and
// their behaviour), so an existing Heroku Connect schema, a dump of one, and an app's custom
// triggers keep working. Every script is idempotent and runs in one transaction under an
// advisory lock, so a second sfbridge (or a parallel test) cannot race the first. Pure.
namespace sfbridge::mappings::ddl {

// The version of sfbridge's own objects, stored per mapping in _sfbridge_state.
inline constexpr int schema_version = 1;

// A schema name sfbridge accepts: a letter or underscore, then letters, digits, underscores
// (it appears inside function bodies and NOTIFY channel names, so nothing else is allowed).
[[nodiscard]] bool is_valid_schema_name(std::string_view schema) noexcept;

// hstore, public.get_xmlbinary(), the schema, _trigger_log and _trigger_log_archive with their
// indexes, the notify trigger, the capture helpers, _hcmeta and _sf_event_log, and sfbridge's
// _sfbridge_state and _sfbridge_errors tables.
[[nodiscard]] std::string setup_schema(std::string_view schema);

// The columns of a mapping's table besides Heroku Connect's own (id, _hc_lastop, _hc_err), with
// their types: each mapped field's, each reference column's, and sfbridge_deleted_at with soft
// deletes. What ensure_table creates or adds, and what `mappings plan` compares with.
[[nodiscard]] std::vector<std::pair<std::string, std::string>>
mapped_columns(const resolved_mapping& m);

// The table of a mapping: created when `existing_columns` is empty, else the missing columns
// are added (existing data stays; columns of fields no longer mapped are kept, not dropped).
// Then the indexes and the status and logger triggers (the logger logs NEW for read-write
// mappings, READONLY for read-only ones).
[[nodiscard]] std::string ensure_table(std::string_view schema, const resolved_mapping& m,
                                       const std::vector<std::string>& existing_columns);

// Returns the columns of a table: parameters $1 schema, $2 table; per row the column_name,
// for varchar columns their length (0 for other types), and the data_type (information_schema's
// spelling: "character varying", "double precision", "timestamp without time zone", ...).
[[nodiscard]] std::string_view existing_columns_query() noexcept;

// ALTER statements that widen the varchar columns narrower than their field now is (a field
// made longer in Salesforce: its longer values would be refused). `lengths`: column -> the
// existing varchar length (0: not a varchar). Empty when nothing is narrower. Widening a
// varchar is a change of the catalog only: no rewrite, no long lock.
[[nodiscard]] std::string widen_columns(std::string_view schema, const resolved_mapping& m,
                                        const std::map<std::string, int>& lengths);

// Fields whose type changed in Salesforce (issue 20; `retyped` names their columns, known from
// the types kept at the last start, so that a column an admin retyped on purpose is left
// alone): where the column can follow, the ALTER statement that makes it follow (to text from
// anything; between number types; between date and datetime); where it cannot (text to number,
// say: existing values would not convert), the field is named in `skipped` with a message, and
// is to be synced without until someone alters or drops the column. Length changes are
// widen_columns'.
struct existing_column {
    std::string data_type;
    int length = 0;
};
struct type_plan {
    // Column, statement; an empty statement: the column has the new type already.
    std::vector<std::pair<std::string, std::string>> alters;
    std::vector<std::string> skipped; // API names
    std::vector<std::string> messages;
};
[[nodiscard]] type_plan follow_types(std::string_view schema, const resolved_mapping& m,
                                     const std::map<std::string, existing_column>& existing,
                                     const std::vector<std::string>& retyped);

// The NOTIFY channel of the schema's trigger log: "<schema>.hc_trigger_log".
[[nodiscard]] std::string trigger_log_channel(std::string_view schema);
// Heroku Connect's two triggers on a mapped table (unquoted): the one that sets _hc_lastop and
// the one that logs the app's writes into _trigger_log.
[[nodiscard]] std::string status_trigger_name(std::string_view table);
[[nodiscard]] std::string log_trigger_name(std::string_view table);

// A SQL string literal ('it''s').
[[nodiscard]] std::string quote_literal(std::string_view value);

} // namespace sfbridge::mappings::ddl
