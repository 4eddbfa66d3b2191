#pragma once

#include "bridge/mapping_runtime.hpp"
#include "bridge/writeback.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// What the HTTP endpoint shows, copied out of the engine at the moment of a request (one
// thread: nothing changes while it is built). Plain data: bridge/http_api turns it into the
// answers of /healthz, /readyz, /status and /metrics without any I/O.
namespace sfbridge::bridge {

struct mapping_snapshot {
    std::string object;
    std::string table;
    std::string channel; // empty: polled only
    bool read_write = false;
    // The replica that leads it (this one's id when it syncs here), empty when none is known.
    std::string leader;
    bool led_here = false;
    bool loaded = false;
    bool reloading = false;
    int load_attempts = 0;
    std::string load_error;
    bool stream_connected = false;
    std::optional<std::int64_t> replay_id;
    std::int64_t last_event_ms = 0; // wall clock, 0: none since start
    std::int64_t last_poll_ms = 0;
    mapping_runtime::refresh_status last_refresh;
    bool refreshes = false; // sfbridge_refresh_seconds is set and there are fields to refresh
    std::vector<std::string> schema_warnings; // fields synced without (mapping_runtime)
    std::vector<std::string> backfill_columns;
    std::int64_t api_calls_today = 0;
    mapping_stats stats;
    prometheus::histogram inbound_latency{prometheus::latency_buckets()};
    prometheus::histogram batch_rows{prometheus::batch_buckets()};
    inbound_stages stages;
};

struct status_sample {
    std::int64_t at_ms = 0;
    // Seconds, over the window before the sample; none when nothing was observed then.
    std::optional<double> inbound_p50, inbound_p99, outbound_p50, outbound_p99;
    // Changes streamed in and writes answered, over the second before the sample.
    double changes_per_second = 0;
};

struct status_snapshot {
    std::string version;
    std::int64_t now_ms = 0;
    std::int64_t started_ms = 0;
    bool starting = true; // login, describes, DDL not finished
    bool stopping = false;
    std::string replica;                     // this process's replica id
    std::vector<std::string> other_replicas; // live, as the last leadership round saw them
    // Loops that should run and do not (a loop that ended on its own).
    std::vector<std::string> dead_loops;
    std::vector<mapping_snapshot> mappings;
    bool has_writeback = false;
    writeback_stats writes;
    std::int64_t api_calls_total = 0;
    std::map<std::string, std::uint64_t> salesforce_retries; // by cause
    std::uint64_t postgres_sessions_opened = 0;
    std::optional<std::int64_t> org_api_used, org_api_max;
    // The process, from /proc/self (0 when unreadable).
    double resident_bytes = 0;
    double open_fds = 0;
    // One a second for the last ten minutes (bridge/status_history), when the endpoint keeps them.
    std::vector<status_sample> recent;
};

} // namespace sfbridge::bridge
