// The update part of the write-back plan (writeback_plan.hpp): grouping by record, conflict
// detection, merged writes and ordered rounds.
#include "bridge/writeback_plan.hpp"
#include "core/json_writer.hpp"
#include "salesforce/ids.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace sfbridge::bridge {

namespace {
const std::optional<std::string>* get(const hstore_pairs& h, const std::string& key) {
    for (const auto& kv : h)
        if (kv.first == key)
            return &kv.second;
    return nullptr;
}
bool system_column(const std::string& col) {
    return col == "systemmodstamp" || col == "sfid" || col == "id" || col.starts_with("_hc_");
}
} // namespace

std::string conflict_message(const std::vector<std::string>& columns) {
    std::string list;
    for (const auto& c : columns)
        list += (list.empty() ? "" : ", ") + c;
    return "not applied: Salesforce changed " + list +
           " after this write, and the later change wins (the value that lost is in "
           "_sfbridge_conflicts; change the row again to send it anew)";
}

void find_conflicts(const std::string& sfid, std::vector<record_change>& changes,
                    const current_row& row, std::vector<write_conflict>& out) {
    hstore_pairs before;
    std::string error;
    if (!parse_hstore(changes.front().e->old, before, error) || before.empty())
        return; // captured by a helper without the old row: nothing to compare
    std::map<const writeback_entry*, std::vector<std::string>> lost; // columns Salesforce won
    // Each column the app changed, with its latest value and the entry that wrote it.
    std::vector<std::string> columns;
    for (const auto& c : changes)
        for (const auto& kv : c.values)
            if (std::find(columns.begin(), columns.end(), kv.first) == columns.end())
                columns.push_back(kv.first);
    for (const auto& col : columns) {
        if (system_column(col))
            continue;
        const std::optional<std::string>* app = nullptr;
        record_change* last = nullptr;
        for (auto& c : changes)
            if (const auto* v = get(c.values, col)) {
                app = v;
                last = &c;
            }
        const auto* was = get(before, col);
        const auto* now = get(row.values, col);
        if (!app || !was || !now || *now == *was || *now == *app)
            continue; // Salesforce did not change this field since the app read the row
        // The app's own earlier write, echoed back after an inbound change had put
        // Salesforce's older value in the row (which `old` then captured), or the late echo of
        // an older write (a stream or poll that stalled while the app wrote on): not a conflict.
        if (const auto sent = row.sent.find(col);
            sent != row.sent.end() && sent->second.contains(*now))
            continue;
        // Or Salesforce as it was before the app's latest applied write of the field.
        if (const auto at = row.sent_at.find(col);
            at != row.sent_at.end() && !row.modstamp.empty() && at->second > row.modstamp)
            continue;
        // Or the echo of a pending update that was sent before and whose answer was lost (a
        // crash, a lost session): it is planned again, but its value may be in Salesforce.
        if (std::any_of(changes.begin(), changes.end(), [&](const record_change& c) {
                const auto* v = c.e->unknown ? get(c.values, col) : nullptr;
                return v && *v == *now;
            }))
            continue;
        write_conflict k;
        k.e = last->e;
        k.sfid = sfid;
        k.field = col;
        // The later change wins: Salesforce's if the row's SystemModstamp (when Salesforce last
        // changed the record) is after the app's write.
        if (row.modstamp > last->e->created_at) {
            k.salesforce_won = true;
            k.kept = *now;
            k.lost = *app;
            for (auto& c : changes)
                if (std::erase_if(c.values, [&](const auto& kv) { return kv.first == col; }))
                    lost[c.e].push_back(col);
        } else {
            k.kept = *app;
            k.lost = *now;
        }
        out.push_back(std::move(k));
    }
    for (auto& c : changes)
        if (c.values.empty()) {
            c.e->outcome = writeback_entry::result::conflict;
            c.e->error_code = "SFBRIDGE_CONFLICT";
            c.e->message = conflict_message(lost[c.e]);
        }
    std::erase_if(changes, [](const record_change& c) { return c.values.empty(); });
}

std::set<std::int64_t> suspected_conflicts(const std::vector<writeback_entry*>& es,
                                           const std::map<std::int64_t, current_row>& rows) {
    // Per record, as find_conflicts sees it: the first pending edit's old row and each
    // column's latest app value.
    struct pending {
        hstore_pairs before, latest;
        bool readable = true;
    };
    std::map<std::int64_t, pending> per_record;
    for (const auto* e : es) {
        if (e->action != write_action::update || !rows.count(e->record_id))
            continue;
        auto [it, first] = per_record.try_emplace(e->record_id);
        std::string error;
        hstore_pairs values;
        if (first && !parse_hstore(e->old, it->second.before, error))
            it->second.readable = false;
        if (!parse_hstore(e->values, values, error))
            continue;
        for (auto& kv : values) {
            std::erase_if(it->second.latest, [&](const auto& p) { return p.first == kv.first; });
            it->second.latest.push_back(std::move(kv));
        }
    }
    std::set<std::int64_t> out;
    for (const auto& [id, p] : per_record) {
        if (!p.readable || p.before.empty())
            continue;
        const auto& now_values = rows.at(id).values;
        for (const auto& [col, app] : p.latest) {
            const auto* was = get(p.before, col);
            const auto* now = get(now_values, col);
            if (!system_column(col) && was && now && *now != *was && *now != app) {
                out.insert(id);
                break;
            }
        }
    }
    return out;
}

