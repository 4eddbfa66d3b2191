#include "bridge/change_batch.hpp"

#include "mappings/values.hpp"
#include "pg/copy_text.hpp"

namespace sfbridge::bridge {

change_batch::change_batch(const mappings::resolved_mapping& m)
    : m_(&m), columns_(m), sfid_col_(columns_.sfid()), modstamp_col_(columns_.modstamp()),
      isdeleted_col_(columns_.isdeleted()) {}

std::size_t change_batch::upserts() const noexcept {
    std::size_t n = 0;
    for (const auto& e : entries_)
        n += e.op == 'u' ? 1 : 0;
    return n;
}

void change_batch::clear() {
    entries_.clear();
    by_sfid_.clear();
    newest_.clear();
}

void change_batch::put(entry e) {
    // A record that arrives deleted (a query page read after the record went to the recycle
    // bin, a queryAll) is a delete at its SystemModstamp, never an upsert: written as a row it
    // would bring the deleted record back.
    if (e.op == 'u' && isdeleted_col_ && e.values[*isdeleted_col_] == std::string("t")) {
        entry d;
        d.op = 'd';
        d.values.resize(e.values.size());
        d.values[sfid_col_] = std::move(e.values[sfid_col_]);
        d.values[modstamp_col_] = std::move(e.values[modstamp_col_]);
        e = std::move(d);
    }
    const std::string& sfid = *e.values[sfid_col_];
    const std::string& stamp = e.values[modstamp_col_] ? *e.values[modstamp_col_] : std::string();
    if (stamp > newest_)
        newest_ = stamp;
    auto it = by_sfid_.find(sfid);
    if (it == by_sfid_.end()) {
        by_sfid_.emplace(sfid, entries_.size());
        entries_.push_back(std::move(e));
        return;
    }
    // Timestamps are fixed-width text (YYYY-MM-DD HH:MM:SS.mmm), so text order is time order.
    entry& old = entries_[it->second];
    const std::string old_stamp =
        old.values[modstamp_col_] ? *old.values[modstamp_col_] : std::string();
    if (stamp >= old_stamp)
        old = std::move(e);
}

bool change_batch::convert(std::size_t col, mappings::sf_value_kind kind, std::string_view raw,
                           entry& e, row_issue& issue) const {
    std::string message;
    const auto c =
        mappings::to_postgres(m_->fields[col].sf.info, kind, raw, e.values[col], message);
    return note_conversion(c, message, issue);
}

row_outcome change_batch::finish(entry e, const char* missing, row_issue& issue) {
    if (!e.values[sfid_col_] || e.values[sfid_col_]->empty() || !e.values[modstamp_col_]) {
        issue.message = missing;
        return row_outcome::refused;
    }
    const bool altered = !issue.message.empty();
    put(std::move(e));
    return altered ? row_outcome::altered : row_outcome::added;
}

row_outcome change_batch::add_record(const salesforce::flat_record& r, row_issue& issue) {
    issue = {storable_sfid(columns_.id_of(r)), {}};
    entry e;
    e.values.resize(m_->fields.size());
    for (const auto& f : r.fields) {
        const auto col = columns_.find(f.name);
        // (a field the mapping does not hold is skipped)
        if (col && !convert(*col, f.kind, f.raw, e, issue))
            return row_outcome::refused;
    }
    return finish(std::move(e), "the record has no Id or SystemModstamp", issue);
}

row_outcome change_batch::add_csv_row(const std::vector<std::string>& header,
                                      const salesforce::csv_rows& rows, std::size_t r,
                                      row_issue& issue) {
    const auto& cols = columns_.of_header(header);
    issue = {storable_sfid(columns_.id_of(cols, rows, r)), {}};
    entry e;
    e.values.resize(m_->fields.size());
    for (std::size_t i = 0; i < cols.size() && i < rows.width(r); ++i) {
        const auto text = rows.field(r, i);
        // Salesforce has no empty strings: an empty field, quoted or not, is NULL.
        if (cols[i] >= 0 && !text.empty() &&
            !convert(static_cast<std::size_t>(cols[i]), mappings::sf_value_kind::csv, text, e,
                     issue))
            return row_outcome::refused;
    }
    return finish(std::move(e), "a Bulk API row has no Id or SystemModstamp", issue);
}

change_batch change_batch::part(std::size_t from, std::size_t to) const {
    change_batch out(*m_);
    for (std::size_t i = from; i < to && i < entries_.size(); ++i) {
        out.by_sfid_.emplace(*entries_[i].values[sfid_col_], out.entries_.size());
        out.entries_.push_back(entries_[i]);
        const auto stamp = modstamp(i);
        if (stamp > out.newest_)
            out.newest_ = stamp;
    }
    return out;
}

void change_batch::add_delete(std::string_view sfid, std::string_view when) {
    add_removal('d', sfid, when);
}

void change_batch::add_leave(std::string_view sfid, std::string_view when) {
    add_removal('x', sfid, when);
}

bool change_batch::removal_of(char op, const salesforce::flat_record& r) {
    const auto* id = r.get("Id");
    const auto* stamp = r.get("SystemModstamp");
    const auto* f = m_->field("SystemModstamp");
    std::optional<std::string> when;
    std::string error;
    if (!id || !stamp || !f ||
        mappings::to_postgres(f->sf.info, stamp->kind, stamp->raw, when, error) !=
            mappings::conversion::ok ||
        !when)
        return false;
    add_removal(op, id->raw, *when);
    return true;
}

void change_batch::add_removal(char op, std::string_view sfid, std::string_view when) {
    entry e;
    e.op = op;
    e.values.resize(m_->fields.size());
    e.values[sfid_col_] = std::string(sfid);
    e.values[modstamp_col_] = std::string(when);
    put(std::move(e));
}

void change_batch::copy_text(std::string& out) const {
    for (const auto& e : entries_) {
        const char op_text[2] = {e.op, '\0'};
        pg::copy_text::append_field(out, op_text, true);
        for (const auto& v : e.values) {
            if (v)
                pg::copy_text::append_field(out, *v, false);
            else
                pg::copy_text::append_null(out, false);
        }
        pg::copy_text::end_row(out);
    }
}

} // namespace sfbridge::bridge
