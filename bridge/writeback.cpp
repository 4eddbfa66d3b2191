#include "bridge/writeback.hpp"

#include "bridge/hstore.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "mappings/ddl.hpp"
#include "mappings/soql.hpp"
#include "mappings/types.hpp"
#include "mappings/values.hpp"
#include "salesforce/collections.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <set>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using mappings::quote_identifier;
using pg::text_array;

namespace {
std::string error_json(const writeback::entry& e) {
    std::string out;
    json::writer w(out);
    w.begin_object()
        .member("op", e.action)
        .member("errorCode", e.error_code)
        .member("message", e.message);
    w.key("fields").begin_array();
    for (const auto& f : e.fields)
        w.string(f);
    w.end_array().end_object();
    return out;
}

bool transient_code(const std::string& code) {
    return code == "UNABLE_TO_LOCK_ROW";
}
} // namespace

bool writeback::take(entry& e, const salesforce::record_result& r, bool is_delete) {
    if (!r.attempted)
        return true; // stays pending: the call stopped before it
    const std::string code = r.errors.empty() ? "" : r.errors[0].status_code;
    if (r.success || (is_delete && code == "ENTITY_IS_DELETED")) {
        e.outcome = entry::result::success;
        if (e.action == "INSERT")
            e.new_sfid = r.id;
        return false;
    }
    if (transient_code(code))
        return true;
    e.outcome = entry::result::failed;
    if (!r.errors.empty()) {
        e.error_code = code;
        e.message = r.errors[0].message;
        e.fields = r.errors[0].fields;
    }
    return false;
}

writeback::writeback(asio::any_io_executor ex, writeback_config cfg,
                     std::vector<mappings::resolved_mapping> maps, salesforce::rest_client& rest)
    : ex_(ex), cfg_(std::move(cfg)), maps_(std::move(maps)), rest_(rest), conn_(ex), pause_(ex) {}

const mappings::resolved_mapping* writeback::mapping_for(const std::string& table) const {
    for (const auto& m : maps_)
        if (m.table == table && m.read_write())
            return &m;
    return nullptr;
}

void writeback::stop() {
    stopping_ = true;
    pause_.cancel();
    conn_.cancel_notification_wait();
}

asio::awaitable<error_code> writeback::open() {
    pg::diagnostics d;
    auto ec = co_await conn_.async_connect(cfg_.database_url, d);
    if (!ec)
        ec = co_await conn_.async_exec(
            "SET xmlbinary = hex; SET application_name = 'sfbridge-writeback'; LISTEN " +
                quote_identifier(mappings::ddl::trigger_log_channel(cfg_.schema)),
            d);
    // Rows claimed by a process that died before sending them are sent again. A claim
    // records the claiming session's backend pid (in processed_tx), so the rows of a write-back
    // that is still connected (another sfbridge on this database) are left to it.
    if (!ec)
        ec = co_await conn_.async_exec(
            "UPDATE " + quote_identifier(cfg_.schema) +
                "._trigger_log t SET state = 'NEW' WHERE state = 'PENDING' AND NOT EXISTS "
                "(SELECT 1 FROM pg_stat_activity a WHERE a.pid = t.processed_tx AND "
                "a.application_name = 'sfbridge-writeback' AND a.pid <> pg_backend_pid())",
            d);
    if (ec)
        log::warn("writeback", "cannot reach Postgres", {{"error", d.summary()}});
    co_return ec;
}

