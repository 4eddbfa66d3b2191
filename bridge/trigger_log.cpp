#include "bridge/trigger_log.hpp"

#include "bridge/leadership_sql.hpp"
#include "bridge/state_sql.hpp"
#include "mappings/ddl.hpp"
#include "mappings/types.hpp"

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using pg::text_array;

trigger_log::trigger_log(asio::any_io_executor ex, std::string schema)
    : conn_(std::move(ex)), schema_(std::move(schema)) {}

std::string trigger_log::table(const std::string& name) const {
    return mappings::quote_identifier(schema_) + "." + mappings::quote_identifier(name);
}

asio::awaitable<error_code> trigger_log::open(const std::string& dsn,
                                              const std::vector<std::int64_t>& held,
                                              std::set<std::int64_t>& kept, pg::diagnostics& d) {
    // (Not a ?: in the co_await's expression: GCC 12 destroys its temporary twice.)
    std::string name = "sfbridge-writeback";
    if (!replica_.empty())
        name = leadership_sql::writeback_session_name(replica_);
    auto ec = co_await conn_.async_connect(dsn, d);
    if (!ec)
        ec = co_await conn_.async_exec(
            "SET xmlbinary = hex; SET application_name = " + mappings::ddl::quote_literal(name) +
                "; LISTEN " +
                mappings::quote_identifier(mappings::ddl::trigger_log_channel(schema_)),
            d);
    if (!ec && !held.empty())
        ec = co_await reclaim(held, kept, d);
    if (!ec)
        last_backend_ = conn_.backend_pid();
    // A claim records the claiming session's backend pid (in processed_tx), so the rows of a
    // write-back that is still connected (another sfbridge on this database) are left to it,
    // and so are the rows this session has just claimed again.
    if (!ec)
        ec = co_await requeue_orphans(d);
    co_return ec;
}

// PENDING rows whose claiming session is gone (a replica that died or lost its lead) back to
// NEW, marked unknown where they may have reached Salesforce: at each open, and every few
// seconds (a next leader's write-back finds the rows of a former leader that ended after it).
asio::awaitable<error_code> trigger_log::requeue_orphans(pg::diagnostics& d) {
    co_return co_await conn_.async_exec(
        "UPDATE " + table("_trigger_log") +
            " t SET state = 'NEW', sf_result = CASE WHEN t.sf_result = " +
            std::to_string(sf_result_created) + " AND t.action = 'INSERT' THEN " +
            std::to_string(sf_result_created) + " WHEN t.action IN ('INSERT', 'UPDATE') THEN " +
            std::to_string(sf_result_unknown) +
            " ELSE t.sf_result END, sf_message = CASE WHEN t.sf_result = " +
            std::to_string(sf_result_created) +
            " THEN t.sf_message WHEN t.action = 'INSERT' THEN '" + std::string(unknown_message) +
            "' WHEN t.action = 'UPDATE' THEN '" + std::string(update_unknown_message) +
            "' ELSE t.sf_message END WHERE state = 'PENDING' AND t.processed_tx IS DISTINCT "
            "FROM pg_backend_pid() AND NOT EXISTS "
            "(SELECT 1 FROM pg_stat_activity a WHERE a.pid = t.processed_tx AND "
            "a.datname = current_database() AND a.application_name LIKE 'sfbridge-writeback%' AND "
            "a.pid <> pg_backend_pid())",
        d);
}

// The session lost with these rows may live on in Postgres (after a network cut it lasts until
// TCP keepalive notices), holding the rows and the mappings' lock: it is ended, then the rows
// that are still NEW or PENDING without another live claimer are this session's again.
asio::awaitable<error_code> trigger_log::reclaim(const std::vector<std::int64_t>& held,
                                                 std::set<std::int64_t>& kept, pg::diagnostics& d) {
    pg::result r;
    auto ec = co_await conn_.async_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND "
        "application_name LIKE 'sfbridge-writeback%' AND pid <> pg_backend_pid()",
        pg::params(static_cast<long>(last_backend_)), r, d);
    std::vector<std::optional<std::string>> ids;
    for (auto id : held)
        ids.push_back(std::to_string(id));
    // Only rows of mappings this replica still leads: a former leader reconnecting after the
    // next leader ended its session takes nothing back (the rows are the next leader's).
    pg::params args(text_array(ids), static_cast<long>(last_backend_));
    const std::string led = led_filter("t.table_name", 3, args);
    if (!ec)
        ec = co_await conn_.async_query(
            "UPDATE " + table("_trigger_log") +
                " t SET state = 'PENDING', processed_tx = pg_backend_pid(), updated_at = now() "
                "WHERE t.id = ANY($1::int[]) AND (t.state = 'NEW' OR (t.state = 'PENDING' AND NOT "
                "EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = t.processed_tx AND "
                "a.datname = current_database() AND a.application_name LIKE 'sfbridge-writeback%' "
                "AND a.pid <> pg_backend_pid() AND "
                "a.pid <> $2)))" +
                led + " RETURNING t.id",
            args, r, d);
    for (int i = 0; !ec && i < r.rows(); ++i)
        kept.insert(std::stoll(std::string(r.value(i, 0))));
    co_return ec;
}

