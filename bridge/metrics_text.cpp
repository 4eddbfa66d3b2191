// GET /metrics (bridge/http_api.hpp): the snapshot in Prometheus's text format. Names follow
// Prometheus's conventions: the sfbridge_ prefix, _total for counters, base units, labels only
// from bounded sets (mapping names come from the mapping file).
#include "bridge/http_api.hpp"
#include "core/prometheus.hpp"

namespace sfbridge::bridge {

namespace {

using prometheus::labels;

// One family with one sample per mapping, from `value`; mappings `skip` says no to are left out.
template <class F, class S>
void per_mapping(prometheus::writer& w, const status_snapshot& s, std::string_view name,
                 std::string_view type, std::string_view help, F value, S skip) {
    w.family(name, type, help);
    for (const auto& m : s.mappings)
        if (!skip(m))
            w.sample(name, {{"mapping", m.object}}, value(m));
}

template <class F>
void per_mapping(prometheus::writer& w, const status_snapshot& s, std::string_view name,
                 std::string_view type, std::string_view help, F value) {
    per_mapping(w, s, name, type, help, value, [](const mapping_snapshot&) { return false; });
}

double d(std::size_t v) {
    return static_cast<double>(v);
}

void inbound(prometheus::writer& w, const status_snapshot& s) {
    using m_t = const mapping_snapshot&;
    per_mapping(w, s, "sfbridge_mapping_led", "gauge",
                "1 while this replica leads the mapping (syncs it); 0 while another does.",
                [](m_t m) { return m.led_here ? 1.0 : 0.0; });
    per_mapping(w, s, "sfbridge_mapping_loaded", "gauge",
                "1 once the mapping's initial load has finished.",
                [](m_t m) { return m.loaded ? 1.0 : 0.0; });
    per_mapping(w, s, "sfbridge_rows_loaded_total", "counter",
                "Rows written by initial loads and reloads since start.",
                [](m_t m) { return d(m.stats.rows_loaded); });
    w.family("sfbridge_changes_applied_total", "counter",
             "Salesforce changes written to Postgres since start, by where they came from.");
    for (const auto& m : s.mappings) {
        w.sample("sfbridge_changes_applied_total", {{"mapping", m.object}, {"source", "stream"}},
                 d(m.stats.events));
        w.sample("sfbridge_changes_applied_total", {{"mapping", m.object}, {"source", "poll"}},
                 d(m.stats.polled));
    }
    per_mapping(w, s, "sfbridge_deletes_applied_total", "counter",
                "Salesforce deletes applied to Postgres by polls since start.",
                [](m_t m) { return d(m.stats.deletes); });
    per_mapping(w, s, "sfbridge_polls_total", "counter", "Polls completed since start.",
                [](m_t m) { return d(m.stats.polls); });
    per_mapping(w, s, "sfbridge_errors_recorded_total", "counter",
                "Changes recorded in _sfbridge_errors since start (not applied as sent).",
                [](m_t m) { return d(m.stats.errors); });
    const auto unstreamed = [](m_t m) { return m.channel.empty(); };
    per_mapping(
        w, s, "sfbridge_stream_connected", "gauge",
        "1 while the streaming client is connected for the mapping's channel.",
        [](m_t m) { return m.stream_connected ? 1.0 : 0.0; }, unstreamed);
    per_mapping(
        w, s, "sfbridge_replay_id", "gauge", "The last replay id committed to Postgres.",
        [](m_t m) { return static_cast<double>(*m.replay_id); },
        [](m_t m) { return !m.replay_id; });
    per_mapping(
        w, s, "sfbridge_seconds_since_last_event", "gauge",
        "Seconds since the stream last committed events of the mapping.",
        [&](m_t m) { return static_cast<double>(s.now_ms - m.last_event_ms) / 1000.0; },
        [](m_t m) { return m.last_event_ms == 0; });
    per_mapping(
        w, s, "sfbridge_seconds_since_last_poll", "gauge",
        "Seconds since the mapping's last completed poll.",
        [&](m_t m) { return static_cast<double>(s.now_ms - m.last_poll_ms) / 1000.0; },
        [](m_t m) { return m.last_poll_ms == 0; });
    w.family("sfbridge_inbound_latency_seconds", "histogram",
             "Salesforce commit (the event's time) to Postgres commit, per streamed change.");
    for (const auto& m : s.mappings)
        if (!m.channel.empty())
            w.sample("sfbridge_inbound_latency_seconds", {{"mapping", m.object}},
                     m.inbound_latency);
    w.family("sfbridge_inbound_stage_seconds", "histogram",
             "A streamed change's time in sfbridge by stage: queue (reply read to event taken "
             "and parsed; waits while the previous batch commits), batch (parsed to its "
             "transaction's start), commit (the transaction).");
    for (const auto& m : s.mappings)
        if (!m.channel.empty()) {
            w.sample("sfbridge_inbound_stage_seconds", {{"mapping", m.object}, {"stage", "queue"}},
                     m.stages.queue);
            w.sample("sfbridge_inbound_stage_seconds", {{"mapping", m.object}, {"stage", "batch"}},
                     m.stages.batch);
            w.sample("sfbridge_inbound_stage_seconds", {{"mapping", m.object}, {"stage", "commit"}},
                     m.stages.commit);
        }
    w.family("sfbridge_stream_batch_rows", "histogram",
             "Changes per stream transaction (one per batch, with its replay id).");
    for (const auto& m : s.mappings)
        if (!m.channel.empty())
            w.sample("sfbridge_stream_batch_rows", {{"mapping", m.object}}, m.batch_rows);
    per_mapping(w, s, "sfbridge_salesforce_api_calls_today", "gauge",
                "Salesforce API calls made for the mapping this UTC day (its daily budget).",
                [](m_t m) { return static_cast<double>(m.api_calls_today); });
}

void outbound(prometheus::writer& w, const status_snapshot& s) {
    if (!s.has_writeback)
        return;
    w.family("sfbridge_writes_total", "counter",
             "Writes of app changes to Salesforce since start, by outcome.");
    w.sample("sfbridge_writes_total", {{"direction", "outbound"}, {"result", "success"}},
             d(s.writes.sent));
    w.sample("sfbridge_writes_total", {{"direction", "outbound"}, {"result", "failed"}},
             d(s.writes.failed));
    w.family("sfbridge_write_retries_total", "counter",
             "Writes sent again after a transient failure since start.");
    w.sample("sfbridge_write_retries_total", {{"direction", "outbound"}}, d(s.writes.retried));
    w.family(
        "sfbridge_writeback_latency_seconds", "histogram",
        "The app's commit to the outcome of its write recorded, per write Salesforce answered.");
    for (const auto& [object, h] : s.writes.latency)
        w.sample("sfbridge_writeback_latency_seconds", {{"mapping", object}}, h);
    if (s.writes.queue_counted_ms != 0) {
        w.family("sfbridge_writeback_queue_rows", "gauge",
                 "App changes in _trigger_log not sent yet, by state: new (not claimed) and "
                 "pending (being sent or waiting after a transient failure).");
        for (const auto& m : s.mappings) {
            if (!m.read_write)
                continue;
            const auto it = s.writes.queue.find(m.object);
            const waiting_rows q = it == s.writes.queue.end() ? waiting_rows{} : it->second;
            w.sample("sfbridge_writeback_queue_rows", {{"mapping", m.object}, {"state", "new"}},
                     static_cast<double>(q.fresh));
            w.sample("sfbridge_writeback_queue_rows", {{"mapping", m.object}, {"state", "pending"}},
                     static_cast<double>(q.pending));
        }
    }
    if (s.writes.queue_counted_ms != 0) {
        w.family("sfbridge_writeback_queue_counted_timestamp_seconds", "gauge",
                 "When sfbridge_writeback_queue_rows was counted, Unix seconds.");
        w.sample("sfbridge_writeback_queue_counted_timestamp_seconds", {},
                 static_cast<double>(s.writes.queue_counted_ms) / 1000.0);
    }
    w.family("sfbridge_conflicts_total", "counter",
             "Fields changed by both sides, recorded in _sfbridge_conflicts, since start.");
    w.sample("sfbridge_conflicts_total", {}, d(s.writes.conflicts));
}

void process(prometheus::writer& w, const status_snapshot& s) {
    w.family("sfbridge_build_info", "gauge", "1, with the version as a label.");
    w.sample("sfbridge_build_info", {{"version", s.version}}, 1);
    w.family("sfbridge_salesforce_api_calls_total", "counter",
             "Salesforce API calls made since start.");
    w.sample("sfbridge_salesforce_api_calls_total", {}, static_cast<double>(s.api_calls_total));
    if (s.org_api_used && s.org_api_max) {
        w.family(
            "sfbridge_salesforce_org_api_used", "gauge",
            "The org's API calls used today, as Salesforce last reported (Sforce-Limit-Info).");
        w.sample("sfbridge_salesforce_org_api_used", {}, static_cast<double>(*s.org_api_used));
        w.family("sfbridge_salesforce_org_api_limit", "gauge", "The org's daily API limit.");
        w.sample("sfbridge_salesforce_org_api_limit", {}, static_cast<double>(*s.org_api_max));
    }
    w.family("sfbridge_salesforce_retries_total", "counter",
             "Salesforce calls sent again, by cause: network (no answer), lock, server (5xx).");
    for (const char* cause : {"network", "lock", "server"}) {
        const auto it = s.salesforce_retries.find(cause);
        w.sample("sfbridge_salesforce_retries_total", {{"cause", cause}},
                 it == s.salesforce_retries.end() ? 0.0 : static_cast<double>(it->second));
    }
    w.family("sfbridge_postgres_sessions_opened_total", "counter",
             "Postgres sessions opened since start; growth past the sessions kept is reconnects.");
    w.sample("sfbridge_postgres_sessions_opened_total", {},
             static_cast<double>(s.postgres_sessions_opened));
    // The standard process metrics' names, as client libraries export them.
    w.family("process_start_time_seconds", "gauge", "Start time of the process, Unix seconds.");
    w.sample("process_start_time_seconds", {}, static_cast<double>(s.started_ms) / 1000.0);
    w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    w.sample("process_resident_memory_bytes", {}, s.resident_bytes);
    w.family("process_open_fds", "gauge", "Open file descriptors.");
    w.sample("process_open_fds", {}, s.open_fds);
}

} // namespace

std::string metrics_text(const status_snapshot& s) {
    prometheus::writer w;
    process(w, s);
    inbound(w, s);
    outbound(w, s);
    return w.text();
}

} // namespace sfbridge::bridge
