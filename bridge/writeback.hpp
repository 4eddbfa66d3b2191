#pragma once

#include "bridge/trigger_log.hpp"
#include "bridge/write_algorithm.hpp"
#include "core/prometheus.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/collections.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

// Postgres to Salesforce: the app's writes, captured by the Heroku Connect triggers into
// _trigger_log, sent with sObject Collections within milliseconds of their commit.
//
//  - LISTEN on "<schema>.hc_trigger_log" wakes it; a sweep every few seconds is the safety net.
//  - Rows are claimed NEW -> PENDING in one statement with FOR UPDATE SKIP LOCKED, so two
//    sfbridge processes on one database never send a row twice. At start, PENDING rows (claimed
//    by a process that died before sending them) go back to NEW.
//  - A claimed batch is sent in trigger-log order by phase: inserts (create, or upsert by the
//    mapping's upsert_field), then updates (by sfid; an update whose row has no sfid yet waits
//    for its insert in the same batch, whose sfid is written back first), then deletes.
//    Ordered writes (the default, as Heroku Connect's "Ordered Writes"): several updates of one
//    record are distinct writes, sent in rounds in trigger-log order, a later one never before
//    an earlier one has gone through. Merged writes: they become one write, later values
//    winning, and the earlier entries are marked MERGED.
//  - Outcomes: SUCCESS with _hc_lastop INSERTED/UPDATED and the new sfid written back to the
//    row; FAILED with sf_message, _hc_lastop FAILED and _hc_err as JSON. Writes run with
//    xmlbinary = hex, so none of this is captured again. Transient failures (locks, 5xx,
//    expired sessions, limits, Salesforce unreachable) stay PENDING and are retried with
//    capped backoff, in order, until they go through.
//  - Conflicts: an update whose field Salesforce also changed since the app read the row (the
//    row, kept current by the inbound engine, holds neither the value before the app's edit
//    nor the app's value) goes to the later of the two: Salesforce's change if the row's
//    SystemModstamp is after the app's write (that field is not sent; an entry left with
//    nothing to send is marked CONFLICT), else the app's. The losing value is recorded in
//    _sfbridge_conflicts.
//  - Processed rows move to _trigger_log_archive after `archive_after`.
namespace sfbridge::bridge {

struct writeback_config {
    std::string database_url;
    write_algorithm algorithm = write_algorithm::ordered;
    std::string schema = "salesforce";
    std::size_t claim_batch = 4000;
    std::chrono::milliseconds sweep{5000};
    std::chrono::milliseconds retry_initial{200};
    std::chrono::milliseconds retry_max{30000};
    std::chrono::seconds archive_after{30};
    // FAILED entries, and the IGNORE of a DELETE, stay in _trigger_log this long (trigger_log::
    // archive).
    std::chrono::seconds failed_kept{std::chrono::hours(24)};
    // After stop(), outcomes Postgres will not take are retried this long (the process's
    // shutdown grace), then left: the created records are noted (note_created) if possible.
    std::chrono::seconds shutdown_grace{std::chrono::seconds(30)};
    // True once the inbound side has caught up (its first poll): writes wait for it at start, so
    // that conflicts with Salesforce changes made while sfbridge was down are seen. Asked once
    // at start; then writeback::inbound_caught_up() ends the wait.
    std::function<bool()> inbound_caught_up;
    std::chrono::milliseconds catch_up_wait{std::chrono::seconds(60)};
    // Salesforce's clock minus ours, as the inbound side last measured it (bridge/sf_clock; 0
    // when unset or never measured): conflict detection and the lookup of lost creates compare
    // Salesforce's times with the trigger log's in one clock.
    std::function<std::int64_t()> salesforce_clock_offset;
    // Records of this mapped table were queued in _sfbridge_reread (adopted, or changed by the
    // app in fields the mapping never writes back): its poller is asked to read them again now
    // rather than at its next poll.
    std::function<void(const std::string& table)> reread_queued;
    // Replicas (issue 19): this replica's id and the mappings it leads, by table, with their
    // epochs (trigger_log::set_leads); `fenced` is told when Postgres refused a write because
    // another replica has taken a mapping over (the engine stops at once).
    std::string replica;
    std::map<std::string, trigger_log::lead> leads;
    std::vector<std::string> mapped_tables; // all of the mapping file's
    std::function<void()> fenced;
};

// A write Salesforce refused, as the status page lists it (the newest few are kept).
struct refused_write {
    std::int64_t at_ms = 0;
    std::string mapping, action;
    std::int64_t record_id = 0;
    std::string error; // Salesforce's code and message, as `sfbridge errors` shows them
};

// A field both sides changed (the values are in _sfbridge_conflicts, not on the endpoint).
struct noted_conflict {
    std::int64_t at_ms = 0;
    std::string mapping;
    std::int64_t record_id = 0;
    std::string sfid, field;
    bool salesforce_won = false;
};

struct writeback_stats {
    static constexpr std::size_t recent_refusals = 20; // and recent conflicts
    std::size_t sent = 0;
    std::size_t failed = 0;
    std::size_t retried = 0;
    std::size_t conflicts = 0; // fields, as _sfbridge_conflicts records them
    // Per mapping (object name): the app's commit (the trigger log's created_at) to the
    // outcome recorded, in seconds, for every write Salesforce answered.
    std::map<std::string, prometheus::histogram> latency;
    std::deque<refused_write> refused;           // newest last, at most recent_refusals
    std::deque<noted_conflict> recent_conflicts; // newest last, likewise
    // Rows still to be sent, per mapping (object name), as last counted (between batches, at
    // most once a second); queue_counted_ms 0: never counted.
    std::map<std::string, waiting_rows> queue;
    std::int64_t queue_counted_ms = 0;
};

class writeback {
public:
    writeback(boost::asio::any_io_executor ex, writeback_config cfg,
              std::vector<mappings::resolved_mapping> mappings, salesforce::rest_client& rest);