asio::awaitable<error_code> trigger_log::release(const std::vector<std::int64_t>& held,
                                                 const std::vector<std::int64_t>& sent,
                                                 pg::diagnostics& d) {
    std::vector<std::optional<std::string>> ids, unknown;
    for (auto id : held)
        ids.push_back(std::to_string(id));
    for (auto id : sent)
        unknown.push_back(std::to_string(id));
    pg::result r;
    co_return co_await conn_.async_query(
        "UPDATE " + table("_trigger_log") +
            " SET state = 'NEW', updated_at = now(), sf_result = CASE WHEN id = ANY($2::int[]) "
            "THEN $3 ELSE sf_result END, sf_message = CASE WHEN id = ANY($2::int[]) THEN $4 ELSE "
            "sf_message END WHERE id = ANY($1::int[]) AND state = 'PENDING' AND processed_tx = "
            "pg_backend_pid()",
        pg::params(text_array(ids), text_array(unknown), static_cast<long>(sf_result_unknown),
                   std::string(update_unknown_message)),
        r, d);
}

asio::awaitable<error_code> trigger_log::claim(std::size_t limit,
                                               const std::vector<std::string>& skipped,
                                               std::vector<writeback_entry>& out,
                                               pg::diagnostics& d) {
    const std::string tlog = table("_trigger_log");
    pg::params args(static_cast<long>(limit), text_array(std::vector<std::optional<std::string>>(
                                                  skipped.begin(), skipped.end())));
    const std::string led = led_filter("n.table_name", 3, args);
    // Not a record whose older row another session still holds (a former leader's, before it
    // is requeued): the record's writes go out in order.
    const std::string in_order = " AND NOT EXISTS (SELECT 1 FROM " + tlog +
                                 " o WHERE o.table_name = n.table_name AND o.record_id = "
                                 "n.record_id AND o.id < n.id AND o.state = 'PENDING' AND "
                                 "o.processed_tx IS DISTINCT FROM pg_backend_pid())";
    pg::result r;
    auto ec = co_await conn_.async_query(
        "WITH c AS (SELECT n.id FROM " + tlog +
            " n WHERE n.state = 'NEW' AND NOT (n.table_name = ANY($2::text[]))" + led + in_order +
            " ORDER BY n.id LIMIT $1 FOR UPDATE SKIP LOCKED) UPDATE " + tlog +
            " t SET state = 'PENDING', updated_at = now(), processed_tx = pg_backend_pid() FROM c "
            "WHERE t.id = c.id RETURNING t.id, t.action, t.table_name, coalesce(t.record_id, 0), "
            "coalesce(t.sfid, ''), coalesce(t.\"values\", ''), coalesce(t.old, ''), "
            "to_char(t.created_at AT TIME ZONE 'utc', 'YYYY-MM-DD HH24:MI:SS.MS'), "
            "coalesce(t.sf_result, 0), coalesce((extract(epoch FROM t.created_at) * 1000)::bigint, "
            "0)",
        args, r, d);
    if (ec)
        co_return ec;
    for (int i = 0; i < r.rows(); ++i) {
        writeback_entry e;
        e.id = std::stoll(std::string(r.value(i, 0)));
        e.action_text = r.value(i, 1);
        e.action = parse_action(e.action_text);
        e.table = r.value(i, 2);
        e.record_id = std::stoll(std::string(r.value(i, 3)));
        e.sfid = r.value(i, 4);
        e.values = r.value(i, 5);
        e.old = r.value(i, 6);
        e.created_at = r.value(i, 7);
        e.unknown = r.value(i, 8) == std::to_string(sf_result_unknown);
        // (An UPDATE too: one sent as its row's insert, writeback::promote_never_inserted.)
        e.created = (e.action == write_action::insert || e.action == write_action::update) &&
                    !e.sfid.empty() && r.value(i, 8) == std::to_string(sf_result_created);
        e.captured_ms = std::stoll(std::string(r.value(i, 9)));
        e.created_ms = e.captured_ms + sf_clock_offset_ms_;
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(),
              [](const writeback_entry& a, const writeback_entry& b) { return a.id < b.id; });
    co_return error_code{};
}

