#include "salesforce/csv_reader.hpp"

#include <cstring>
#include <limits>

namespace sfbridge::salesforce {

void csv_reader::end_field(csv_rows& out) {
    out.fields_.push_back({static_cast<std::uint32_t>(out.text_.size()), quoted_});
    quoted_ = false;
}

void csv_reader::end_row(csv_rows& out) {
    end_field(out);
    out.row_ends_.push_back(static_cast<std::uint32_t>(out.fields_.size()));
    ++rows_;
}

bool csv_reader::fail(std::string message) {
    error_ = std::move(message);
    return false;
}

bool csv_reader::feed(std::string_view chunk, csv_rows& out) {
    // Offsets are 32-bit: a page (Bulk API pages are a few megabytes) cannot reach 4 GiB.
    if (out.text_.size() + chunk.size() > std::numeric_limits<std::uint32_t>::max() ||
        out.fields_.size() + chunk.size() > std::numeric_limits<std::uint32_t>::max())
        return fail("a CSV page of 4 GiB or more");
    const char* p = chunk.data();
    const char* const end = p + chunk.size();
    // Text runs are found by scanning and appended whole; only the characters that end or
    // quote a field go through the state machine.
    while (p < end) {
        switch (state_) {
        case state::after_cr:
            state_ = state::row_start;
            if (*p == '\n') { // CRLF: the row already ended at CR
                ++p;
                continue;
            }
            [[fallthrough]];
        case state::row_start:
        case state::field_start:
            if (*p == '"') {
                quoted_ = true;
                state_ = state::quoted;
                ++p;
            } else {
                state_ = state::unquoted; // delimiters and line ends are handled there
            }
            continue;
        case state::unquoted: {
            const char* q = p;
            while (q < end && *q != delim_ && *q != '\n' && *q != '\r' && *q != '"')
                ++q;
            out.text_.append(p, q);
            p = q;
            if (p == end)
                return true;
            const char c = *p++;
            if (c == '"')
                return fail("a quote inside an unquoted CSV field (row " +
                            std::to_string(rows_ + 1) + ")");
            if (c == delim_) {
                end_field(out);
                state_ = state::field_start;
            } else {
                end_row(out);
                state_ = c == '\r' ? state::after_cr : state::row_start;
            }
            continue;
        }
        case state::quoted: {
            const auto* q =
                static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
            if (!q) {
                out.text_.append(p, end);
                return true;
            }
            out.text_.append(p, q);
            p = q + 1;
            state_ = state::quote_in_quoted;
            continue;
        }
        case state::quote_in_quoted: {
            const char c = *p++;
            if (c == '"') {
                out.text_.push_back('"');
                state_ = state::quoted;
            } else if (c == delim_) {
                end_field(out);
                state_ = state::field_start;
            } else if (c == '\n' || c == '\r') {
                end_row(out);
                state_ = c == '\r' ? state::after_cr : state::row_start;
            } else {
                return fail("text after a closing quote in CSV row " + std::to_string(rows_ + 1));
            }
            continue;
        }
        }
    }
    return true;
}

bool csv_reader::finish(csv_rows& out) {
    if (state_ == state::quoted)
        return fail("the CSV ends inside a quoted field");
    if (state_ != state::row_start && state_ != state::after_cr)
        end_row(out);
    state_ = state::row_start;
    return true;
}

} // namespace sfbridge::salesforce
