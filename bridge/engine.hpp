#pragma once

#include "bridge/change_batch.hpp"
#include "bridge/push_event.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/writeback.hpp"
#include "cometd/client.hpp"
#include "mappings/mapping_file.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

// The Salesforce-to-Postgres engine: for every mapping, the table (created or migrated), the
// initial load (REST query, or Bulk API 2.0 above a threshold, written with COPY), then live
// changes from the mapping's hc_ PushTopic (resumed from the replay id committed in Postgres),
// SystemModstamp polling with an overlap, and deletes found with queryAll. One Asio thread.
//
// Flow of a change: the CometD client's bounded queue -> the stream loop, which drains what is
// queued (up to max_batch) into per-mapping change batches -> one transaction per mapping that
// also stores the replay id -> the replay id is committed to the client. While a transaction
// commits, the next events gather in the queue, so batches grow with the load and a single
// event at low load is written at once. When Postgres falls behind, the queue fills and the
// client stops asking for events (back-pressure).
namespace sfbridge::bridge {

struct engine_config {
    std::string database_url;
    std::string schema = "salesforce";
    salesforce::rest_config salesforce;
    mappings::mapping_file mappings;
    std::size_t bulk_threshold = 10000; // initial loads of more rows use Bulk API 2.0
    std::size_t max_batch = 5000;       // changes per transaction
    // Rows per COPY transaction of a load into an empty table: more than a stream batch, as
    // each one costs two ALTER TABLEs and a commit (20,000 rows are about 4 MB of COPY text).
    std::size_t load_batch = 20000;
    // Connections an initial load of an empty table writes on, side by side (1 or 2).
    std::size_t load_connections = 2;
    std::chrono::milliseconds poll_overlap{std::chrono::seconds(60)};
    std::optional<std::chrono::milliseconds> poll_interval; // overrides sf_polling_seconds
    std::size_t stream_queue = 20000;
    net::client_options cometd_http; // defaults to salesforce.http
    std::vector<std::string> reload; // objects to load again from scratch
    bool writeback = true;           // send read-write mappings' captured writes to Salesforce
    write_algorithm writes = write_algorithm::ordered;
    std::chrono::seconds archive_after{std::chrono::hours(24)};
    // Tombstones of deleted records older than this are pruned (see prune_tombstones).
    std::chrono::seconds tombstone_retention{std::chrono::hours(24 * 7)};
};

struct mapping_stats {
    std::string object;
    std::size_t rows_loaded = 0;
    std::size_t events = 0;
    std::size_t polled = 0;
    std::size_t polls = 0;
    std::size_t deletes = 0;
    std::size_t errors = 0;
};

class engine {
public:
    engine(boost::asio::any_io_executor ex, engine_config cfg);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Everything a misconfiguration breaks: login, describes, mapping validation, the database,
    // DDL, PushTopics. False with one clear message in `error`.
    boost::asio::awaitable<bool> start(std::string& error);
    // Loads what needs loading, then streams and polls until stop(). Transient failures are
    // retried; the loop never ends on its own.
    boost::asio::awaitable<void> run();
    // Stops taking events, commits what is in flight, disconnects.
    void stop();

    [[nodiscard]] std::vector<mapping_stats> stats() const;
    [[nodiscard]] const std::vector<mappings::resolved_mapping>& resolved() const noexcept;
    [[nodiscard]] const writeback* writer() const noexcept { return writeback_.get(); }
    // The loops still running (for the shutdown deadline's message).
    [[nodiscard]] std::string running() const;

private:
    struct mapping_rt;
    boost::asio::awaitable<boost::system::error_code> load(mapping_rt& m, table_writer& w);
    boost::asio::awaitable<boost::system::error_code> poll(mapping_rt& m, table_writer& w);
    boost::asio::awaitable<void> poll_loop(mapping_rt& m);
    boost::asio::awaitable<void> prune_tombstones(mapping_rt& m, table_writer& w);
    boost::asio::awaitable<void> stream_loop();
    boost::asio::awaitable<void> handle_change_event(mapping_rt& m, const push_event& ev,
                                                     const cometd::stream_item& item);
    boost::asio::awaitable<void> writeback_loop();
    // Watches _sfbridge_state for `sfbridge reload` (every 2 s) and reloads those mappings
    // while the rest runs on.
    boost::asio::awaitable<void> control_loop();
    boost::asio::awaitable<void> reload(mapping_rt& m);
    boost::asio::awaitable<void> analyze(mapping_rt& m);
    boost::asio::awaitable<void> pause(std::chrono::milliseconds d); // ends early on stop()
    boost::asio::awaitable<boost::system::error_code> flush(mapping_rt& m);
    boost::asio::awaitable<void> record_error(mapping_rt& m, const std::string& channel,
                                              std::int64_t replay_id, const std::string& message,
                                              const std::string& payload,
                                              table_writer* w = nullptr); // default: the stream's
    boost::asio::awaitable<boost::system::error_code>
    apply_with_retry(table_writer& w, const change_batch& b, const position_update& p);
    boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);
    mapping_rt* by_channel(const std::string& channel);

    boost::asio::any_io_executor ex_;
    engine_config cfg_;
    std::unique_ptr<salesforce::rest_client> rest_;
    std::vector<std::unique_ptr<mapping_rt>> maps_;
    std::vector<mappings::resolved_mapping> resolved_;
    std::unique_ptr<table_writer> stream_writer_;
    std::unique_ptr<cometd::client> stream_;
    std::unique_ptr<writeback> writeback_;
    std::unique_ptr<pg::connection> control_;
    boost::asio::steady_timer stop_timer_;
    bool stopping_ = false;
    int running_loops_ = 0;
    std::multiset<std::string> running_;
};

} // namespace sfbridge::bridge
