#pragma once

#include "bridge/write_algorithm.hpp"
#include "mappings/mapping_file.hpp"
#include "net/http_client.hpp"
#include "salesforce/rest_client.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

// What `sfbridge run` is told: the settings every part of the engine reads.
namespace sfbridge::bridge {

struct engine_config {
    std::string database_url;
    // This process among the replicas on the database (bridge/leadership); made at start when
    // empty.
    std::string replica_id;
    // Where the lock session connects, when not to database_url: straight to Postgres when the
    // other sessions go through pgbouncer in transaction mode (advisory locks are per session).
    std::string lock_database_url;
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
    // Postgres sessions of this replica besides its write-back's LISTEN session and its lock
    // session, whatever the number of mappings: the stream's writer, control's session, and a
    // pool of the rest that pollers, loads, reloads and ANALYZEs share (bridge/writer_pool).
    // At least 3.
    std::size_t pg_connections = 8;
    std::chrono::milliseconds poll_overlap{std::chrono::seconds(60)};
    std::optional<std::chrono::milliseconds> poll_interval; // overrides sf_polling_seconds
    // How often records Postgres refused are fetched again (refused_retry.hpp): this after an
    // attempt that left none refused, doubling up to ten minutes while some are.
    std::chrono::milliseconds refused_retry{std::chrono::seconds(30)};
    std::size_t stream_queue = 20000;                       // events waiting to be written
    std::size_t stream_queue_bytes = std::size_t{64} << 20; // and their bytes
    net::client_options cometd_http;                        // defaults to salesforce.http
    std::vector<std::string> reload;                        // objects to load again from scratch
    bool writeback = true; // send read-write mappings' captured writes to Salesforce
    write_algorithm writes = write_algorithm::ordered;
    // Processed trigger-log entries move to _trigger_log_archive this long after (at most about
    // twice that, or a minute more when longer).
    std::chrono::seconds archive_after{30};
    // The write-back looks at the trigger log this often even when no NOTIFY woke it.
    std::chrono::milliseconds writeback_sweep{5000};
    // Kept this long, then pruned hourly by each mapping's poller: _trigger_log_archive rows,
    // _sfbridge_conflicts, and _sfbridge_errors other than refusals still to be retried.
    std::chrono::seconds retention{std::chrono::hours(24 * 31)};
    // Tombstones of deleted records older than this are pruned (see poller::housekeeping).
    std::chrono::seconds tombstone_retention{std::chrono::hours(24 * 7)};
    // After SIGTERM, how long calls in flight may take to finish and record their outcomes
    // before the process exits anyway.
    std::chrono::seconds shutdown_grace{30};
    // For tests of what a loop's death does: the loop of this name throws as it starts
    // (SFBRIDGE_TEST_FAIL_LOOP, e.g. "poll Contact"; read from the environment only).
    std::string fail_loop;
};

} // namespace sfbridge::bridge
