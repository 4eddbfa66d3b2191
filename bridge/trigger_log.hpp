#pragma once

#include "bridge/writeback_plan.hpp"
#include "pg/connection.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

// The write-back's side of Postgres: the session that LISTENs for captured writes, claims
// _trigger_log rows NEW -> PENDING (FOR UPDATE SKIP LOCKED, with the claiming backend's pid, so
// two sfbridge processes never send a row twice), reads the mapped rows a plan needs, records
// outcomes in the trigger log and the rows, and archives what is done. The session runs with
// xmlbinary = hex, so Heroku Connect's triggers do not capture sfbridge's own writes.
namespace sfbridge::bridge {

// Whether Postgres refused a statement for the data of a row (SQLSTATE classes 22, 23, P0),
// not for the session or the server: recording the other rows alone then goes through.
[[nodiscard]] bool refused_for_its_data(const std::string& sqlstate);

// A table's rows in the trigger log that are still to be sent (the write-back's queue).
struct waiting_rows {
    std::int64_t fresh = 0;   // NEW: not claimed yet
    std::int64_t pending = 0; // PENDING: claimed, being sent or held back after a failure
};

class trigger_log {
public:
    trigger_log(boost::asio::any_io_executor ex, std::string schema);

    [[nodiscard]] bool is_open() const noexcept { return conn_.is_open(); }
    // Salesforce's clock minus ours (bridge/sf_clock): what claimed entries' created_ms and the
    // rows' SystemModstamp (current) are converted with, so that Salesforce's times and the
    // trigger log's are compared in one clock.
    void set_salesforce_clock_offset(std::int64_t ms) noexcept { sf_clock_offset_ms_ = ms; }
    void close() { conn_.close(); }
    // Replicas (issue 19): this replica's id, in the session's application name (a next leader
    // ends the write-back sessions of a replica whose lock session is gone), and the mappings it
    // leads, by table, with their epochs. With leads set, a claim takes only those tables' rows
    // while their epoch holds, and every recording of outcomes and every insert's lock passes
    // the fence (bridge/leadership_sql). Without (a write-back alone, in tests), neither.
    struct lead {
        std::string object;
        std::int64_t epoch = 0;
    };
    void set_replica(std::string replica) { replica_ = std::move(replica); }
    // `mapped`: every mapped table; rows of other tables (no mapping, no leader) are claimed by
    // any replica and fail alone.
    void set_leads(std::map<std::string, lead> by_table, std::vector<std::string> mapped) {
        leads_ = std::move(by_table);
        mapped_ = std::move(mapped);
    }
    // Ends a notification wait at once (the stop).
    void cancel_wait() { conn_.cancel_notification_wait(); }

    // Connects, LISTENs, and sends again the rows claimed by a process that died before sending
    // them (PENDING rows whose claiming session is gone). Its inserts and updates may have
    // reached Salesforce: they are marked unknown, so the inserts' records are looked for
    // first and the updates' echoes are not taken for Salesforce changes.
    // `held`: the rows this write-back still holds from a session that was lost (a restart of
    // Postgres, a network cut, a terminated backend). That session is ended if it lingers, and
    // these rows are claimed again first, so that they are not sent a second time; `kept` gets
    // those still ours (not finished or taken by another sfbridge meanwhile).
    boost::asio::awaitable<boost::system::error_code> open(const std::string& dsn,
                                                           const std::vector<std::int64_t>& held,
                                                           std::set<std::int64_t>& kept,
                                                           pg::diagnostics& diag);
    // PENDING rows of sessions that are gone, back to NEW (marked unknown where sent).
    boost::asio::awaitable<boost::system::error_code> requeue_orphans(pg::diagnostics& diag);
    // Up to `limit` NEW rows, now PENDING, in id order; none of the `skipped` tables.
    boost::asio::awaitable<boost::system::error_code> claim(std::size_t limit,
                                                            const std::vector<std::string>& skipped,
                                                            std::vector<writeback_entry>& out,
                                                            pg::diagnostics& diag);
    // Claimed rows back to NEW (to be claimed again later, in their order); `sent`: updates
    // among them sent with their answer lost, marked so (sf_result_unknown).
    boost::asio::awaitable<boost::system::error_code> release(const std::vector<std::int64_t>& ids,
                                                              const std::vector<std::int64_t>& sent,
                                                              pg::diagnostics& diag);
    // Until a NOTIFY, the sweep interval or cancel_wait().
    boost::asio::awaitable<void> wait(std::chrono::milliseconds sweep);

