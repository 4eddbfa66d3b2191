// Recording outcomes (trigger_log::record): in one transaction, or, when Postgres refuses a
// row's data (the app's trigger raised for one row, a constraint), row by row so that the refusal
// stays with that row.
#include "bridge/state_sql.hpp"
#include "bridge/trigger_log.hpp"
#include "mappings/ddl.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using pg::text_array;

bool refused_for_its_data(const std::string& sqlstate) {
    // 22: data exception, 23: integrity constraint, P0: raised by PL/pgSQL (an app's trigger).
    return sqlstate.starts_with("22") || sqlstate.starts_with("23") || sqlstate.starts_with("P0");
}

// The statements that record these outcomes, in the caller's transaction.
asio::awaitable<error_code>
trigger_log::record_statements(const std::vector<writeback_entry*>& done, pg::diagnostics& d) {
    const auto log = trigger_log_outcomes(done);
    std::vector<std::string> tables;
    for (const auto* e : done)
        if (std::find(tables.begin(), tables.end(), e->table) == tables.end())
            tables.push_back(e->table);
    std::sort(tables.begin(), tables.end()); // the writer locks in one order
    pg::result r;
    if (auto ec = co_await fence(tables, d))
        co_return ec;
    auto ec = co_await conn_.async_query(
        "UPDATE " + table("_trigger_log") +
            " t SET state = x.state, sf_message = x.msg, sfid = coalesce(x.sfid, t.sfid), "
            "sf_result = NULL, "
            "processed_at = now(), updated_at = now() FROM unnest($1::int[], $2::text[], "
            "$3::text[], $4::text[]) AS x(id, state, msg, sfid) WHERE t.id = x.id",
        pg::params(text_array(log.ids), text_array(log.states), text_array(log.messages),
                   text_array(log.sfids)),
        r, d);
    for (const auto& rows : echo_replacing_rows(done)) {
        if (ec)
            break;
        // The inbound side may have made a row of the record's echo: the app's row is that
        // record's row now.
        ec = co_await conn_.async_query(
            "DELETE FROM " + table(rows.table) +
                " t USING unnest($1::int[], $2::text[]) AS x(id, sfid) WHERE t.sfid = x.sfid AND "
                "t.id <> x.id AND NOT " +
                inserted_by_app(rows.table),
            pg::params(text_array(rows.record_ids), text_array(rows.sfids)), r, d);
    }
    for (const auto& rows : mapped_row_outcomes(done)) {
        if (ec)
            break;
        ec = co_await conn_.async_query(
            "UPDATE " + table(rows.table) +
                " t SET sfid = coalesce(x.sfid, t.sfid), _hc_lastop = x.op, _hc_err = x.err FROM "
                "unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS x(id, sfid, op, err) "
                "WHERE t.id = x.id RETURNING t.id",
            pg::params(text_array(rows.record_ids), text_array(rows.sfids), text_array(rows.ops),
                       text_array(rows.errors)),
            r, d);
        if (!ec)
            ec = co_await queue_rereads(rows.table, done, r, d);
        if (!ec)
            ec = co_await delete_records_of_gone_rows(rows.table, done, r, d);
    }
    for (const auto& rows : rows_of_deleted_records(done)) {
        if (ec)
            break;
        ec = co_await conn_.async_query("DELETE FROM " + table(rows.table) +
                                            " WHERE id = ANY($1::int[])",
                                        pg::params(text_array(rows.record_ids)), r, d);
    }
    co_return ec;
}

// What Salesforce users did to adopted records before now may be on a row just deleted (the
// echo's), or undone since the look (a record found deleted, then undeleted): the mapping's
// poller reads them again once this commits (refused_retry.hpp). Not the records of rows the
// app deleted meanwhile: their DELETE is sent (delete_records_of_gone_rows), and a re-read
// would bring them back as rows until it is. `stamped`: the ids the mapped-row UPDATE returned.
asio::awaitable<error_code> trigger_log::queue_rereads(const std::string& mapped,
                                                       const std::vector<writeback_entry*>& done,
                                                       const pg::result& stamped,
                                                       pg::diagnostics& d) {
    std::set<std::int64_t> present;
    for (int i = 0; i < stamped.rows(); ++i)
        present.insert(std::stoll(std::string(stamped.value(i, 0))));
    std::vector<std::optional<std::string>> sfids;
    for (const auto* e : done)
        if (e->table == mapped && e->replaces_echo && !e->new_sfid.empty() &&
            (e->record_deleted || present.contains(e->record_id)))
            sfids.push_back(e->new_sfid);
    if (sfids.empty())
        co_return error_code{};
    pg::result r;
    co_return co_await conn_.async_query(state_sql::queue_reread(schema_),
                                         pg::params(mapped, text_array(sfids)), r, d);
}