asio::awaitable<std::vector<writeback::entry>> writeback::claim(error_code& ec) {
    const std::string tlog = quote_identifier(cfg_.schema) + "._trigger_log";
    pg::result r;
    pg::diagnostics d;
    ec = co_await conn_.async_query(
        "WITH c AS (SELECT id FROM " + tlog +
            " WHERE state = 'NEW' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) UPDATE " + tlog +
            " t SET state = 'PENDING', updated_at = now(), processed_tx = pg_backend_pid() FROM c "
            "WHERE t.id = c.id RETURNING t.id, t.action, t.table_name, coalesce(t.record_id, 0), "
            "coalesce(t.sfid, ''), coalesce(t.\"values\", ''), coalesce(t.old, ''), "
            "to_char(t.created_at AT TIME ZONE 'utc', 'YYYY-MM-DD HH24:MI:SS.MS')",
        pg::params(static_cast<long>(cfg_.claim_batch)), r, d);
    std::vector<entry> out;
    if (ec) {
        log::warn("writeback", "claiming trigger log rows failed", {{"error", d.summary()}});
        co_return out;
    }
    for (int i = 0; i < r.rows(); ++i) {
        entry e;
        e.id = std::stoll(std::string(r.value(i, 0)));
        e.action = r.value(i, 1);
        e.table = r.value(i, 2);
        e.record_id = std::stoll(std::string(r.value(i, 3)));
        e.sfid = r.value(i, 4);
        e.values = r.value(i, 5);
        e.old = r.value(i, 6);
        e.created_at = r.value(i, 7);
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const entry& a, const entry& b) { return a.id < b.id; });
    co_return out;
}

namespace {
// The JSON fields of a write from a row's values: only fields the mapping may write.
bool record_json(const mappings::resolved_mapping& m, const hstore_pairs& values, bool create,
                 std::string& out, std::string& error, bool& any) {
    out = "{";
    any = false;
    // Relationship references first; a lookup they set is not also sent by its own column.
    std::set<std::string> set_by_reference;
    for (const auto& [col, val] : values) {
        const auto* r = m.reference_by_column(col);
        if (!r || !val || val->empty() || !(create ? r->writable_on_create : r->writable_on_update))
            continue;
        if (any)
            out += ',';
        json::append_quoted(out, r->relationship);
        out += ":{";
        json::append_quoted(out, r->external_field);
        out += ':';
        json::append_quoted(out, *val);
        out += '}';
        any = true;
        set_by_reference.insert(text::ascii_lower(r->lookup_field));
    }
    for (const auto& [col, val] : values) {
        const auto* f = m.by_column(col);
        if (!f || !(create ? f->writable_on_create : f->writable_on_update) ||
            set_by_reference.contains(col))
            continue;
        if (create && !val)
            continue; // nothing to say about a field left empty on insert
        std::string v;
        if (!mappings::to_salesforce_json(f->sf.info, val, v, error))
            return false;
        if (any)
            out += ',';
        json::append_quoted(out, f->sf.info.name);
        out += ':';
        out += v;
        any = true;
    }
    return true;
}
} // namespace

asio::awaitable<void> writeback::send_inserts(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    std::vector<std::string> creates, upserts;
    std::vector<entry*> create_es, upsert_es;
    const mappings::mapped_field* ext = m.upsert_field ? m.field(*m.upsert_field) : nullptr;
    // A row deleted before its insert was sent is not created: its delete was logged as
    // IGNORE (no sfid), so the record would be left in Salesforce with no row.
    {
        std::vector<std::optional<std::string>> ids;
        for (auto* e : es)
            ids.push_back(std::to_string(e->record_id));
        pg::result r;
        pg::diagnostics d;
        auto ec =
            co_await conn_.async_query("SELECT id FROM " + quote_identifier(cfg_.schema) + "." +
                                           quote_identifier(m.table) + " WHERE id = ANY($1::int[])",
                                       pg::params(text_array(ids)), r, d);
        if (ec) {
            transient_ = true;
            co_return;
        }
        std::set<std::int64_t> present;
        for (int i = 0; i < r.rows(); ++i)
            present.insert(std::stoll(std::string(r.value(i, 0))));
        std::vector<entry*> gone;
        for (auto* e : es)
            if (!present.contains(e->record_id))
                gone.push_back(e);
        co_await forget_deleted_rows(m, gone);
    }
    for (auto* e : es) {
        if (e->outcome != entry::result::pending)
            continue;
        hstore_pairs values;
        std::string error, json;
        bool any = false;
        if (!parse_hstore(e->values, values, error) ||
            !record_json(m, values, true, json, error, any)) {
            e->outcome = entry::result::failed;
            e->error_code = "SFBRIDGE_BAD_VALUE";
            e->message = error;
            continue;
        }
        bool has_ext = false;
        if (ext)
            for (const auto& [col, val] : values)
                has_ext = has_ext || (col == ext->column && val && !val->empty());
        (has_ext ? upserts : creates).push_back(json + "}");
        (has_ext ? upsert_es : create_es).push_back(e);
    }
    for (int kind = 0; kind < 2; ++kind) {
        auto& records = kind == 0 ? creates : upserts;
        auto& owners = kind == 0 ? create_es : upsert_es;
        if (records.empty())
            continue;
        // Named, not computed in the co_await expression (GCC 12 evaluates such temporaries
        // wrongly inside coroutines).
        const std::string ext_name = ext ? ext->sf.info.name : std::string();
        const auto op =
            kind == 0 ? salesforce::collection_op::create : salesforce::collection_op::upsert;
        (void)co_await save(m, op, ext_name, records, owners);
    }
}

