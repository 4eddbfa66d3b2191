#pragma once

#include <optional>
#include <string>
#include <string_view>

// Rows in COPY's text format (tab-separated, \N for NULL, newline-terminated), built into a
// buffer that the caller hands to connection::async_copy_write in chunks.
namespace sfbridge::pg::copy_text {

// Appends one field, escaped, preceded by a tab unless it starts the row.
void append_field(std::string& out, std::string_view value, bool first_in_row);
void append_null(std::string& out, bool first_in_row);
inline void append_optional(std::string& out, const std::optional<std::string_view>& value,
                            bool first_in_row) {
    if (value)
        append_field(out, *value, first_in_row);
    else
        append_null(out, first_in_row);
}
inline void end_row(std::string& out) {
    out.push_back('\n');
}

} // namespace sfbridge::pg::copy_text
