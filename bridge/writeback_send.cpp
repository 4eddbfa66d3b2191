// The write-back's calls to Salesforce, one phase each: inserts (after looking for the records
// of creates whose answer was lost), updates in rounds, deletes. writeback.cpp runs the batch.
#include "bridge/writeback.hpp"
#include "bridge/writeback_reconcile.hpp"
#include "core/log.hpp"
#include "mappings/soql.hpp"

#include <algorithm>
#include <set>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

asio::awaitable<bool> writeback::send_inserts(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    // A row deleted before its insert was sent is not created: its delete was logged as IGNORE
    // (no sfid), so the record would be left in Salesforce with no row.
    std::set<std::int64_t> present;
    std::map<std::int64_t, std::string> holding;
    pg::diagnostics d;
    if (co_await log_.present(m.table, es, present, holding, d))
        co_return true;
    std::vector<entry*> gone;
    for (auto* e : es)
        if (!present.contains(e->record_id))
            gone.push_back(e);
        else if (e->pending() && !e->created && holding.contains(e->record_id) &&
                 !sent_as_upsert(m, *e))
            // The row has its record already: an INSERT refused and requeued after a later
            // update of the row was sent as its insert (promote_never_inserted). Another
            // create would make a second record and orphan the first. (An upsert finds the
            // row's record by its key: sent again, it makes none.)
            e->outcome = entry::result::ignored;
    bool transient = co_await forget_deleted_rows(m, gone);
    // Creates whose answer was lost are looked for before anything is sent again.
    if (auto ec = co_await reconcile_creates(rest_, log_, m, es, batch_sfids_)) {
        transient = true;
        if (ec == salesforce::errc::daily_budget_exhausted)
            park(m);
    }
    auto plan = plan_inserts(m, es);
    // Named, not computed in the co_await expression (GCC 12 evaluates such temporaries wrongly
    // inside coroutines).
    const mappings::mapped_field* ext = m.upsert_field ? m.field(*m.upsert_field) : nullptr;
    const std::string ext_name = ext ? ext->sf.info.name : std::string();
    if (!plan.creates.empty())
        (void)co_await save(m, salesforce::collection_op::create, ext_name, plan.creates,
                            plan.create_owners, transient);
    if (!plan.upserts.empty())
        (void)co_await save(m, salesforce::collection_op::upsert, ext_name, plan.upserts,
                            plan.upsert_owners, transient);
    co_return transient;
}

// An UPDATE of a row whose INSERT never made a record (Salesforce refused it, say a required
// field was missing, and the app has filled it in since) is sent as that row's insert, with the
// row's current values: Heroku Connect's clients fix data that way, and an update has no record
// to go to. The row's earlier updates in the batch are MERGED into it (their values are in the
// row's): sent later on their own, an older value would overwrite a newer one.
asio::awaitable<void> writeback::promote_never_inserted(std::vector<entry>& batch) {
    std::map<std::string, std::map<std::int64_t, std::vector<entry*>>> orphans; // table, row
    std::set<std::pair<std::string, std::int64_t>> inserting;
    for (auto& e : batch) {
        // Promoted before a restart and answered (its record noted, trigger_log::note_created):
        // an insert again, adopted as any answered create is.
        if (e.pending() && e.action == write_action::update && e.created)
            e.action = write_action::insert;
        // Any insert of the batch not yet recorded, answered or not, makes the row's record.
        if (e.action == write_action::insert && !e.recorded)
            inserting.emplace(e.table, e.record_id);
    }
    for (auto& e : batch)
        if (e.pending() && e.action == write_action::update && e.sfid.empty() &&
            mapping_for(e.table) && !inserting.contains({e.table, e.record_id}))
            orphans[e.table][e.record_id].push_back(&e);
    for (auto& [table, rows] : orphans) {
        std::vector<std::int64_t> ids;
        for (const auto& [id, es] : rows)
            ids.push_back(id);
        std::map<std::int64_t, std::string> values;
        pg::diagnostics d;
        if (co_await log_.never_inserted(table, ids, values, d))
            continue; // sent as updates: they fail as before, and can be retried
        for (auto& [id, row_values] : values) {
            auto& es = rows[id]; // in id order, as the batch is
            auto* last = es.back();
            last->action = write_action::insert;
            last->values = std::move(row_values);
            for (auto* e : es)
                if (e != last)
                    e->outcome = entry::result::merged;
        }
        if (!values.empty())
            log::info("writeback",
                      "updates of rows whose insert never made a record are sent as their inserts",
                      {{"table", table}, {"rows", static_cast<unsigned long>(values.size())}});
    }
}