asio::awaitable<void> trigger_log::wait(std::chrono::milliseconds sweep) {
    pg::notification n;
    pg::diagnostics d;
    (void)co_await conn_.async_receive_notification(n, d, sweep);
}

asio::awaitable<error_code> trigger_log::lock_mappings(const std::vector<std::string>& objects,
                                                       pg::diagnostics& d) {
    std::string sql;
    for (const auto& o : objects) // one statement each: taken in order, never half a statement
        sql += (sql.empty() ? "" : "; ") + std::string("SELECT pg_advisory_lock(") +
               state_sql::mapping_lock_key(schema_, o) + ")";
    auto ec = co_await conn_.async_exec(sql, d);
    // Held now: the epochs cannot move on until the locks go, so a check passed here holds
    // while the creates are sent and their outcomes recorded.
    std::vector<std::string> tables;
    for (const auto& [t, l] : leads_)
        if (std::find(objects.begin(), objects.end(), l.object) != objects.end())
            tables.push_back(t);
    if (!ec)
        ec = co_await fence(tables, d);
    co_return ec;
}

// A replica claims only the rows of the mappings it leads, and none once another replica has
// taken the mapping (its epoch moved on); rows of tables no mapping names, any replica (they
// fail alone). Empty without leads (a write-back alone). Adds three parameters from `first`.
std::string trigger_log::led_filter(const std::string& column, int first, pg::params& args) const {
    if (leads_.empty())
        return {};
    std::vector<std::optional<std::string>> tables, epochs;
    for (const auto& [t, l] : leads_) {
        tables.emplace_back(t);
        epochs.emplace_back(std::to_string(l.epoch));
    }
    args.add(text_array(tables))
        .add(text_array(epochs))
        .add(text_array(std::vector<std::optional<std::string>>(mapped_.begin(), mapped_.end())));
    const auto n = [&](int i) { return "$" + std::to_string(first + i); };
    return " AND (" + column + " IN (SELECT l.t FROM unnest(" + n(0) + "::text[], " + n(1) +
           "::bigint[]) AS l(t, e) JOIN " + table("_sfbridge_state") +
           " s ON s.table_name = l.t AND s.leader_epoch = l.e) OR NOT (" + column + " = ANY(" +
           n(2) + "::text[])))";
}

asio::awaitable<error_code> trigger_log::fence(const std::vector<std::string>& tables,
                                               pg::diagnostics& d) {
    for (const auto& t : tables) {
        const auto it = leads_.find(t);
        if (it == leads_.end())
            continue;
        pg::result r;
        if (auto ec = co_await conn_.async_query(
                leadership_sql::fence(schema_),
                pg::params(it->second.object, static_cast<long long>(it->second.epoch)), r, d))
            co_return ec;
    }
    co_return error_code{};
}

asio::awaitable<error_code> trigger_log::begin(pg::diagnostics& d) {
    co_return co_await conn_.async_exec("BEGIN", d);
}

asio::awaitable<error_code> trigger_log::commit(pg::diagnostics& d) {
    if (auto ec = co_await conn_.async_exec("COMMIT", d))
        co_return ec;
    co_return co_await conn_.async_exec("SELECT pg_advisory_unlock_all()", d);
}

asio::awaitable<void> trigger_log::rollback() {
    if (!conn_.is_open())
        co_return;
    pg::diagnostics ignore;
    // ROLLBACK outside a transaction only warns; the locks go either way, or with the session.
    if (co_await conn_.async_exec("ROLLBACK; SELECT pg_advisory_unlock_all()", ignore))
        conn_.close(); // a session that cannot even roll back is reopened
}

