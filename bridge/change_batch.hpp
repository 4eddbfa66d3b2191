#pragma once

#include "bridge/record_columns.hpp"
#include "bridge/row_outcome.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/csv_reader.hpp"
#include "salesforce/records.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// Changes of one mapping on their way into Postgres: upserts (a whole record) and deletes (an
// id and the time of the delete), converted to the columns' Postgres text, de-duplicated by
// sfid so that only the newest version of each record is written (a later change with an equal
// SystemModstamp wins, as a replayed stream is in commit order). Sans-io: it produces the COPY
// text the writer sends.
namespace sfbridge::bridge {

class change_batch {
public:
    explicit change_batch(const mappings::resolved_mapping& m);

    // A whole record from REST or a streaming event. Refused (`issue` naming the field) when a
    // value does not fit its column or the record has no Id / SystemModstamp; altered when a
    // value was changed to fit (`issue` says how). `issue` carries the record's Id either way.
    row_outcome add_record(const salesforce::flat_record& r, row_issue& issue);
    // Row r of a Bulk API results page; `header` holds the columns' API names.
    row_outcome add_csv_row(const std::vector<std::string>& header,
                            const salesforce::csv_rows& rows, std::size_t r, row_issue& issue);
    // A delete at `when` (Postgres timestamp text, UTC).
    void add_delete(std::string_view sfid, std::string_view when);
    // A record that no longer matches the mapping's row filter since its change at `when`: its
    // row goes, as for a delete, but never kept as a soft delete (the record was not deleted).
    void add_leave(std::string_view sfid, std::string_view when);
    // The same from a record of a query for Id and SystemModstamp; false when either is
    // missing or unreadable (nothing added).
    bool add_delete_of(const salesforce::flat_record& r) { return removal_of('d', r); }
    bool add_leave_of(const salesforce::flat_record& r) { return removal_of('x', r); }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    [[nodiscard]] std::size_t upserts() const noexcept;
    [[nodiscard]] std::size_t deletes() const noexcept { return entries_.size() - upserts(); }
    // The newest SystemModstamp in the batch (Postgres text), empty when none.
    [[nodiscard]] const std::string& newest_modstamp() const noexcept { return newest_; }
    void clear();

    // Entries [from, to) as a batch of their own: a batch Postgres refuses is split to find the
    // record it refuses.
    [[nodiscard]] change_batch part(std::size_t from, std::size_t to) const;
    // Entry i's sfid and SystemModstamp (Postgres text).
    [[nodiscard]] const std::string& sfid(std::size_t i) const {
        return *entries_[i].values[sfid_col_];
    }
    [[nodiscard]] std::string modstamp(std::size_t i) const {
        return entries_[i].values[modstamp_col_].value_or(std::string());
    }

    // The rows in COPY text format, in the staging table's column order (_op, then the
    // mapping's columns).
    void copy_text(std::string& out) const;

    [[nodiscard]] const mappings::resolved_mapping& mapping() const noexcept { return *m_; }

    // Each row in order: f(char op, const std::vector<std::optional<std::string>>& values).
    template <class F>
    void visit(F&& f) const {
        for (const auto& e : entries_)
            f(e.op, e.values);
    }

private:
    struct entry {
        char op = 'u';
        std::vector<std::optional<std::string>> values; // per mapped column
    };
    void put(entry e);
    void add_removal(char op, std::string_view sfid, std::string_view when);
    bool removal_of(char op, const salesforce::flat_record& r);
    bool convert(std::size_t col, mappings::sf_value_kind kind, std::string_view raw, entry& e,
                 row_issue& issue) const;
    row_outcome finish(entry e, const char* missing, row_issue& issue);

    const mappings::resolved_mapping* m_;
    record_columns columns_;
    std::size_t sfid_col_ = 0;
    std::size_t modstamp_col_ = 0;
    std::optional<std::size_t> isdeleted_col_;
    std::vector<entry> entries_;
    std::unordered_map<std::string, std::size_t> by_sfid_;
    std::string newest_;
};

} // namespace sfbridge::bridge
