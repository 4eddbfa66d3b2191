#pragma once

#include "bridge/change_batch.hpp"
#include "core/prometheus.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// One mapping while sfbridge runs: what it was resolved to, where its stream and polls stand,
// and the stream's batch in the making. Owned by the engine; the loader, the poller and the
// stream ingest each work on it in turn (one thread).
namespace sfbridge::bridge {

// A change not applied as sent (in _sfbridge_errors too), as the status page lists it.
struct recorded_error {
    std::int64_t at_ms = 0;
    std::string sfid; // empty: no record (an event that could not be read)
    std::string message;
};

// Where a streamed change's time inside sfbridge goes, per stage, in seconds: `queue` from the
// reply that carried it being read to the event taken from the client's queue and parsed (it
// waits there while the previous batch commits), `batch` from there to its batch's
// transaction starting (the rest of the batch drained, fetches on notify), `commit` that
// transaction, retries included (bridge/stream_ingest). So the next regression is placed from
// /metrics in minutes.
struct inbound_stages {
    prometheus::histogram queue{prometheus::stage_buckets()};
    prometheus::histogram batch{prometheus::stage_buckets()};
    prometheus::histogram commit{prometheus::stage_buckets()};
};

struct mapping_stats {
    static constexpr std::size_t recent_error_count = 5;
    std::string object;
    std::size_t rows_loaded = 0;
    std::size_t events = 0;
    std::size_t polled = 0;
    std::size_t polls = 0;
    std::size_t deletes = 0;
    std::size_t errors = 0;
    std::deque<recorded_error> recent_errors; // newest last, at most recent_error_count
};

struct mapping_runtime {
    mapping_runtime(boost::asio::any_io_executor ex, mappings::resolved_mapping resolved)
        : m(std::move(resolved)), poll_timer(ex) {
        stats.object = m.object_name;
        batch = std::make_unique<change_batch>(m); // points at this runtime's own copy
    }
    mapping_runtime(const mapping_runtime&) = delete;
    mapping_runtime& operator=(const mapping_runtime&) = delete;

    // Salesforce calls made for this mapping are tagged with it (its daily API budget).
    [[nodiscard]] salesforce::call_options calls() const {
        salesforce::call_options o;
        o.tag = m.object_name;
        return o;
    }

    // What a sync run leaves behind, cleared before this replica leads the mapping again (its
    // positions are read back from _sfbridge_state then; the figures are kept).
    void reset_for_lead() {
        loaded = reloading = load_by_merge = poll_now = polled_since_lead = false;
        load_attempts = 0;
        load_error.clear();
        replay_id.reset();
        pending_replay.reset();
        batch_event_ms.clear();
        batch_stamps.clear();
        notify_ids.clear();
        refused_cursor = 0;
        batch = std::make_unique<change_batch>(m);
    }

    // Asks the poll loop to poll at once (events lost, a fetch that failed, a CDC overflow).
    void request_poll() {
        poll_now = true;
        poll_timer.cancel();
    }

    mappings::resolved_mapping m;
    std::string channel; // "/topic/hc_X" or a CDC channel when streamed
    bool fetch_on_notify = false;
    bool loaded = false;
    bool reloading = false; // a live reload is running
    // Failed load attempts in a row, and the last one's error (sfbridge status shows them).
    int load_attempts = 0;
    std::string load_error;
    // A COPY into the empty table met a record twice (a query should not return one twice):
    // the next attempt merges, even if the table is still empty.
    bool load_by_merge = false;
    std::chrono::steady_clock::time_point last_prune{};
    std::optional<std::int64_t> replay_id;      // committed
    std::optional<std::int64_t> pending_replay; // of the events in `batch`
    std::int64_t poll_high_water_ms = 0;
    // Wall-clock times (ms) of the stream's last commit of events and the last completed poll,
    // 0 before the first: what /status and /metrics show as ages.
    std::int64_t last_event_ms = 0;
    std::int64_t last_poll_ms = 0;
    // The last refresh of formula and roll-up fields (sfbridge_refresh_seconds,
    // bridge/field_refresh): when it ended (ms, 0: none yet), the records it read and the
    // rows whose values it changed, and its error when it failed.
    // Columns of fields added since the table was loaded, to fill (bridge/field_refresh).
    std::vector<std::string> backfill_columns;
    // Fields of the mapping synced without: gone from Salesforce, or a type change their column
    // cannot follow. Each message names the field (the log, /status and _sfbridge_errors).
    std::vector<std::string> schema_warnings;
    struct refresh_status {
        std::int64_t ended_ms = 0;
        std::size_t records = 0;
        std::size_t changed = 0;
        bool bulk = false;
        std::string error;
    } last_refresh;
    // The Salesforce times (createdDate, commitTimestamp) of the events in `batch`; at its
    // commit, each one's age goes into `inbound_latency` (Salesforce commit to Postgres commit,
    // in seconds, the clock offset taken off).
    std::vector<std::int64_t> batch_event_ms;
    // And when each was received and parsed (steady clock), for `stages`.
    std::vector<
        std::pair<std::chrono::steady_clock::time_point, std::chrono::steady_clock::time_point>>
        batch_stamps;
    prometheus::histogram inbound_latency{prometheus::latency_buckets()};
    inbound_stages stages;
    // Rows per stream transaction (a batch grows with the load while the previous commits).
    prometheus::histogram batch_rows{prometheus::batch_buckets()};
    std::int64_t deleted_high_water_ms = 0;
    // Where the next retry of refused records starts (their first error's id): each retry takes
    // the next ones, so that records refused for good cannot starve the others.
    std::int64_t refused_cursor = 0;
    // Salesforce's clock minus ours (bridge/sf_clock), and when it was measured.
    std::int64_t sf_clock_offset_ms = 0;
    std::chrono::steady_clock::time_point sf_clock_measured{};
    std::unique_ptr<change_batch> batch;
    std::vector<std::string> notify_ids;
    boost::asio::steady_timer poll_timer;
    bool poll_now = false;
    // A poll has completed since this replica last started leading the mapping: the inbound
    // side has caught up (the write-back waits for it, to see conflicts made meanwhile).
    bool polled_since_lead = false;
    mapping_stats stats;
};

} // namespace sfbridge::bridge