namespace {
std::string record_ids(const std::vector<writeback_entry*>& es) {
    std::vector<std::optional<std::string>> ids;
    for (auto* e : es)
        ids.push_back(std::to_string(e->record_id));
    return text_array(ids);
}
} // namespace

asio::awaitable<error_code> trigger_log::present(const std::string& mapped,
                                                 const std::vector<writeback_entry*>& es,
                                                 std::set<std::int64_t>& out,
                                                 std::map<std::int64_t, std::string>& sfids,
                                                 pg::diagnostics& d) {
    pg::result r;
    auto ec = co_await conn_.async_query("SELECT id, coalesce(sfid, '') FROM " + table(mapped) +
                                             " WHERE id = ANY($1::int[])",
                                         pg::params(record_ids(es)), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i) {
        const auto id = std::stoll(std::string(r.value(i, 0)));
        out.insert(id);
        if (!r.value(i, 1).empty())
            sfids[id] = r.value(i, 1);
    }
    co_return ec;
}

asio::awaitable<error_code> trigger_log::current(const std::string& mapped,
                                                 const std::vector<writeback_entry*>& es,
                                                 std::map<std::int64_t, current_row>& out,
                                                 pg::diagnostics& d) {
    if (es.empty())
        co_return error_code{};
    pg::result r;
    auto ec = co_await conn_.async_query(
        "SELECT id, sfid, coalesce(to_char(systemmodstamp - $2::bigint * interval '1 millisecond', "
        "'YYYY-MM-DD HH24:MI:SS.MS'), ''), hstore(t.*)::text FROM " +
            table(mapped) + " t WHERE id = ANY($1::int[])",
        pg::params(record_ids(es), std::to_string(sf_clock_offset_ms_)), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i) {
        auto& row = out[std::stoll(std::string(r.value(i, 0)))];
        row.sfid = r.is_null(i, 1) ? std::string() : std::string(r.value(i, 1));
        row.modstamp = r.value(i, 2);
        std::string error;
        (void)parse_hstore(r.value(i, 3), row.values, error);
    }
    co_return ec;
}

namespace {
// The values `changed`'s fields had in `old` (an entry's old row), in place; false when `old`
// is unreadable.
bool values_before(std::string_view old, hstore_pairs& changed) {
    hstore_pairs before;
    std::string error;
    if (!parse_hstore(old, before, error))
        return false;
    hstore_pairs out;
    for (const auto& [col, v] : changed)
        for (auto& [bcol, bv] : before)
            if (bcol == col)
                out.emplace_back(col, bv);
    changed = std::move(out);
    return true;
}
} // namespace

