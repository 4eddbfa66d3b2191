#pragma once

#include "mappings/resolve.hpp"
#include "pg/connection.hpp"
#include "salesforce/collections.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
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
//    for its insert in the same batch, whose sfid is written back first), then deletes. Several
//    updates of one record in a batch are merged into one write, later values winning.
//  - Outcomes: SUCCESS with _hc_lastop INSERTED/UPDATED and the new sfid written back to the
//    row; FAILED with sf_message, _hc_lastop FAILED and _hc_err as JSON. Writes run with
//    xmlbinary = hex, so none of this is captured again. Transient failures (locks, 5xx,
//    expired sessions, limits, Salesforce unreachable) stay PENDING and are retried with
//    capped backoff, in order, until they go through.
//  - Processed rows move to _trigger_log_archive after `archive_after`.
namespace sfbridge::bridge {

struct writeback_config {
    std::string database_url;
    std::string schema = "salesforce";
    std::size_t claim_batch = 2000;
    std::chrono::milliseconds sweep{5000};
    std::chrono::milliseconds retry_initial{200};
    std::chrono::milliseconds retry_max{30000};
    std::chrono::seconds archive_after{std::chrono::hours(24)};
};

struct writeback_stats {
    std::size_t sent = 0;
    std::size_t failed = 0;
    std::size_t retried = 0;
};

class writeback {
public:
    writeback(boost::asio::any_io_executor ex, writeback_config cfg,
              std::vector<mappings::resolved_mapping> mappings, salesforce::rest_client& rest);

    // Runs until stop(); reconnects to Postgres as needed.
    boost::asio::awaitable<void> run();
    void stop();
    [[nodiscard]] const writeback_stats& stats() const noexcept { return stats_; }

    struct entry {
        std::int64_t id = 0;
        std::string action; // INSERT, UPDATE, DELETE
        std::string table;
        std::int64_t record_id = 0;
        std::string sfid;
        std::string values; // hstore text
        // The outcome.
        enum class result { pending, success, failed } outcome = result::pending;
        std::string new_sfid;
        std::string error_code, message;
        std::vector<std::string> fields;
    };

private:
    boost::asio::awaitable<boost::system::error_code> open();
    boost::asio::awaitable<std::vector<entry>> claim(boost::system::error_code& ec);
    boost::asio::awaitable<bool> process(std::vector<entry>& batch);
    boost::asio::awaitable<void> send_inserts(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es);
    boost::asio::awaitable<void> send_updates(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es);
    boost::asio::awaitable<void> send_deletes(const mappings::resolved_mapping& m,
                                              std::vector<entry*>& es);
    boost::asio::awaitable<boost::system::error_code> record(std::vector<entry*>& done,
                                                             bool in_transaction);
    boost::asio::awaitable<void> archive();
    const mappings::resolved_mapping* mapping_for(const std::string& table) const;
    // Applies one record's result to its entry; true when it stays pending (transient).
    static bool take(entry& e, const salesforce::record_result& r, bool is_delete);

    boost::asio::any_io_executor ex_;
    writeback_config cfg_;
    std::vector<mappings::resolved_mapping> maps_;
    salesforce::rest_client& rest_;
    pg::connection conn_;
    boost::asio::steady_timer pause_;
    bool stopping_ = false;
    bool transient_ = false; // the last send hit a transient failure
    writeback_stats stats_;
    std::chrono::steady_clock::time_point last_archive_{};
};

} // namespace sfbridge::bridge