asio::awaitable<std::vector<bool>>
writeback::save(const mappings::resolved_mapping& m, salesforce::collection_op op,
                const std::string& ext_name, std::vector<std::string>& records,
                const std::vector<entry*>& owners, bool& transient) {
    std::vector<salesforce::record_result> results;
    salesforce::diagnostics d;
    salesforce::call_options o;
    o.tag = m.object_name;
    auto ec = co_await salesforce::save_collection(rest_, op, m.object_name, ext_name, records,
                                                   results, d, o);
    if (ec)
        transient = true;
    if (ec == salesforce::errc::daily_budget_exhausted)
        park(m);
    std::vector<bool> pending(owners.size());
    for (std::size_t i = 0; i < owners.size(); ++i) {
        pending[i] = apply_result(*owners[i], results[i], op == salesforce::collection_op::remove);
        if (pending[i] && results[i].attempted)
            transient = true;
    }
    co_return pending;
}

// The row was deleted before its insert's sfid came back, so its delete was logged as IGNORE.
// Usually the insert was never sent and there is nothing to do. But a process killed after
// Salesforce created the record and before the sfid was committed leaves the record in
// Salesforce: with an upsert field it is found by its external id, without one by the values
// it was created with (writeback_reconcile.hpp), and deleted.
asio::awaitable<bool> writeback::forget_deleted_rows(const mappings::resolved_mapping& m,
                                                     std::vector<entry*>& gone) {
    for (auto* e : gone)
        e->outcome = entry::result::ignored;
    const auto keys = external_ids(m, gone);
    auto back_to_pending = [&] {
        for (auto* e : gone)
            e->outcome = entry::result::pending;
        return true; // sent again with the batch's retry
    };
    salesforce::call_options o;
    o.tag = m.object_name;
    std::vector<std::string> ids;
    for (std::size_t at = 0; at < keys.size(); at += 100) {
        const std::vector<std::string> chunk(
            keys.begin() + static_cast<std::ptrdiff_t>(at),
            keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), at + 100)));
        std::string soql = "SELECT Id FROM " + m.object_name + " WHERE " +
                           m.field(*m.upsert_field)->sf.info.name + " IN (";
        for (std::size_t i = 0; i < chunk.size(); ++i)
            soql += (i == 0 ? "" : ",") + mappings::soql::quote(chunk[i]);
        soql += ")";
        salesforce::diagnostics d;
        const salesforce::rest_client::page_handler on_page =
            [&](salesforce::query_page& page) -> asio::awaitable<error_code> {
            for (const auto& r : page.records)
                if (const auto* id = r.get("Id"))
                    ids.push_back(id->raw);
            co_return error_code{};
        };
        if (auto ec = co_await rest_.query(soql, false, 0, on_page, d, o)) {
            if (ec == salesforce::errc::daily_budget_exhausted)
                park(m);
            co_return back_to_pending();
        }
    }
    // A create answered before (its sfid noted, trigger_log::note_created) is known.
    for (auto* e : gone)
        if (e->created)
            ids.push_back(e->sfid);
    // Without an external id, a create whose answer was lost is looked for by its values, and
    // only by all of them (not the wider look, which may stand a record the app changed since:
    // too weak a match to delete on).
    std::vector<entry*> lost;
    for (auto* e : gone)
        if (e->unknown && !sent_as_upsert(m, *e))
            lost.push_back(e);
    std::vector<std::string> found;
    std::set<std::string> in_bin; // deleted already: nothing left to delete
    if (!lost.empty())            // (not in one condition: no co_await after && with GCC 12)
        if (auto ec = co_await find_lost_creates(rest_, log_, m, lost, batch_sfids_, found, in_bin,
                                                 false)) {
            if (ec == salesforce::errc::daily_budget_exhausted)
                park(m);
            co_return back_to_pending();
        }
    for (const auto& id : found)
        if (!id.empty() && !in_bin.contains(id))
            ids.push_back(id);
    if (ids.empty())
        co_return false;
    std::vector<salesforce::record_result> results;
    salesforce::diagnostics d;
    auto ec = co_await salesforce::save_collection(rest_, salesforce::collection_op::remove,
                                                   m.object_name, "", ids, results, d, o);
    bool all = !ec;
    for (const auto& r : results) {
        const std::string code = r.errors.empty() ? "" : r.errors[0].status_code;
        all = all && (r.success || code == "ENTITY_IS_DELETED");
    }
    if (!all)
        co_return back_to_pending();
    log::info("writeback",
              "deleted records created just before a restart whose rows were deleted meanwhile",
              {{"mapping", m.object_name}, {"records", static_cast<unsigned long>(ids.size())}});
    co_return false;
}

