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
                         std::string& error) {
    if (!mappings::to_postgres(m_->fields[column].sf.info, classes_[column], kind, raw,
                               scratch_[column], values_[column], error)) {
        error = "field " + error;
        return false;
    }
    return true;
}

bool load_batch::end_row(const char* missing_id, std::string& error) {
    if (!values_[columns_.sfid()] || !values_[columns_.modstamp()]) {
        error = missing_id;
        return false;
    }
    ++records_;
    if (const auto d = columns_.isdeleted(); d && values_[*d] == "t")
        return true; // in the recycle bin: not a row of the table
    for (std::size_t c = 0; c < values_.size(); ++c)
        pg::copy_text::append_optional(text_, values_[c], c == 0);
    // _hc_lastop: what Heroku Connect's status trigger sets for its own writes, written here
    // so that the row is right however the load runs (with the triggers off or on).
    text_.append("\tSYNCED");
    pg::copy_text::end_row(text_);
    return true;
}

bool load_batch::add_csv_row(const std::vector<std::string>& header,
                             const salesforce::csv_rows& rows, std::size_t r, std::string& error) {
    const auto& cols = columns_.of_header(header);
    start_row();
    for (std::size_t i = 0; i < cols.size() && i < rows.width(r); ++i) {
        const auto text = rows.field(r, i);
        // Salesforce has no empty strings: an empty field, quoted or not, is NULL.
        if (cols[i] >= 0 && !text.empty() &&
            !convert(static_cast<std::size_t>(cols[i]), mappings::sf_value_kind::csv, text, error))
            return false;
    }
    return end_row("a Bulk API row has no Id or SystemModstamp", error);
}

bool load_batch::add_record(const salesforce::flat_record& r, std::string& error) {
    start_row();
    for (const auto& f : r.fields) {
        const auto col = columns_.find(f.name);
        if (col && !convert(*col, f.kind, f.raw, error))
            return false;
    }
    return end_row("a record has no Id or SystemModstamp", error);
}

} // namespace sfbridge::bridge