namespace {
// One write per record: later values win; the earlier entries are MERGED into it.
void merge(std::vector<record_change>& changes) {
    if (changes.size() < 2)
        return;
    auto& last = changes.back().values;
    for (std::size_t i = 0; i + 1 < changes.size(); ++i) {
        for (auto& kv : changes[i].values)
            if (std::none_of(last.begin(), last.end(),
                             [&](const auto& p) { return p.first == kv.first; }))
                last.push_back(kv);
        changes[i].e->merged_into = changes.back().e; // settled by settle_merged()
    }
    changes.erase(changes.begin(), changes.end() - 1);
}
} // namespace

bool keep_read_only(const std::set<std::string>& read_only, writeback_entry& e,
                    const std::string& sfid, hstore_pairs& values,
                    std::vector<write_conflict>& out) {
    if (read_only.empty())
        return !values.empty();
    hstore_pairs before;
    std::string error;
    if (!parse_hstore(e.old, before, error))
        before.clear(); // a helper without the old row: Salesforce's value is not known here
    std::erase_if(values, [&](const auto& kv) {
        if (!read_only.contains(kv.first))
            return false;
        const auto* was = get(before, kv.first);
        if (!was || *was != kv.second) {
            write_conflict k;
            k.e = &e;
            k.sfid = sfid;
            k.field = kv.first;
            k.salesforce_won = true;
            k.kept = was ? *was : std::nullopt;
            k.lost = kv.second;
            out.push_back(std::move(k));
        }
        return true;
    });
    if (values.empty())
        e.outcome = writeback_entry::result::success; // nothing in it for Salesforce to take
    return !values.empty();
}

update_plan plan_updates(const std::vector<writeback_entry*>& es,
                         const std::map<std::int64_t, current_row>& rows, write_algorithm algorithm,
                         const std::set<std::string>& read_only) {
    update_plan plan;
    for (auto* e : es) {
        std::string sfid = e->sfid;
        if (sfid.empty()) {
            auto it = rows.find(e->record_id);
            if (it == rows.end()) {
                // The row is gone: deleted before its insert was sent (which was skipped).
                e->outcome = writeback_entry::result::ignored;
                continue;
            }
            if (it->second.sfid.empty()) {
                e->fail("SFBRIDGE_NO_SFID",
                        "the row has no sfid: its insert did not reach Salesforce");
                continue;
            }
            if (!salesforce::is_record_id(it->second.sfid)) {
                e->fail("SFBRIDGE_BAD_SFID", "the row's sfid is not a Salesforce record id: " +
                                                 it->second.sfid.substr(0, 40));
                continue;
            }
            sfid = it->second.sfid;
        }
        hstore_pairs values;
        std::string error;
        if (!parse_hstore(e->values, values, error)) {
            e->fail("SFBRIDGE_BAD_VALUE", error);
            continue;
        }
        if (!keep_read_only(read_only, *e, sfid, values, plan.read_only))
            continue;
        auto [it, fresh] = plan.per_record.try_emplace(sfid);
        if (fresh)
            plan.order.push_back(sfid);
        it->second.push_back({e, std::move(values)});
    }
    for (auto& [sfid, changes] : plan.per_record) {
        auto row = rows.find(changes.front().e->record_id);
        if (row != rows.end())
            find_conflicts(sfid, changes, row->second, plan.conflicts);
    }
    if (algorithm == write_algorithm::merged)
        for (auto& [sfid, changes] : plan.per_record)
            merge(changes);
    return plan;
}

void settle_merged(const std::vector<writeback_entry*>& es) {
    for (auto* e : es) {
        auto* into = std::exchange(e->merged_into, nullptr);
        if (!into || !e->pending())
            continue;
        if (into->outcome == writeback_entry::result::failed)
            e->fail(into->error_code, "merged into trigger log entry " + std::to_string(into->id) +
                                          ", which failed: " + into->message);
        else if (!into->pending())
            e->outcome = writeback_entry::result::merged;
    }
}

update_round plan_update_round(const mappings::resolved_mapping& m, update_plan& plan,
                               std::size_t round, const std::set<std::string>& held) {
    update_round out;
    out.last = true;
    for (const auto& sfid : plan.order) {
        auto& changes = plan.per_record[sfid];
        if (round + 1 < changes.size())
            out.last = false;
        if (round >= changes.size() || held.contains(sfid))
            continue;
        auto& [e, values] = changes[round];
        std::string json, error;
        bool any = false;
        if (!record_json(m, values, false, json, error, any)) {
            e->fail("SFBRIDGE_BAD_VALUE", error);
            continue;
        }
        if (!any) { // only columns Salesforce does not take changed: nothing to send
            e->outcome = writeback_entry::result::success;
            continue;
        }
        std::string rec = "{\"Id\":";
        json::append_quoted(rec, sfid);
        rec += ',' + json.substr(1) + "}";
        out.records.push_back(std::move(rec));
        out.owners.emplace_back(sfid, e);
    }
    return out;
}

} // namespace sfbridge::bridge