asio::awaitable<bool> writeback::send_updates(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    // The rows as they are now: the sfid of rows whose log entry has none (inserted in this
    // batch, sent just before), and what conflict detection compares.
    std::map<std::int64_t, current_row> rows;
    pg::diagnostics d;
    if (co_await log_.current(m.table, es, rows, d))
        co_return true;
    if (const auto suspects = suspected_conflicts(es, rows); !suspects.empty())
        if (co_await log_.sent_values(m.table, suspects, es, rows, d))
            co_return true;
    std::set<std::string> read_only;
    for (const auto& f : m.fields)
        if (f.app_read_only)
            read_only.insert(f.column);
    auto plan = plan_updates(es, rows, cfg_.algorithm, read_only);
    std::vector<std::string> reread;
    for (const auto& k : plan.read_only) {
        log::info("writeback",
                  "the app changed a field this mapping never writes back: Salesforce's value "
                  "stays, and comes back into the row",
                  {{"mapping", m.object_name}, {"sfid", k.sfid}, {"field", k.field}});
        if (reread.empty() || reread.back() != k.sfid)
            reread.push_back(k.sfid);
        plan.conflicts.push_back(k);
    }
    if (!plan.conflicts.empty()) {
        for (const auto& k : plan.conflicts)
            if (!read_only.contains(k.field))
                log::warn(
                    "writeback", "conflict: Salesforce and the app changed the same field",
                    {{"mapping", m.object_name},
                     {"sfid", k.sfid},
                     {"field", k.field},
                     {"winner", k.salesforce_won ? "salesforce (later)" : "postgres (later)"}});
        if (co_await log_.record_conflicts(m, plan.conflicts, reread, d)) {
            // Nothing of these updates is sent before their conflicts are recorded: the losing
            // values would be gone with no trace (seed 1070). The batch goes again, judged anew.
            log::warn("writeback", "recording conflicts failed; the updates wait",
                      {{"error", d.summary()}});
            for (auto* e : es)
                if (e->outcome == writeback_entry::result::conflict)
                    e->outcome = writeback_entry::result::pending;
            for (const auto& k : plan.read_only) // those that had nothing else to send
                k.e->outcome = writeback_entry::result::pending;
            co_return true;
        }
        note_conflicts(m, plan.conflicts);
    }
    // Round k sends every record's k-th change; a record whose earlier change is still pending
    // (a transient failure) sends nothing more in this batch, so its writes stay in order.
    bool transient = false;
    std::set<std::string> held;
    for (std::size_t round = 0;; ++round) {
        auto r = plan_update_round(m, plan, round, held);
        if (!r.records.empty()) {
            std::vector<entry*> owners;
            for (const auto& [sfid, e] : r.owners)
                owners.push_back(e);
            const std::string no_ext;
            auto pending = co_await save(m, salesforce::collection_op::update, no_ext, r.records,
                                         owners, transient);
            for (std::size_t i = 0; i < r.owners.size(); ++i)
                if (pending[i])
                    held.insert(r.owners[i].first);
        }
        if (r.last)
            break;
    }
    settle_merged(es);
    // Once the other fields of those changes are in Salesforce: a record read before would
    // bring their old values back into the row until the echo.
    if (!reread.empty() && cfg_.reread_queued)
        cfg_.reread_queued(m.table);
    co_return transient;
}

asio::awaitable<bool> writeback::send_deletes(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    auto plan = plan_deletes(es);
    bool transient = false;
    if (!plan.ids.empty()) {
        const std::string no_ext;
        (void)co_await save(m, salesforce::collection_op::remove, no_ext, plan.ids, plan.owners,
                            transient);
    }
    co_return transient;
}

} // namespace sfbridge::bridge