asio::awaitable<error_code> trigger_log::sent_values(const std::string& mapped,
                                                     const std::set<std::int64_t>& record_ids,
                                                     const std::vector<writeback_entry*>& batch,
                                                     std::map<std::int64_t, current_row>& rows,
                                                     pg::diagnostics& d) {
    std::vector<std::optional<std::string>> ids, claimed, sfids;
    std::map<std::string, std::int64_t> by_sfid;
    for (auto id : record_ids) {
        ids.emplace_back(std::to_string(id));
        if (const auto row = rows.find(id); row != rows.end() && !row->second.sfid.empty()) {
            sfids.emplace_back(row->second.sfid);
            by_sfid[row->second.sfid] = id;
        }
    }
    for (const auto* e : batch)
        claimed.emplace_back(std::to_string(e->id));
    // Updates only (an insert's entry holds the whole row, defaults included); a field an entry
    // lost to Salesforce in a conflict was not sent. With when each was recorded (after
    // Salesforce applied it), in SystemModstamp's format. Of the updates still waiting outside
    // this batch, each field's newest value only: the row holds it when the app wrote it after
    // the batch was claimed (seed 1033 of the long campaign); an older waiting value was never
    // sent, so a row holding it got it from Salesforce. And the updates of the record through
    // another row: the one the inbound side made of a lost create's echo, which the app updated
    // before the create's row adopted the record (seed 1049 of the long campaign).
    // Applied updates are read from the archive too: processed entries move there within a
    // minute, and a late echo may come after that.
    // And of the updates Salesforce refused, the value each field had before: Salesforce kept
    // it, so a row showing it again shows no change made in Salesforce (seed 1166: a record's
    // echo brought back the value the app's refused write had replaced in the row, and the
    // app's next write of the field lost to it). Their applied_at is empty: never applied.
    auto from = [&](const char* log, const char* states, bool refused = false) {
        const std::string applied = refused ? "''"
                                            : "coalesce(to_char(l.processed_at AT TIME ZONE "
                                              "'utc', 'YYYY-MM-DD HH24:MI:SS.MS'), '')";
        return "SELECT l.id, l.record_id, l.\"values\", coalesce((SELECT string_agg(c.field, "
               "',') FROM " +
               table("_sfbridge_conflicts") +
               " c WHERE c.trigger_log_id = l.id AND c.winner = 'salesforce'), ''), " + applied +
               ", (l.state IN ('NEW', 'PENDING'))::text, coalesce(l.sfid, ''), " +
               (refused ? "l.old" : "NULL") + " FROM " + table(log) +
               " l WHERE l.table_name = $1 AND (l.record_id = ANY($2::int[]) OR l.sfid = "
               "ANY($4::text[])) AND l.action = 'UPDATE' AND l.\"values\" IS NOT NULL AND " +
               states;
    };
    pg::result r;
    auto ec = co_await conn_.async_query(
        "SELECT record_id, \"values\", lost, applied_at, waiting, sfid, before FROM (" +
            from("_trigger_log", "(l.state IN ('SUCCESS', 'MERGED') OR (l.state IN ('NEW', "
                                 "'PENDING') AND l.id <> ALL($3::bigint[])))") +
            " UNION ALL " +
            from("_trigger_log_archive", "l.state IN ('SUCCESS', 'MERGED') AND l.processed_at > "
                                         "now() - interval '3 days'") +
            " UNION ALL " + from("_trigger_log", "l.state = 'FAILED' AND l.old IS NOT NULL", true) +
            " UNION ALL " +
            from("_trigger_log_archive",
                 "l.state = 'FAILED' AND l.old IS NOT NULL AND l.processed_at > now() - "
                 "interval '3 days'",
                 true) +
            ") AS u (id, record_id, \"values\", lost, applied_at, waiting, sfid, before) ORDER "
            "BY id",
        pg::params(mapped, text_array(ids), text_array(claimed), text_array(sfids)), r, d);
    std::map<std::int64_t, std::map<std::string, std::optional<std::string>>> waiting;
    for (int i = 0; !ec && i < r.rows(); ++i) {
        hstore_pairs h;
        std::string error;
        if (!parse_hstore(r.value(i, 1), h, error))
            continue;
        if (!r.is_null(i, 6) && !values_before(r.value(i, 6), h))
            continue; // a refused update: what its fields held before it, when readable
        auto id = std::stoll(std::string(r.value(i, 0)));
        const bool other_row = !record_ids.contains(id);
        if (other_row) { // another row of the record
            const auto owner = by_sfid.find(std::string(r.value(i, 5)));
            // Of another row, only what was sent: the row judged holds what the app wrote to
            // it, not what it wrote to the other row and has yet to send.
            if (owner == by_sfid.end() || r.value(i, 4) == "true")
                continue;
            id = owner->second;
        }
        if (r.value(i, 4) == "true") {
            for (auto& [col, v] : h)
                waiting[id][col] = std::move(v); // in id order: the newest stays
            continue;
        }
        const std::string lost = "," + std::string(r.value(i, 2)) + ",";
        const std::string at(r.value(i, 3));
        auto& row = rows[id];
        for (auto& [col, v] : h)
            if (lost.find("," + col + ",") == std::string::npos) {
                row.sent[col].insert(std::move(v));
                if (!at.empty())
                    row.sent_at[col] = std::max(row.sent_at[col], at);
            }
    }
    for (auto& [id, newest] : waiting)
        for (auto& [col, v] : newest)
            rows[id].sent[col].insert(std::move(v));
    co_return ec;
}

