#pragma once

#include "mappings/filter.hpp"
#include "mappings/mapping_file.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// sfbridge's own mapping options: keys of a mapping's `config` (and of a field's options) that
// start with `sfbridge_`. Heroku Connect keeps keys it does not know through an import and an
// export, so they live in the same file. Pure: read and checked here, applied by resolve.
namespace sfbridge::mappings {

enum class delete_mode {
    hard, // Heroku Connect's: the row of a deleted record is removed
    soft, // the row stays, isdeleted = true and sfbridge_deleted_at set; an undelete clears them
};

struct mapping_options {
    // "sfbridge_stream": "cdc" streams the object's Change Data Capture channel instead of an
    // hc_ PushTopic.
    bool change_data_capture = false;
    // "sfbridge_read_only_fields": [...] on the mapping, or "sfbridge_write": false on a field:
    // synced into Postgres, never written back. API names as the file spells them.
    std::vector<std::string> read_only_fields;
    // "sfbridge_deletes": "hard" (the default) or "soft".
    delete_mode deletes = delete_mode::hard;
    // "sfbridge_filter": a SOQL condition only the records that match are synced by (parsed
    // here; resolve checks it against the mapped fields).
    std::optional<filter_node> filter;
    std::string filter_text; // as the file gives it
    // "sfbridge_refresh_seconds": N re-reads the mapping's formula and roll-up fields every N
    // seconds (their values change without SystemModstamp changing); 0: never.
    std::int64_t refresh_seconds = 0;
};

// Reads the sfbridge_ keys of `m`. Each error names the mapping and the key; an sfbridge_ key
// this version does not know is an error too (a misspelt option must not be silently ignored).
[[nodiscard]] mapping_options read_mapping_options(const mapping& m,
                                                   std::vector<std::string>& errors);

// The bounds of sfbridge_refresh_seconds: at least once a day, at most once a second.
inline constexpr std::int64_t min_refresh_seconds = 1;
inline constexpr std::int64_t max_refresh_seconds = 86400;

// The longest sfbridge_filter accepted, in characters.
inline constexpr std::size_t max_filter_length = 2000;

// The column a soft delete stamps with the record's deletion time.
inline constexpr const char* deleted_at_column = "sfbridge_deleted_at";

} // namespace sfbridge::mappings
