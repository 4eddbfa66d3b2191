#include "bridge/load_batch.hpp"

#include "mappings/values.hpp"
#include "pg/copy_text.hpp"

#include <algorithm>

namespace sfbridge::bridge {

load_batch::load_batch(const mappings::resolved_mapping& m)
    : m_(&m), columns_(m), values_(m.fields.size()), scratch_(m.fields.size()) {
    for (const auto& f : m.fields)
        classes_.push_back(mappings::classify(f.sf.info));
}

void load_batch::clear() noexcept {
    text_.clear();
    records_ = 0;
}

void load_batch::start_row() {
    std::fill(values_.begin(), values_.end(), std::nullopt);
}

bool load_batch::convert(std::size_t column, mappings::sf_value_kind kind, std::string_view raw,
                         row_issue& issue) {
    std::string message;
    const auto c = mappings::to_postgres(m_->fields[column].sf.info, classes_[column], kind, raw,
                                         scratch_[column], values_[column], message);
    return note_conversion(c, message, issue);
}

row_outcome load_batch::end_row(const char* missing_id, row_issue& issue) {
    if (!values_[columns_.sfid()] || !values_[columns_.modstamp()]) {
        issue.message = missing_id;
        return row_outcome::refused;
    }
    const auto outcome = issue.message.empty() ? row_outcome::added : row_outcome::altered;
    ++records_;
    if (const auto d = columns_.isdeleted(); d && values_[*d] == "t")
        return outcome; // in the recycle bin: not a row of the table
    for (std::size_t c = 0; c < values_.size(); ++c)
        pg::copy_text::append_optional(text_, values_[c], c == 0);
    // _hc_lastop: what Heroku Connect's status trigger sets for its own writes, written here
    // so that the row is right however the load runs (with the triggers off or on).
    text_.append("\tSYNCED");
    pg::copy_text::end_row(text_);
    return outcome;
}

row_outcome load_batch::add_csv_row(const std::vector<std::string>& header,
                                    const salesforce::csv_rows& rows, std::size_t r,
                                    row_issue& issue) {
    const auto& cols = columns_.of_header(header);
    issue.message.clear();
    start_row();
    auto outcome = row_outcome::added;
    for (std::size_t i = 0; i < cols.size() && i < rows.width(r); ++i) {
        const auto text = rows.field(r, i);
        // Salesforce has no empty strings: an empty field, quoted or not, is NULL.
        if (cols[i] >= 0 && !text.empty() &&
            !convert(static_cast<std::size_t>(cols[i]), mappings::sf_value_kind::csv, text,
                     issue)) {
            outcome = row_outcome::refused;
            break;
        }
    }
    if (outcome != row_outcome::refused)
        outcome = end_row("a Bulk API row has no Id or SystemModstamp", issue);
    // Only then: a load reads millions of rows, and most have nothing to say.
    if (outcome != row_outcome::added)
        issue.sfid = storable_sfid(columns_.id_of(cols, rows, r));
    return outcome;
}

row_outcome load_batch::add_record(const salesforce::flat_record& r, row_issue& issue) {
    issue.message.clear();
    start_row();
    auto outcome = row_outcome::added;
    for (const auto& f : r.fields) {
        const auto col = columns_.find(f.name);
        if (col && !convert(*col, f.kind, f.raw, issue)) {
            outcome = row_outcome::refused;
            break;
        }
    }
    if (outcome != row_outcome::refused)
        outcome = end_row("a record has no Id or SystemModstamp", issue);
    if (outcome != row_outcome::added)
        issue.sfid = storable_sfid(columns_.id_of(r));
    return outcome;
}

} // namespace sfbridge::bridge