asio::awaitable<std::vector<bool>> writeback::save(const mappings::resolved_mapping& m,
                                                   salesforce::collection_op op,
                                                   const std::string& ext_name,
                                                   std::vector<std::string>& records,
                                                   const std::vector<entry*>& owners) {
    std::vector<salesforce::record_result> results;
    salesforce::diagnostics d;
    salesforce::call_options o;
    o.tag = m.object_name;
    auto ec = co_await salesforce::save_collection(rest_, op, m.object_name, ext_name, records,
                                                   results, d, o);
    if (ec)
        transient_ = true;
    std::vector<bool> pending(owners.size());
    for (std::size_t i = 0; i < owners.size(); ++i) {
        pending[i] = take(*owners[i], results[i], op == salesforce::collection_op::remove);
        if (pending[i] && results[i].attempted)
            transient_ = true;
    }
    co_return pending;
}

void writeback::find_conflicts(const std::string& sfid, std::vector<change>& changes,
                               const current_row& row, std::vector<conflict>& out) {
    auto get = [](const hstore_pairs& h,
                  const std::string& key) -> const std::optional<std::string>* {
        for (const auto& kv : h)
            if (kv.first == key)
                return &kv.second;
        return nullptr;
    };
    hstore_pairs before;
    std::string error;
    if (!parse_hstore(changes.front().e->old, before, error) || before.empty())
        return; // captured by a helper without the old row: nothing to compare
    // Each column the app changed, with its latest value and the entry that wrote it.
    std::vector<std::string> columns;
    for (const auto& c : changes)
        for (const auto& kv : c.values)
            if (std::find(columns.begin(), columns.end(), kv.first) == columns.end())
                columns.push_back(kv.first);
    for (const auto& col : columns) {
        if (col == "systemmodstamp" || col == "sfid" || col == "id" || col.starts_with("_hc_"))
            continue;
        const std::optional<std::string>* app = nullptr;
        change* last = nullptr;
        for (auto& c : changes)
            if (const auto* v = get(c.values, col)) {
                app = v;
                last = &c;
            }
        const auto* was = get(before, col);
        const auto* now = get(row.values, col);
        if (!app || !was || !now || *now == *was || *now == *app)
            continue; // Salesforce did not change this field since the app read the row
        conflict k;
        k.e = last->e;
        k.sfid = sfid;
        k.field = col;
        // The later change wins: Salesforce's if the row's SystemModstamp (when Salesforce
        // last changed the record) is after the app's write.
        if (row.modstamp > last->e->created_at) {
            k.salesforce_won = true;
            k.kept = *now;
            k.lost = *app;
            for (auto& c : changes)
                std::erase_if(c.values, [&](const auto& kv) { return kv.first == col; });
        } else {
            k.kept = *app;
            k.lost = *now;
        }
        out.push_back(std::move(k));
    }
    for (auto& c : changes)
        if (c.values.empty())
            c.e->outcome = entry::result::conflict;
    std::erase_if(changes, [](const change& c) { return c.values.empty(); });
}