    // Runs until stop(); reconnects to Postgres as needed.
    boost::asio::awaitable<void> run();
    void stop();
    // The inbound side has caught up (see writeback_config::inbound_caught_up): writes start.
    void inbound_caught_up();
    [[nodiscard]] const writeback_stats& stats() const noexcept { return stats_; }

    using entry = writeback_entry;

private:
    // Tells cfg_.fenced when Postgres refused a write for a stale epoch.
    void check_fenced(const pg::diagnostics& d);
    // Each step returns true when something met a transient failure (those entries stay
    // pending and the batch is sent again after a backoff).
    boost::asio::awaitable<bool> process(std::vector<entry>& batch);
    boost::asio::awaitable<void> drain(std::vector<entry>& batch);
    boost::asio::awaitable<bool> reopen(std::vector<entry>& batch);
    // Finished entries whose outcome is not in Postgres yet; marking them recorded.
    static std::vector<entry*> unrecorded(std::vector<entry>& batch);
    void recorded(const std::vector<entry*>& done);
    void note_conflicts(const mappings::resolved_mapping& m,
                        const std::vector<write_conflict>& conflicts);
    boost::asio::awaitable<void> count_queue(bool going_idle);
    // Records every known outcome and drops those entries; true when Postgres failed.
    boost::asio::awaitable<bool> record_known(std::vector<entry>& batch);
    boost::asio::awaitable<void> keep_created(const std::vector<entry*>& done);
    boost::asio::awaitable<void> promote_never_inserted(std::vector<entry>& batch);
    std::chrono::steady_clock::time_point stop_deadline_{};
    boost::asio::awaitable<bool> send_inserts(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es);
    // One collection call; applies each result to its owner. Per owner: stays pending.
    boost::asio::awaitable<std::vector<bool>>
    save(const mappings::resolved_mapping& m, salesforce::collection_op op,
         const std::string& ext_name, std::vector<std::string>& records,
         const std::vector<entry*>& owners, bool& transient);
    boost::asio::awaitable<bool> forget_deleted_rows(const mappings::resolved_mapping& m,
                                                     std::vector<entry*>& gone);
    boost::asio::awaitable<bool> send_updates(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es);
    boost::asio::awaitable<bool> send_deletes(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es);
    boost::asio::awaitable<boost::system::error_code>
    record(const std::vector<entry*>& done, bool in_transaction,
           std::vector<entry*>* refused = nullptr);
    boost::asio::awaitable<void> wait_for_inbound();
    // A mapping whose daily API budget is spent: its writes go back to NEW and are not claimed
    // for a minute or until the budget allows a call, so the other mappings' writes go on.
    void park(const mappings::resolved_mapping& m);
    static bool only_refused_rows(std::vector<entry>& batch);
    std::vector<std::string> parked_tables();
    boost::asio::awaitable<void> release_parked(std::vector<entry>& batch);
    boost::asio::awaitable<void> pause(std::chrono::milliseconds d);
    boost::asio::awaitable<void> nap(std::chrono::milliseconds d);
    const mappings::resolved_mapping* mapping_for(const std::string& table) const;

    boost::asio::any_io_executor ex_;
    writeback_config cfg_;
    std::vector<mappings::resolved_mapping> maps_;
    salesforce::rest_client& rest_;
    trigger_log log_;
    boost::asio::steady_timer pause_;
    bool stopping_ = false;
    bool caught_up_ = false;
    bool waiting_for_inbound_ = false;
    writeback_stats stats_;
    std::chrono::steady_clock::time_point last_archive_{};
    std::chrono::steady_clock::time_point last_requeue_{};
    std::chrono::steady_clock::time_point queue_counted_{};
    std::chrono::steady_clock::duration queue_count_took_{};
    struct parked {
        std::string object_name; // the budget's tag
        std::chrono::steady_clock::time_point until;
    };
    std::map<std::string, parked> parked_; // by table
    // Outcomes Postgres refused to record for their rows' data, carried into later batches.
    std::vector<entry> carried_;
    [[nodiscard]] std::int64_t salesforce_clock_offset() const {
        return cfg_.salesforce_clock_offset ? cfg_.salesforce_clock_offset() : 0;
    }
    std::set<std::string> batch_sfids_; // records created in this batch, answered
};

} // namespace sfbridge::bridge
