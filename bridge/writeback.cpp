#include "bridge/writeback.hpp"

#include "bridge/hstore.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
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

namespace {
// A Postgres array literal of text values ({"a","b",NULL}).
std::string text_array(const std::vector<std::optional<std::string>>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i)
            out += ',';
        if (!v[i]) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : *v[i]) {
            if (c == '"' || c == '\\')
                out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

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
    // Rows claimed by a process that died before sending them are sent again.
    if (!ec)
        ec = co_await conn_.async_exec("UPDATE " + quote_identifier(cfg_.schema) +
                                           "._trigger_log SET state = 'NEW' WHERE state = "
                                           "'PENDING'",
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
            " t SET state = 'PENDING', updated_at = now(), processed_tx = txid_current() FROM c "
            "WHERE t.id = c.id RETURNING t.id, t.action, t.table_name, coalesce(t.record_id, 0), "
            "coalesce(t.sfid, ''), coalesce(t.\"values\", '')",
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
    for (const auto& [col, val] : values) {
        const auto* f = m.by_column(col);
        if (!f || !(create ? f->writable_on_create : f->writable_on_update))
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
    for (auto* e : es) {
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
        std::vector<salesforce::record_result> results;
        salesforce::diagnostics d;
        salesforce::call_options o;
        o.tag = m.object_name;
        // Named, not computed in the co_await expression (GCC 12 evaluates such temporaries
        // wrongly inside coroutines).
        const std::string ext_name = ext ? ext->sf.info.name : std::string();
        const auto op =
            kind == 0 ? salesforce::collection_op::create : salesforce::collection_op::upsert;
        auto ec = co_await salesforce::save_collection(rest_, op, m.object_name, ext_name, records,
                                                       results, d, o);
        if (ec)
            transient_ = true;
        for (std::size_t i = 0; i < owners.size(); ++i)
            if (take(*owners[i], results[i], false) && results[i].attempted)
                transient_ = true;
    }
}

asio::awaitable<void> writeback::send_updates(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es) {
    // The sfid of rows whose log entry has none (inserted in this batch, sent just before).
    std::vector<std::optional<std::string>> missing;
    for (auto* e : es)
        if (e->sfid.empty())
            missing.push_back(std::to_string(e->record_id));
    std::map<std::int64_t, std::string> sfids;
    if (!missing.empty()) {
        pg::result r;
        pg::diagnostics d;
        auto ec = co_await conn_.async_query(
            "SELECT id, sfid FROM " + quote_identifier(cfg_.schema) + "." +
                quote_identifier(m.table) + " WHERE id = ANY($1::int[]) AND sfid IS NOT NULL",
            pg::params(text_array(missing)), r, d);
        if (ec) {
            transient_ = true;
            co_return;
        }
        for (int i = 0; i < r.rows(); ++i)
            sfids[std::stoll(std::string(r.value(i, 0)))] = r.value(i, 1);
    }
    // One write per record: later values win.
    std::map<std::string, std::pair<hstore_pairs, std::vector<entry*>>> per_record;
    std::vector<std::string> order;
    for (auto* e : es) {
        std::string sfid = e->sfid;
        if (sfid.empty()) {
            auto it = sfids.find(e->record_id);
            if (it == sfids.end()) {
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
        for (auto& kv : values) {
            auto same = std::find_if(it->second.first.begin(), it->second.first.end(),
                                     [&](const auto& p) { return p.first == kv.first; });
            if (same != it->second.first.end())
                same->second = kv.second;
            else
                it->second.first.push_back(kv);
        }
        it->second.second.push_back(e);
    }
    std::vector<std::string> records;
    std::vector<std::vector<entry*>*> owners;
    for (const auto& sfid : order) {
        auto& [values, entries] = per_record[sfid];
        std::string json, error;
        bool any = false;
        if (!record_json(m, values, false, json, error, any)) {
            for (auto* e : entries) {
                e->outcome = entry::result::failed;
                e->error_code = "SFBRIDGE_BAD_VALUE";
                e->message = error;
            }
            continue;
        }
        if (!any) { // only columns Salesforce does not take changed: nothing to send
            for (auto* e : entries)
                e->outcome = entry::result::success;
            continue;
        }
        std::string rec = "{\"Id\":";
        json::append_quoted(rec, sfid);
        rec += ',' + json.substr(1) + "}";
        records.push_back(std::move(rec));
        owners.push_back(&entries);
    }
    if (records.empty())
        co_return;
    std::vector<salesforce::record_result> results;
    salesforce::diagnostics d;
    salesforce::call_options o;
    o.tag = m.object_name;
    auto ec = co_await salesforce::save_collection(rest_, salesforce::collection_op::update,
                                                   m.object_name, "", records, results, d, o);
    if (ec)
        transient_ = true;
    for (std::size_t i = 0; i < owners.size(); ++i)
        for (auto* e : *owners[i])
            if (take(*e, results[i], false) && results[i].attempted)
                transient_ = true;
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
    std::vector<salesforce::record_result> results;
    salesforce::diagnostics d;
    salesforce::call_options o;
    o.tag = m.object_name;
    auto ec = co_await salesforce::save_collection(rest_, salesforce::collection_op::remove,
                                                   m.object_name, "", ids, results, d, o);
    if (ec)
        transient_ = true;
    for (std::size_t i = 0; i < owners.size(); ++i)
        if (take(*owners[i], results[i], true) && results[i].attempted)
            transient_ = true;
}

asio::awaitable<error_code> writeback::record(std::vector<entry*>& done, bool in_transaction) {
    if (done.empty())
        co_return error_code{};
    std::vector<std::optional<std::string>> ids, states, messages, sfids;
    std::map<std::string, std::vector<entry*>> per_table;
    for (auto* e : done) {
        ids.push_back(std::to_string(e->id));
        const bool ok = e->outcome == entry::result::success;
        states.push_back(std::string(ok ? "SUCCESS" : "FAILED"));
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
        std::vector<std::optional<std::string>> rids, rsfids, ops, errs;
        for (auto* e : es) {
            rids.push_back(std::to_string(e->record_id));
            const bool ok = e->outcome == entry::result::success;
            rsfids.push_back(e->new_sfid.empty() ? std::nullopt
                                                 : std::optional<std::string>(e->new_sfid));
            ops.push_back(std::string(!ok                     ? "FAILED"
                                      : e->action == "INSERT" ? "INSERTED"
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
        for (auto& [table, es] : inserts)
            co_await send_inserts(*mapping_for(table), es);
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