asio::awaitable<void> writeback::record_conflicts(const mappings::resolved_mapping& m,
                                                  const std::vector<conflict>& conflicts) {
    std::vector<std::optional<std::string>> rids, sfids, logs, fields, winners, kept, lost;
    for (const auto& k : conflicts) {
        rids.push_back(std::to_string(k.e->record_id));
        sfids.push_back(k.sfid);
        logs.push_back(std::to_string(k.e->id));
        fields.push_back(k.field);
        winners.push_back(std::string(k.salesforce_won ? "salesforce" : "postgres"));
        kept.push_back(k.kept);
        lost.push_back(k.lost);
        log::warn("writeback", "conflict: Salesforce and the app changed the same field",
                  {{"mapping", m.object_name},
                   {"sfid", k.sfid},
                   {"field", k.field},
                   {"winner", k.salesforce_won ? "salesforce (later)" : "postgres (later)"}});
    }
    pg::result r;
    pg::diagnostics d;
    auto ec = co_await conn_.async_query(
        "INSERT INTO " + quote_identifier(cfg_.schema) +
            "._sfbridge_conflicts (object_name, table_name, record_id, sfid, trigger_log_id, "
            "field, winner, kept_value, lost_value) SELECT $1, $2, * FROM unnest($3::int[], "
            "$4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])",
        pg::params(m.object_name, m.table, text_array(rids), text_array(sfids), text_array(logs),
                   text_array(fields), text_array(winners), text_array(kept), text_array(lost)),
        r, d);
    if (ec)
        log::warn("writeback", "recording conflicts failed", {{"error", d.summary()}});
}

asio::awaitable<void> writeback::forget_deleted_rows(const mappings::resolved_mapping& m,
                                                     std::vector<entry*>& gone) {
    // The row was deleted before its insert's sfid came back, so its delete was logged as
    // IGNORE. Usually the insert was never sent and there is nothing to do. But a process
    // killed after Salesforce created the record and before the sfid was committed leaves the
    // record in Salesforce: with an upsert field it is found by its external id and deleted.
    // (Without one it cannot be told apart from other records; see docs/decisions.md.)
    const mappings::mapped_field* ext = m.upsert_field ? m.field(*m.upsert_field) : nullptr;
    std::vector<std::string> keys;
    for (auto* e : gone) {
        e->outcome = entry::result::ignored;
        hstore_pairs values;
        std::string error;
        if (ext && parse_hstore(e->values, values, error))
            for (const auto& [col, val] : values)
                if (col == ext->column && val && !val->empty())
                    keys.push_back(*val);
    }
    std::vector<std::string> ids;
    for (std::size_t at = 0; at < keys.size(); at += 100) {
        std::string soql =
            "SELECT Id FROM " + m.object_name + " WHERE " + ext->sf.info.name + " IN (";
        for (std::size_t i = at; i < std::min(keys.size(), at + 100); ++i)
            soql += (i == at ? "" : ",") + mappings::soql::quote(keys[i]);
        soql += ")";
        salesforce::diagnostics d;
        salesforce::call_options o;
        o.tag = m.object_name;
        const salesforce::rest_client::page_handler on_page =
            [&](salesforce::query_page& page) -> asio::awaitable<error_code> {
            for (const auto& r : page.records)
                if (const auto* id = r.get("Id"))
                    ids.push_back(id->raw);
            co_return error_code{};
        };
        auto ec = co_await rest_.query(soql, false, 0, on_page, d, o);
        if (ec) {
            transient_ = true;
            for (auto* e : gone)
                e->outcome = entry::result::pending;
            co_return;
        }
    }
    if (ids.empty())
        co_return;
    std::vector<salesforce::record_result> results;
    salesforce::diagnostics d;
    salesforce::call_options o;
    o.tag = m.object_name;
    auto ec = co_await salesforce::save_collection(rest_, salesforce::collection_op::remove,
                                                   m.object_name, "", ids, results, d, o);
    bool all = !ec;
    for (const auto& r : results) {
        const std::string code = r.errors.empty() ? "" : r.errors[0].status_code;
        all = all && (r.success || code == "ENTITY_IS_DELETED");
    }
    if (!all) { // sent again with the batch's retry
        transient_ = true;
        for (auto* e : gone)
            e->outcome = entry::result::pending;
    } else {
        log::info(
            "writeback",
            "deleted records created just before a restart whose rows were "
            "deleted meanwhile",
            {{"mapping", m.object_name}, {"records", static_cast<unsigned long>(ids.size())}});
    }
}

