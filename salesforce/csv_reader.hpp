#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

// An incremental RFC 4180 CSV reader for Bulk API 2.0 results: input arrives in chunks of any
// size (a field or a quoted newline may straddle two), rows come out whole. Quoted fields may
// hold commas, quotes ("") and CR/LF; LF and CRLF both end a row. Sans-io: feed bytes, take rows.
namespace sfbridge::salesforce {

struct csv_field {
    std::string text;
    bool quoted = false; // Bulk API writes NULL as an empty unquoted field
};

class csv_reader {
public:
    explicit csv_reader(char delimiter = ',') : delim_(delimiter) {}

    // Consumes a chunk; calls on_row(const std::vector<csv_field>&) for each completed row.
    // Returns false (with error()) on malformed input, e.g. a quote inside an unquoted field.
    template <class OnRow>
    bool feed(std::string_view chunk, OnRow&& on_row) {
        for (char c : chunk) {
            if (!step(c))
                return false;
            if (row_done_) {
                row_done_ = false;
                on_row(static_cast<const std::vector<csv_field>&>(row_));
                row_.clear();
            }
        }
        return true;
    }
    // Ends the input; a last row without a newline is delivered. False if a quote is open.
    template <class OnRow>
    bool finish(OnRow&& on_row) {
        if (state_ == state::quoted) {
            error_ = "the CSV ends inside a quoted field";
            return false;
        }
        if (state_ != state::row_start && state_ != state::after_cr) {
            end_field();
            on_row(static_cast<const std::vector<csv_field>&>(row_));
            row_.clear();
        }
        state_ = state::row_start;
        return true;
    }

    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    [[nodiscard]] std::size_t rows_read() const noexcept { return rows_; }

private:
    enum class state { row_start, field_start, unquoted, quoted, quote_in_quoted, after_cr };
    bool step(char c);
    void end_field();
    void end_row();

    char delim_;
    state state_ = state::row_start;
    std::vector<csv_field> row_;
    csv_field field_;
    bool row_done_ = false;
    std::size_t rows_ = 0;
    std::string error_;
};

} // namespace sfbridge::salesforce
