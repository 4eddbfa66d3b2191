// The outcome part of the write-back plan (writeback_plan.hpp): deletes, Salesforce results
// into entries, and what the trigger log and the mapped rows are set to.
#include "bridge/writeback_plan.hpp"
#include "core/json_writer.hpp"

#include <algorithm>

namespace sfbridge::bridge {

using result = writeback_entry::result;

delete_plan plan_deletes(const std::vector<writeback_entry*>& es) {
    delete_plan out;
    std::set<std::string> seen;
    for (auto* e : es) {
        if (e->sfid.empty() || !seen.insert(e->sfid).second) {
            e->outcome = result::success; // never in Salesforce, or deleted just before
            continue;
        }
        out.ids.push_back(e->sfid);
        out.owners.push_back(e);
    }
    return out;
}

namespace {
bool transient_code(const std::string& code) {
    return code == "UNABLE_TO_LOCK_ROW";
}
} // namespace

bool apply_result(writeback_entry& e, const salesforce::record_result& r, bool is_delete) {
    if (!r.attempted)
        return true; // stays pending: the call stopped before it
    if (r.unknown) {
        e.unknown = true; // reconciled before it is sent again
        return true;
    }
    const std::string code = r.errors.empty() ? "" : r.errors[0].status_code;
    if (r.success || (is_delete && code == "ENTITY_IS_DELETED")) {
        e.outcome = result::success;
        if (e.action == write_action::insert)
            e.new_sfid = r.id;
        return false;
    }
    if (transient_code(code))
        return true;
    e.outcome = result::failed;
    if (!r.errors.empty()) {
        e.error_code = code;
        e.message = r.errors[0].message;
        e.fields = r.errors[0].fields;
    }
    return false;
}

std::string error_json(const writeback_entry& e) {
    std::string out;
    json::writer w(out);
    w.begin_object()
        .member("op", e.action_text)
        .member("errorCode", e.error_code)
        .member("message", e.message);
    w.key("fields").begin_array();
    for (const auto& f : e.fields)
        w.string(f);
    w.end_array().end_object();
    return out;
}

namespace {
std::optional<std::string> optional_text(const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
}
std::string log_state(const writeback_entry& e) {
    switch (e.outcome) {
    case result::merged:
        return "MERGED";
    case result::ignored:
        return "IGNORE";
    case result::conflict: // Heroku Connect's clients know no other state for a dropped write
    case result::failed:
        return "FAILED";
    default:
        return "SUCCESS";
    }
}
std::string row_op(const writeback_entry& e) {
    if (e.outcome == result::failed)
        return "FAILED";
    if (e.outcome == result::conflict)
        return "SYNCED";
    return e.action == write_action::insert ? "INSERTED" : "UPDATED";
}
} // namespace

log_outcomes trigger_log_outcomes(const std::vector<writeback_entry*>& done) {
    log_outcomes out;
    for (const auto* e : done) {
        const bool ok = e->outcome != result::failed && e->outcome != result::conflict;
        out.ids.push_back(std::to_string(e->id));
        out.states.push_back(log_state(*e));
        if (!ok)
            out.messages.push_back(e->message);
        else if (e->record_deleted)
            out.messages.push_back(std::string(deleted_since_message));
        else
            out.messages.push_back(std::nullopt);
        out.sfids.push_back(optional_text(e->new_sfid));
    }
    return out;
}

std::vector<row_outcomes> mapped_row_outcomes(std::vector<writeback_entry*> done) {
    std::map<std::string, std::vector<writeback_entry*>> per_table;
    for (auto* e : done)
        // A table with no read-write mapping has no row of ours to mark (an UPDATE of it
        // could fail and roll back the outcomes of the whole batch).
        if (e->action != write_action::remove && e->error_code != "SFBRIDGE_NOT_MAPPED")
            per_table[e->table].push_back(e);
    std::vector<row_outcomes> out;
    for (auto& [table, es] : per_table) {
        // A row takes the outcome of its latest entry (and a new sfid from any).
        std::sort(es.begin(), es.end(), [](const writeback_entry* a, const writeback_entry* b) {
            return a->record_id != b->record_id ? a->record_id < b->record_id : a->id > b->id;
        });
        for (std::size_t i = 1; i < es.size(); ++i)
            if (es[i]->record_id == es[i - 1]->record_id && es[i - 1]->new_sfid.empty())
                es[i - 1]->new_sfid = es[i]->new_sfid;
        es.erase(std::unique(es.begin(), es.end(),
                             [](const writeback_entry* a, const writeback_entry* b) {
                                 return a->record_id == b->record_id;
                             }),
                 es.end());
        row_outcomes rows;
        rows.table = table;
        for (auto* e : es) {
            const bool ok = e->outcome != result::failed;
            rows.record_ids.push_back(std::to_string(e->record_id));
            rows.sfids.push_back(optional_text(e->new_sfid));
            rows.ops.push_back(row_op(*e));
            rows.errors.push_back(ok ? std::nullopt : std::optional<std::string>(error_json(*e)));
        }
        out.push_back(std::move(rows));
    }
    return out;
}

std::vector<row_outcomes> echo_replacing_rows(const std::vector<writeback_entry*>& done) {
    std::map<std::string, row_outcomes> per_table;
    for (const auto* e : done)
        if (e->replaces_echo && !e->new_sfid.empty()) {
            auto& rows = per_table[e->table];
            rows.table = e->table;
            rows.record_ids.push_back(std::to_string(e->record_id));
            rows.sfids.push_back(e->new_sfid);
        }
    std::vector<row_outcomes> out;
    for (auto& [table, rows] : per_table)
        out.push_back(std::move(rows));
    return out;
}

std::vector<row_outcomes> rows_of_deleted_records(const std::vector<writeback_entry*>& done) {
    std::map<std::string, row_outcomes> per_table;
    for (const auto* e : done)
        if (e->record_deleted && e->outcome == result::success) {
            auto& rows = per_table[e->table];
            rows.table = e->table;
            rows.record_ids.push_back(std::to_string(e->record_id));
        }
    std::vector<row_outcomes> out;
    for (auto& [table, rows] : per_table)
        out.push_back(std::move(rows));
    return out;
}

} // namespace sfbridge::bridge