asio::awaitable<void> writeback::send_updates(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    // The rows as they are now: the sfid of rows whose log entry has none (inserted in this
    // batch, sent just before), and what conflict detection compares.
    std::vector<std::optional<std::string>> record_ids;
    for (auto* e : es)
        record_ids.push_back(std::to_string(e->record_id));
    std::map<std::int64_t, std::string> sfids;
    std::map<std::int64_t, current_row> rows;
    if (!record_ids.empty()) {
        pg::result r;
        pg::diagnostics d;
        auto ec = co_await conn_.async_query(
            "SELECT id, sfid, coalesce(to_char(systemmodstamp, 'YYYY-MM-DD HH24:MI:SS.MS'), ''), "
            "hstore(t.*)::text FROM " +
                quote_identifier(cfg_.schema) + "." + quote_identifier(m.table) +
                " t WHERE id = ANY($1::int[])",
            pg::params(text_array(record_ids)), r, d);
        if (ec) {
            transient_ = true;
            co_return;
        }
        for (int i = 0; i < r.rows(); ++i) {
            const auto id = std::stoll(std::string(r.value(i, 0)));
            sfids[id] = r.is_null(i, 1) ? std::string() : std::string(r.value(i, 1));
            auto& row = rows[id];
            row.modstamp = r.value(i, 2);
            std::string error;
            (void)parse_hstore(r.value(i, 3), row.values, error);
        }
    }
    // Each record's entries in trigger-log order, with their values parsed.
    std::map<std::string, std::vector<change>> per_record;
    std::vector<std::string> order;
    for (auto* e : es) {
        std::string sfid = e->sfid;
        if (sfid.empty()) {
            auto it = sfids.find(e->record_id);
            if (it == sfids.end()) {
                // The row is gone: deleted before its insert was sent (which was skipped).
                e->outcome = entry::result::ignored;
                continue;
            }
            if (it->second.empty()) {
                // No sfid: its insert is still pending (wait) or failed (this fails too).
                e->outcome = entry::result::failed;
                e->error_code = "SFBRIDGE_NO_SFID";
                e->message = "the row has no sfid: its insert did not reach Salesforce";
                continue;
            }
            sfid = it->second;
        }
        hstore_pairs values;
        std::string error;
        if (!parse_hstore(e->values, values, error)) {
            e->outcome = entry::result::failed;
            e->error_code = "SFBRIDGE_BAD_VALUE";
            e->message = error;
            continue;
        }
        auto [it, fresh] = per_record.try_emplace(sfid);
        if (fresh)
            order.push_back(sfid);
        it->second.push_back({e, std::move(values)});
    }
    std::vector<conflict> conflicts;
    for (auto& [sfid, changes] : per_record) {
        auto row = rows.find(changes.front().e->record_id);
        if (row != rows.end())
            find_conflicts(sfid, changes, row->second, conflicts);
    }
    if (!conflicts.empty())
        co_await record_conflicts(m, conflicts);
    if (cfg_.algorithm == write_algorithm::merged)
        for (auto& [sfid, changes] : per_record) {
            // One write per record: later values win; the earlier entries are MERGED into it.
            for (std::size_t i = 0; i + 1 < changes.size(); ++i) {
                auto& last = changes.back().values;
                for (auto& kv : changes[i].values)
                    if (std::none_of(last.begin(), last.end(),
                                     [&](const auto& p) { return p.first == kv.first; }))
                        last.push_back(kv);
                changes[i].e->outcome = entry::result::merged;
            }
            changes.erase(changes.begin(), changes.end() - 1);
        }

    // Round k sends every record's k-th change; a record whose earlier change is still pending
    // (a transient failure) sends nothing more in this batch, so its writes stay in order.
    std::set<std::string> held;
    for (std::size_t round = 0;; ++round) {
        std::vector<std::string> records;
        std::vector<std::pair<std::string, entry*>> owners;
        for (const auto& sfid : order) {
            auto& changes = per_record[sfid];
            if (round >= changes.size() || held.contains(sfid))
                continue;
            auto& [e, values] = changes[round];
            std::string json, error;
            bool any = false;
            if (!record_json(m, values, false, json, error, any)) {
                e->outcome = entry::result::failed;
                e->error_code = "SFBRIDGE_BAD_VALUE";
                e->message = error;
                continue;
            }
            if (!any) { // only columns Salesforce does not take changed: nothing to send
                e->outcome = entry::result::success;
                continue;
            }
            std::string rec = "{\"Id\":";
            json::append_quoted(rec, sfid);
            rec += ',' + json.substr(1) + "}";
            records.push_back(std::move(rec));
            owners.emplace_back(sfid, e);
        }
        if (records.empty()) {
            if (std::none_of(order.begin(), order.end(), [&](const std::string& sfid) {
                    return round + 1 < per_record[sfid].size();
                }))
                break;
            continue;
        }
        std::vector<entry*> entries;
        for (const auto& [sfid, e] : owners)
            entries.push_back(e);
        const std::string no_ext;
        auto pending =
            co_await save(m, salesforce::collection_op::update, no_ext, records, entries);
        for (std::size_t i = 0; i < owners.size(); ++i)
            if (pending[i])
                held.insert(owners[i].first);
    }
}