    // The mappings' advisory locks, for this session (held until commit() or rollback(), or
    // the session's end), outside any transaction: the reads and the Salesforce calls that
    // follow hold no lock on the app's tables, so an app's DDL (a migration, a trigger) never
    // waits for a call in flight, nor do the app's queries queued behind it (seed 1060).
    boost::asio::awaitable<boost::system::error_code>
    lock_mappings(const std::vector<std::string>& objects, pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code> begin(pg::diagnostics& diag);
    // COMMIT, then the mappings' locks released.
    boost::asio::awaitable<boost::system::error_code> commit(pg::diagnostics& diag);
    // Ends a failed transaction and releases the locks (best effort: a lost session has
    // neither left).
    boost::asio::awaitable<void> rollback();
    // Which of these record ids still have a row in the table, and which of those rows hold a
    // record already (their sfid).
    boost::asio::awaitable<boost::system::error_code>
    present(const std::string& table, const std::vector<writeback_entry*>& es,
            std::set<std::int64_t>& out, std::map<std::int64_t, std::string>& sfids,
            pg::diagnostics& diag);
    // The rows of these entries as they are now (sfid, SystemModstamp, every column). The
    // SystemModstamp is Salesforce's time; less the clock offset it is in the clock of the
    // trigger log's timestamps, which conflict detection compares it with.
    boost::asio::awaitable<boost::system::error_code>
    current(const std::string& table, const std::vector<writeback_entry*>& es,
            std::map<std::int64_t, current_row>& out, pg::diagnostics& diag);

    // For records with a suspected conflict, the values the app's updates gave each field:
    // every value SUCCESS or MERGED ones sent (with when, current_row::sent_at), and the newest
    // of those still waiting outside `batch` (the app's write made after the batch was
    // claimed). Only on that rare path: _trigger_log has no index on record_id (Heroku
    // Connect's has none) and holds a day of entries.
    boost::asio::awaitable<boost::system::error_code>
    sent_values(const std::string& table, const std::set<std::int64_t>& record_ids,
                const std::vector<writeback_entry*>& batch,
                std::map<std::int64_t, current_row>& rows, pg::diagnostics& diag);

    // Keeps the sfids of creates Salesforce answered whose outcome Postgres has not taken yet
    // (sf_result_created), outside any transaction: whatever happens to this process, they are
    // adopted, not created again.
    boost::asio::awaitable<boost::system::error_code>
    note_created(const std::vector<writeback_entry*>& es, pg::diagnostics& diag);
    // Marks the pending entries whose create has an unknown outcome (sf_result, sf_message), so
    // that a restart reconciles them too.
    boost::asio::awaitable<boost::system::error_code>
    mark_unknown(const std::vector<writeback_entry>& batch, pg::diagnostics& diag);
    // Which of these sfids are held by a row the app inserted (a row with an INSERT in the
    // trigger log), other than the `own` rows: records linked to another row, which a
    // reconciliation must not adopt.
    // The app's updates sent to these records (or sent with their answer lost), as (sfid,
    // values): what the app itself changed in a record since it was created.
    boost::asio::awaitable<boost::system::error_code>
    updates_sent_to(const std::string& table, const std::vector<std::string>& sfids,
                    std::vector<std::pair<std::string, std::string>>& out, pg::diagnostics& diag);
    // Which of these sfids the app's own DELETEs of rows it inserted removed (in the trigger log
    // or its archive): a record that another row's create may not adopt. With
    // `of_inserted_rows_only`, a DELETE of a row the inbound side made (a lost create's echo)
    // does not count: it deletes that create's record. (Only when the candidates are the
    // integration user's own records: a Salesforce user's record could look like the create.)
    // Of these rows, those with no sfid whose INSERT never made a record (FAILED, or never
    // logged: a row of a mapping that was read-only then): no INSERT entry of theirs is waiting,
    // sent or merged, in the trigger log or its archive. Each with its current values, as the
    // logging trigger captures an INSERT's.
    boost::asio::awaitable<boost::system::error_code>
    never_inserted(const std::string& table, const std::vector<std::int64_t>& record_ids,
                   std::map<std::int64_t, std::string>& out, pg::diagnostics& diag);
    // Which of these sfids came back as the answer to an INSERT of a row other than `own` (in the
    // trigger log or its archive): records made for other rows, never these rows' own.
    boost::asio::awaitable<boost::system::error_code>
    answered_to_other_rows(const std::string& table, const std::vector<std::string>& sfids,
                           const std::vector<std::int64_t>& own, std::set<std::string>& out,
                           pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    deleted_by_app(const std::string& table, const std::vector<std::string>& sfids,
                   bool of_inserted_rows_only, std::set<std::string>& out, pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    held_by_app_rows(const std::string& table, const std::vector<std::string>& sfids,
                     const std::vector<std::int64_t>& own, std::set<std::string>& out,
                     pg::diagnostics& diag);

    // The finished entries' outcomes into _trigger_log and the mapped rows, in one transaction
    // (or in the caller's, when `in_transaction`). Rolled back on failure. A row that adopts a
    // record found by reconciliation replaces the row the inbound side made of its echo. With
    // `refused`, outside a transaction: when Postgres refuses the data of some row (SQLSTATE
    // 22, 23, P0: the app's trigger, a constraint), the rows are recorded one by one and those
    // refused are left out, in `refused` (each with its stamp_error); no error then.
    boost::asio::awaitable<boost::system::error_code>
    record(const std::vector<writeback_entry*>& done, bool in_transaction, pg::diagnostics& diag,
           std::vector<writeback_entry*>* refused = nullptr);
    // Conflicts into _sfbridge_conflicts; the records of `reread` are queued to be read again
    // from Salesforce (by the mapping's poller), to put Salesforce's values back in their rows.
    boost::asio::awaitable<boost::system::error_code>
    record_conflicts(const mappings::resolved_mapping& m,
                     const std::vector<write_conflict>& conflicts,
                     const std::vector<std::string>& reread, pg::diagnostics& diag);
    // Processed rows older than `after` move to _trigger_log_archive.
    // Moves processed entries to the archive `after` their last update; FAILED entries (which
    // Heroku Connect's documented error query and monitors read in _trigger_log) and the IGNORE
    // of a DELETE (which a create answered late turns back to NEW, delete_records_of_gone_rows)
    // only `kept` after. An entry never updated counts from its capture (the logging trigger
    // leaves updated_at NULL on IGNORE and READONLY).
    boost::asio::awaitable<void> archive(std::chrono::seconds after, std::chrono::seconds kept);
    // The rows waiting to be sent, by table name: NEW (not claimed) and PENDING (claimed, or
    // held back after a transient failure). `out` is replaced.
    boost::asio::awaitable<boost::system::error_code>
    count_waiting(std::map<std::string, waiting_rows>& out, pg::diagnostics& diag);

private:
    boost::asio::awaitable<boost::system::error_code>
    record_statements(const std::vector<writeback_entry*>& done, pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    queue_rereads(const std::string& table, const std::vector<writeback_entry*>& done,
                  const pg::result& stamped, pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    delete_records_of_gone_rows(const std::string& table, const std::vector<writeback_entry*>& done,
                                const pg::result& stamped, pg::diagnostics& diag);
    boost::asio::awaitable<boost::system::error_code>
    record_each(const std::vector<writeback_entry*>& done, std::vector<writeback_entry*>& refused,
                pg::diagnostics& diag);
    std::string table(const std::string& name) const;
    std::string inserted_by_app(const std::string& mapped) const;
    boost::asio::awaitable<boost::system::error_code> reclaim(const std::vector<std::int64_t>& held,
                                                              std::set<std::int64_t>& kept,
                                                              pg::diagnostics& diag);

    pg::connection conn_;
    std::string schema_;
    std::int64_t sf_clock_offset_ms_ = 0;
    int last_backend_ = 0; // the session before a reconnect, ended if it lingers
    std::string replica_;
    std::map<std::string, lead> leads_;
    std::vector<std::string> mapped_;
    [[nodiscard]] std::string led_filter(const std::string& column, int first,
                                         pg::params& args) const;
    boost::asio::awaitable<boost::system::error_code> fence(const std::vector<std::string>& tables,
                                                            pg::diagnostics& diag);
};

} // namespace sfbridge::bridge
