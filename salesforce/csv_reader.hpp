#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// An incremental RFC 4180 CSV reader for Bulk API 2.0 results: input arrives in chunks of any
// size (a field or a quoted newline may straddle two), rows come out whole. Quoted fields may
// hold commas, quotes ("") and CR/LF; LF and CRLF both end a row. Sans-io: feed bytes, read
// rows.
//
// Rows are kept in a csv_rows: the fields' unescaped text back to back in one buffer, and their
// end offsets. An initial load reads millions of rows; a string per field (the first version)
// made allocation the larger part of sfbridge's work during a load.
namespace sfbridge::salesforce {

class csv_rows {
public:
    // Complete rows (after drop_front).
    [[nodiscard]] std::size_t size() const noexcept { return row_ends_.size() - first_; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    // Fields in row r.
    [[nodiscard]] std::size_t width(std::size_t r) const noexcept {
        return row_end(r + first_) - row_begin(r + first_);
    }
    // Field i of row r, unescaped. Bulk API 2.0 writes NULL as an empty unquoted field.
    [[nodiscard]] std::string_view field(std::size_t r, std::size_t i) const noexcept {
        const std::size_t f = row_begin(r + first_) + i;
        const std::size_t begin = f == 0 ? 0 : fields_[f - 1].end;
        return std::string_view(text_).substr(begin, fields_[f].end - begin);
    }
    [[nodiscard]] bool quoted(std::size_t r, std::size_t i) const noexcept {
        return fields_[row_begin(r + first_) + i].quoted;
    }
    // Hides the first n complete rows (a page's header).
    void drop_front(std::size_t n) noexcept { first_ = std::min(first_ + n, row_ends_.size()); }
    // Empties the rows; the buffers keep their capacity for the next page.
    void clear() noexcept {
        text_.clear();
        fields_.clear();
        row_ends_.clear();
        first_ = 0;
    }

private:
    friend class csv_reader;
    struct field_ref {
        std::uint32_t end; // offset in text_ past the field's last byte
        bool quoted;
    };
    [[nodiscard]] std::size_t row_begin(std::size_t r) const noexcept {
        return r == 0 ? 0 : row_ends_[r - 1];
    }
    [[nodiscard]] std::size_t row_end(std::size_t r) const noexcept { return row_ends_[r]; }

    std::string text_;
    std::vector<field_ref> fields_;       // complete rows' fields, then the row being read
    std::vector<std::uint32_t> row_ends_; // index in fields_ past each complete row's last field
    std::size_t first_ = 0;
};

class csv_reader {
public:
    explicit csv_reader(char delimiter = ',') : delim_(delimiter) {}

    // Consumes a chunk, appending the rows it completes to `out`. Every chunk of one input
    // goes to the same `out` (a row begun in one chunk is finished in it by the next). Returns
    // false (with error()) on malformed input, e.g. a quote inside an unquoted field.
    bool feed(std::string_view chunk, csv_rows& out);
    // Ends the input; a last row without a newline is delivered. False if a quote is open.
    bool finish(csv_rows& out);

    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    [[nodiscard]] std::size_t rows_read() const noexcept { return rows_; }

private:
    enum class state { row_start, field_start, unquoted, quoted, quote_in_quoted, after_cr };
    void end_field(csv_rows& out);
    void end_row(csv_rows& out);
    bool fail(std::string message);

    char delim_;
    state state_ = state::row_start;
    bool quoted_ = false; // the field being read began with a quote
    std::size_t rows_ = 0;
    std::string error_;
};

} // namespace sfbridge::salesforce