asio::awaitable<void> writeback::send_deletes(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    std::vector<std::string> ids;
    std::vector<entry*> owners;
    std::set<std::string> seen;
    for (auto* e : es) {
        if (e->sfid.empty() || !seen.insert(e->sfid).second) {
            e->outcome = entry::result::success; // never in Salesforce, or deleted just before
            continue;
        }
        ids.push_back(e->sfid);
        owners.push_back(e);
    }
    if (ids.empty())
        co_return;
    const std::string no_ext;
    (void)co_await save(m, salesforce::collection_op::remove, no_ext, ids, owners);
}

asio::awaitable<error_code> writeback::record(std::vector<entry*>& done, bool in_transaction) {
    if (done.empty())
        co_return error_code{};
    std::vector<std::optional<std::string>> ids, states, messages, sfids;
    std::map<std::string, std::vector<entry*>> per_table;
    for (auto* e : done) {
        ids.push_back(std::to_string(e->id));
        const bool ok = e->outcome != entry::result::failed;
        states.push_back(std::string(e->outcome == entry::result::merged     ? "MERGED"
                                     : e->outcome == entry::result::ignored  ? "IGNORE"
                                     : e->outcome == entry::result::conflict ? "CONFLICT"
                                     : ok                                    ? "SUCCESS"
                                                                             : "FAILED"));
        messages.push_back(ok ? std::nullopt : std::optional<std::string>(e->message));
        sfids.push_back(e->new_sfid.empty() ? std::nullopt
                                            : std::optional<std::string>(e->new_sfid));
        if (e->action != "DELETE")
            per_table[e->table].push_back(e);
        if (ok)
            ++stats_.sent;
        else
            ++stats_.failed;
    }
    pg::diagnostics d;
    pg::result r;
    error_code ec;
    if (!in_transaction)
        ec = co_await conn_.async_exec("BEGIN", d);
    if (!ec)
        ec = co_await conn_.async_query(
            "UPDATE " + quote_identifier(cfg_.schema) +
                "._trigger_log t SET state = x.state, sf_message = x.msg, sfid = coalesce(x.sfid, "
                "t.sfid), processed_at = now(), updated_at = now() FROM unnest($1::int[], "
                "$2::text[], $3::text[], $4::text[]) AS x(id, state, msg, sfid) WHERE t.id = x.id",
            pg::params(text_array(ids), text_array(states), text_array(messages),
                       text_array(sfids)),
            r, d);
    for (auto& [table, es] : per_table) {
        if (ec)
            break;
        // A row takes the outcome of its latest entry (and a new sfid from any).
        std::sort(es.begin(), es.end(), [](const entry* a, const entry* b) {
            return a->record_id != b->record_id ? a->record_id < b->record_id : a->id > b->id;
        });
        for (std::size_t i = 1; i < es.size(); ++i)
            if (es[i]->record_id == es[i - 1]->record_id && es[i - 1]->new_sfid.empty())
                es[i - 1]->new_sfid = es[i]->new_sfid;
        es.erase(std::unique(
                     es.begin(), es.end(),
                     [](const entry* a, const entry* b) { return a->record_id == b->record_id; }),
                 es.end());
        std::vector<std::optional<std::string>> rids, rsfids, ops, errs;
        for (auto* e : es) {
            rids.push_back(std::to_string(e->record_id));
            const bool ok = e->outcome != entry::result::failed;
            rsfids.push_back(e->new_sfid.empty() ? std::nullopt
                                                 : std::optional<std::string>(e->new_sfid));
            ops.push_back(std::string(!ok                                     ? "FAILED"
                                      : e->outcome == entry::result::conflict ? "SYNCED"
                                      : e->action == "INSERT"                 ? "INSERTED"
                                                                              : "UPDATED"));
            errs.push_back(ok ? std::nullopt : std::optional<std::string>(error_json(*e)));
        }
        ec = co_await conn_.async_query(
            "UPDATE " + quote_identifier(cfg_.schema) + "." + quote_identifier(table) +
                " t SET sfid = coalesce(x.sfid, t.sfid), _hc_lastop = x.op, _hc_err = x.err FROM "
                "unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS x(id, sfid, op, err) "
                "WHERE t.id = x.id",
            pg::params(text_array(rids), text_array(rsfids), text_array(ops), text_array(errs)), r,
            d);
    }
    if (!ec && !in_transaction)
        ec = co_await conn_.async_exec("COMMIT", d);
    if (ec) {
        log::warn("writeback", "recording outcomes failed", {{"error", d.summary()}});
        if (conn_.is_open()) {
            pg::diagnostics ignore;
            (void)co_await conn_.async_exec("ROLLBACK", ignore);
        }
    }
    for (auto* e : done)
        if (e->outcome == entry::result::failed)
            log::warn("writeback", "Salesforce refused a write",
                      {{"table", e->table},
                       {"record_id", static_cast<long long>(e->record_id)},
                       {"action", e->action},
                       {"error", e->error_code + ": " + e->message}});
    co_return ec;
}