// Creates answered for rows the app deleted before the sfid was in them: the trigger logged
// those DELETEs as IGNORE (a row without an sfid was never in Salesforce, it assumes). They go
// back to NEW with the record's sfid, so the records are deleted like any row's, crash-safe.
// `stamped`: the ids the mapped-row UPDATE returned.
asio::awaitable<error_code>
trigger_log::delete_records_of_gone_rows(const std::string& mapped,
                                         const std::vector<writeback_entry*>& done,
                                         const pg::result& stamped, pg::diagnostics& d) {
    std::set<std::int64_t> present;
    for (int i = 0; i < stamped.rows(); ++i)
        present.insert(std::stoll(std::string(stamped.value(i, 0))));
    std::vector<std::optional<std::string>> ids, sfids;
    for (const auto* e : done)
        if (e->table == mapped && e->action == write_action::insert &&
            e->outcome == writeback_entry::result::success && !e->new_sfid.empty() &&
            !e->record_deleted && !present.contains(e->record_id)) {
            ids.push_back(std::to_string(e->record_id));
            sfids.push_back(e->new_sfid);
        }
    if (ids.empty())
        co_return error_code{};
    pg::result r;
    co_return co_await conn_.async_query(
        "UPDATE " + table("_trigger_log") +
            " l SET state = 'NEW', sfid = x.sfid FROM unnest($1::int[], $2::text[]) AS x(id, "
            "sfid) WHERE l.table_name = $3 AND l.record_id = x.id AND l.action = 'DELETE' AND "
            "l.state = 'IGNORE' AND l.sfid IS NULL",
        pg::params(text_array(ids), text_array(sfids), mapped), r, d);
}

asio::awaitable<error_code> trigger_log::record(const std::vector<writeback_entry*>& done,
                                                bool in_transaction, pg::diagnostics& d,
                                                std::vector<writeback_entry*>* refused) {
    if (done.empty())
        co_return error_code{};
    error_code ec;
    if (!in_transaction)
        ec = co_await conn_.async_exec("BEGIN", d);
    if (!ec)
        ec = co_await record_statements(done, d);
    if (!ec && !in_transaction)
        ec = co_await conn_.async_exec("COMMIT", d);
    if (ec && conn_.is_open()) {
        pg::diagnostics ignore;
        (void)co_await conn_.async_exec("ROLLBACK", ignore);
    }
    if (ec && refused && !in_transaction && conn_.is_open() && refused_for_its_data(d.sqlstate))
        co_return co_await record_each(done, *refused, d);
    co_return ec;
}

// Each row's outcomes (the entries of one table row together: the row takes its latest) under
// a savepoint of one transaction; a row Postgres refuses is rolled back to its savepoint and
// left out, in `refused`.
asio::awaitable<error_code> trigger_log::record_each(const std::vector<writeback_entry*>& done,
                                                     std::vector<writeback_entry*>& refused,
                                                     pg::diagnostics& d) {
    std::map<std::pair<std::string, std::int64_t>, std::vector<writeback_entry*>> rows;
    for (auto* e : done)
        rows[{e->table, e->record_id}].push_back(e);
    std::vector<std::pair<writeback_entry*, std::string>> why; // set once committed
    auto ec = co_await conn_.async_exec("BEGIN", d);
    for (auto& [key, es] : rows) {
        if (ec)
            break;
        ec = co_await conn_.async_exec("SAVEPOINT sfbridge_row", d);
        if (ec)
            break;
        pg::diagnostics row_d;
        ec = co_await record_statements(es, row_d);
        if (!ec) {
            ec = co_await conn_.async_exec("RELEASE SAVEPOINT sfbridge_row", d); // none nest
        } else if (conn_.is_open() && refused_for_its_data(row_d.sqlstate)) {
            ec = co_await conn_.async_exec(
                "ROLLBACK TO SAVEPOINT sfbridge_row; RELEASE SAVEPOINT sfbridge_row", d);
            for (auto* e : es)
                why.emplace_back(e, row_d.summary());
        } else {
            d = row_d;
        }
    }
    // A deferred constraint refusing at COMMIT fails the whole batch, as before this pass.
    if (!ec)
        ec = co_await conn_.async_exec("COMMIT", d);
    if (!ec)
        for (auto& [e, text] : why) {
            e->stamp_error = std::move(text);
            refused.push_back(e);
        }
    if (ec) {
        refused.clear();
        if (conn_.is_open()) {
            pg::diagnostics ignore;
            (void)co_await conn_.async_exec("ROLLBACK", ignore);
        }
    }
    co_return ec;
}

} // namespace sfbridge::bridge
