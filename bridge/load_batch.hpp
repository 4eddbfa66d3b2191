#pragma once

#include "bridge/record_columns.hpp"
#include "bridge/row_outcome.hpp"
#include "mappings/resolve.hpp"
#include "mappings/values.hpp"
#include "salesforce/csv_reader.hpp"
#include "salesforce/records.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Rows of an initial load into an empty table, converted straight to COPY text: each record
// becomes one line in the table's column order, with no per-record bookkeeping. A query returns
// each record once, so nothing is de-duplicated (were a record there twice, the COPY would
// fail on the sfid index and the next attempt, into a table no longer empty, merges). A
// record that arrives deleted is not loaded. Sans-io.
namespace sfbridge::bridge {

class load_batch {
public:
    explicit load_batch(const mappings::resolved_mapping& m);

    // Row r of a Bulk API results page; `header` holds the columns' API names. Refused
    // (`issue` naming the field) when a value does not fit its column or the row has no Id or
    // SystemModstamp, and the batch is then as it was; altered when a value was changed to fit
    // (`issue` says how, and has the record's Id unless it was added as it came).
    row_outcome add_csv_row(const std::vector<std::string>& header,
                            const salesforce::csv_rows& rows, std::size_t r, row_issue& issue);
    // A record from a REST query page; the same rules.
    row_outcome add_record(const salesforce::flat_record& r, row_issue& issue);

    // Records added (a deleted one counts, though it writes no line).
    [[nodiscard]] std::size_t size() const noexcept { return records_; }
    [[nodiscard]] bool empty() const noexcept { return records_ == 0; }
    void clear() noexcept;

    // The rows in COPY text format: the mapping's columns in order, then _hc_lastop.
    [[nodiscard]] std::string_view copy_text() const noexcept { return text_; }
    [[nodiscard]] const mappings::resolved_mapping& mapping() const noexcept { return *m_; }

private:
    void start_row();
    bool convert(std::size_t column, mappings::sf_value_kind kind, std::string_view raw,
                 row_issue& issue);
    row_outcome end_row(const char* missing_id, row_issue& issue);

    const mappings::resolved_mapping* m_;
    record_columns columns_;
    std::string text_;
    std::size_t records_ = 0;
    // Per column: how its values convert, and the row being converted (views of the input or
    // of the column's scratch buffer, reused so that a value costs no allocation).
    std::vector<mappings::value_class> classes_;
    std::vector<std::optional<std::string_view>> values_;
    std::vector<std::string> scratch_;
};

} // namespace sfbridge::bridge