std::vector<std::string>
writeback::insert_order(const std::map<std::string, std::vector<entry*>>& inserts) const {
    // Trigger-log order of each table's first insert, then parents before children: a child
    // whose reference column names a parent by external id needs the parent created first.
    std::vector<std::string> order;
    for (const auto& [table, es] : inserts)
        order.push_back(table);
    std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
        return inserts.at(a).front()->id < inserts.at(b).front()->id;
    });
    auto references = [&](const std::string& child, const std::string& parent) {
        const auto* c = mapping_for(child);
        const auto* p = mapping_for(parent);
        return c && p &&
               std::any_of(c->references.begin(), c->references.end(), [&](const auto& r) {
                   return text::iequals(r.parent_object, p->object_name);
               });
    };
    // A few passes of moving each child after its parents (mappings rarely nest deeper).
    for (std::size_t pass = 0; pass < order.size() * order.size(); ++pass) {
        bool moved = false;
        for (std::size_t i = 0; i < order.size() && !moved; ++i)
            for (std::size_t j = i + 1; j < order.size() && !moved; ++j)
                if (references(order[i], order[j]) && !references(order[j], order[i])) {
                    std::rotate(order.begin() + static_cast<std::ptrdiff_t>(i),
                                order.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                order.begin() + static_cast<std::ptrdiff_t>(j) + 1);
                    moved = true;
                }
        if (!moved)
            break;
    }
    return order;
}