asio::awaitable<error_code> trigger_log::note_created(const std::vector<writeback_entry*>& es,
                                                      pg::diagnostics& d) {
    std::vector<std::optional<std::string>> ids, sfids;
    for (const auto* e : es)
        if (e->action == write_action::insert && !e->new_sfid.empty() && !e->recorded) {
            ids.push_back(std::to_string(e->id));
            sfids.push_back(e->new_sfid);
        }
    if (ids.empty())
        co_return error_code{};
    pg::result r;
    co_return co_await conn_.async_query(
        "UPDATE " + table("_trigger_log") +
            " t SET sfid = x.sfid, sf_result = $3, sf_message = $4 FROM unnest($1::int[], "
            "$2::text[]) AS x(id, sfid) WHERE t.id = x.id AND t.state IN ('NEW', 'PENDING')",
        pg::params(text_array(ids), text_array(sfids), static_cast<long>(sf_result_created),
                   std::string(created_message)),
        r, d);
}

asio::awaitable<error_code> trigger_log::mark_unknown(const std::vector<writeback_entry>& batch,
                                                      pg::diagnostics& d) {
    std::vector<std::optional<std::string>> ids;
    for (const auto& e : batch)
        if (e.pending() && e.unknown && e.action == write_action::insert)
            ids.push_back(std::to_string(e.id)); // an update's flag lives in memory (open())
    if (ids.empty())
        co_return error_code{};
    pg::result r;
    co_return co_await conn_.async_query(
        "UPDATE " + table("_trigger_log") +
            " SET sf_result = $2, sf_message = $3 WHERE id = ANY($1::int[])",
        pg::params(text_array(ids), static_cast<long>(sf_result_unknown),
                   std::string(unknown_message)),
        r, d);
}

asio::awaitable<error_code> trigger_log::record_conflicts(const mappings::resolved_mapping& m,
                                                          const std::vector<write_conflict>& cs,
                                                          const std::vector<std::string>& reread,
                                                          pg::diagnostics& d) {
    std::vector<std::optional<std::string>> rids, sfids, logs, fields, winners, kept, lost;
    for (const auto& k : cs) {
        rids.push_back(std::to_string(k.e->record_id));
        sfids.push_back(k.sfid);
        logs.push_back(std::to_string(k.e->id));
        fields.push_back(k.field);
        winners.push_back(std::string(k.salesforce_won ? "salesforce" : "postgres"));
        kept.push_back(k.kept);
        lost.push_back(k.lost);
    }
    pg::result r;
    auto ec = co_await conn_.async_query(
        state_sql::insert_conflicts(schema_),
        pg::params(m.object_name, m.table, text_array(rids), text_array(sfids), text_array(logs),
                   text_array(fields), text_array(winners), text_array(kept), text_array(lost)),
        r, d);
    if (ec || reread.empty())
        co_return ec;
    std::vector<std::optional<std::string>> ids(reread.begin(), reread.end());
    co_return co_await conn_.async_query(state_sql::queue_reread(schema_),
                                         pg::params(m.table, text_array(ids)), r, d);
}

asio::awaitable<void> trigger_log::archive(std::chrono::seconds after, std::chrono::seconds kept) {
    pg::diagnostics d;
    pg::result r;
    (void)co_await conn_.async_query(
        "WITH moved AS (DELETE FROM " + table("_trigger_log") +
            " WHERE state NOT IN ('NEW', 'PENDING') AND coalesce(updated_at, created_at) < now() "
            "- make_interval(secs => CASE WHEN state = 'FAILED' OR (state = 'IGNORE' AND action "
            "= 'DELETE') THEN $2 ELSE $1 END::double precision) RETURNING *) INSERT INTO " +
            table("_trigger_log_archive") + " SELECT * FROM moved",
        pg::params(static_cast<long>(after.count()),
                   static_cast<long>(std::max(after, kept).count())),
        r, d);
}

asio::awaitable<error_code> trigger_log::count_waiting(std::map<std::string, waiting_rows>& out,
                                                       pg::diagnostics& d) {
    pg::result r;
    // Counted from _trigger_log_idx_state_table_name.
    auto ec = co_await conn_.async_query(
        "SELECT table_name, count(*) FILTER (WHERE state = 'NEW'), count(*) FILTER (WHERE state "
        "= 'PENDING') FROM " +
            table("_trigger_log") + " WHERE state IN ('NEW', 'PENDING') GROUP BY table_name",
        pg::params(), r, d);
    if (ec)
        co_return ec;
    out.clear();
    for (int i = 0; i < r.rows(); ++i)
        out[std::string(r.value(i, 0))] = {std::stoll(std::string(r.value(i, 1))),
                                           std::stoll(std::string(r.value(i, 2)))};
    co_return ec;
}

} // namespace sfbridge::bridge