asio::awaitable<bool> writeback::process(std::vector<entry>& batch) {
    transient_ = false;
    std::map<std::string, std::vector<entry*>> inserts, updates, deletes;
    std::vector<entry*> done;
    for (auto& e : batch) {
        if (e.outcome != entry::result::pending)
            continue;
        if (!mapping_for(e.table)) {
            e.outcome = entry::result::failed;
            e.error_code = "SFBRIDGE_NOT_MAPPED";
            e.message = "table " + e.table + " has no read-write mapping";
            continue;
        }
        (e.action == "INSERT"   ? inserts
         : e.action == "UPDATE" ? updates
                                : deletes)[e.table]
            .push_back(&e);
    }
    auto collect = [&]() {
        std::vector<entry*> now;
        for (auto& e : batch)
            if (e.outcome != entry::result::pending &&
                std::find(done.begin(), done.end(), &e) == done.end())
                now.push_back(&e);
        done.insert(done.end(), now.begin(), now.end());
        return now;
    };
    if (!inserts.empty()) {
        // Hold the mappings' locks from before the creates until their sfids are in the rows:
        // the stream writer takes the same lock, so the event of a record created here cannot
        // be applied before the row knows its sfid (it would insert the record a second time,
        // Heroku Connect's duplicate-row problem).
        pg::diagnostics d;
        std::string lock = "BEGIN";
        for (auto& [table, es] : inserts)
            lock += "; SELECT pg_advisory_xact_lock(hashtext(" +
                    mappings::ddl::quote_literal("sfbridge:" + mapping_for(table)->object_name) +
                    "))";
        auto ec = co_await conn_.async_exec(lock, d);
        if (ec) {
            transient_ = true;
            co_return true;
        }
        for (const auto& table : insert_order(inserts))
            co_await send_inserts(*mapping_for(table), inserts[table]);
        auto first = collect();
        ec = co_await record(first, true); // sfids in the rows before updates look for them
        if (!ec)
            ec = co_await conn_.async_exec("COMMIT", d);
        if (ec) {
            transient_ = true;
            co_return true;
        }
    }
    for (auto& [table, es] : updates) {
        // Updates of rows whose insert is still pending wait for it.
        std::vector<entry*> ready;
        for (auto* e : es) {
            bool waits = false;
            if (e->sfid.empty())
                for (auto* i : inserts[table])
                    waits = waits ||
                            (i->record_id == e->record_id && i->outcome == entry::result::pending);
            if (!waits)
                ready.push_back(e);
        }
        co_await send_updates(*mapping_for(table), ready);
    }
    for (auto& [table, es] : deletes)
        co_await send_deletes(*mapping_for(table), es);
    auto rest = collect();
    co_await record(rest, false);
    batch.erase(std::remove_if(batch.begin(), batch.end(),
                               [](const entry& e) { return e.outcome != entry::result::pending; }),
                batch.end());
    co_return !batch.empty();
}

asio::awaitable<void> writeback::archive() {
    const std::string s = quote_identifier(cfg_.schema);
    pg::diagnostics d;
    pg::result r;
    (void)co_await conn_.async_query(
        "WITH moved AS (DELETE FROM " + s +
            "._trigger_log WHERE state NOT IN ('NEW', 'PENDING') AND updated_at < now() - "
            "make_interval(secs => $1::double precision) RETURNING *) INSERT INTO " +
            s + "._trigger_log_archive SELECT * FROM moved",
        pg::params(static_cast<long>(cfg_.archive_after.count())), r, d);
}

asio::awaitable<void> writeback::run() {
    int failures = 0;
    if (cfg_.inbound_caught_up) {
        const auto until = std::chrono::steady_clock::now() + cfg_.catch_up_wait;
        while (!stopping_ && !cfg_.inbound_caught_up() &&
               std::chrono::steady_clock::now() < until) {
            error_code ignore;
            pause_.expires_after(std::chrono::milliseconds(20));
            co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
        }
    }
    while (!stopping_) {
        if (!conn_.is_open()) {
            if (co_await open()) {
                conn_.close();
                error_code ignore;
                pause_.expires_after(
                    std::chrono::seconds(std::min(30, 1 << std::min(failures++, 5))));
                co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
                continue;
            }
            failures = 0;
        }
        if (std::chrono::steady_clock::now() - last_archive_ > std::chrono::minutes(1)) {
            last_archive_ = std::chrono::steady_clock::now();
            co_await archive();
        }
        error_code ec;
        auto batch = co_await claim(ec);
        if (ec) {
            conn_.close();
            continue;
        }
        if (batch.empty()) {
            pg::notification n;
            pg::diagnostics d;
            (void)co_await conn_.async_receive_notification(n, d, cfg_.sweep);
            continue;
        }
        // Send, and retry what met a transient failure, in order, until it goes through.
        auto delay = cfg_.retry_initial;
        while (!stopping_ && co_await process(batch)) {
            ++stats_.retried;
            log::warn("writeback", "Salesforce unavailable for some writes, retrying",
                      {{"pending", static_cast<unsigned long>(batch.size())}});
            error_code ignore;
            pause_.expires_after(delay);
            co_await pause_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
            delay = std::min(delay * 2, cfg_.retry_max);
        }
    }
    conn_.close();
}

} // namespace sfbridge::bridge
