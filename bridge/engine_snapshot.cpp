// engine::snapshot(): the engine's state copied out for the HTTP endpoint (bridge/http_api).
#include "bridge/engine.hpp"
#include "bridge/field_refresh.hpp"
#include "bridge/stream_ingest.hpp"
#include "core/calendar.hpp"
#include "pg/connection.hpp"

#include <algorithm>
#include <chrono>

#ifndef SFBRIDGE_VERSION
#define SFBRIDGE_VERSION "unknown"
#endif

namespace sfbridge::bridge {

status_snapshot engine::snapshot() const {
    status_snapshot s;
    s.version = SFBRIDGE_VERSION;
    s.now_ms = calendar::now_ms();
    s.started_ms = started_ms_;
    s.starting = !running_;
    s.stopping = stop_.stopping();
    s.dead_loops = ended_loops_;
    s.postgres_sessions_opened = pg::connection::opened_total();
    const auto day = salesforce::api_usage::day_of(std::chrono::system_clock::now());
    const bool connected = stream_ && stream_->connected();
    s.replica = cfg_.replica_id;
    for (const auto& r : others_)
        s.other_replicas.push_back(r.id);
    std::vector<const mapping_runtime*> all;
    for (const auto* set : {&maps_, &standby_})
        for (const auto& rt : *set)
            all.push_back(rt.get());
    std::sort(all.begin(), all.end(), [](const mapping_runtime* a, const mapping_runtime* b) {
        return a->m.object_name < b->m.object_name;
    });
    for (const auto* rt : all) {
        mapping_snapshot m;
        m.object = rt->m.object_name;
        m.led_here = std::find_if(maps_.begin(), maps_.end(),
                                  [&](const auto& x) { return x.get() == rt; }) != maps_.end();
        if (m.led_here)
            m.leader = cfg_.replica_id;
        for (const auto& r : others_)
            if (std::find(r.leads.begin(), r.leads.end(), m.object) != r.leads.end())
                m.leader = r.id;
        m.table = rt->m.table;
        m.channel = rt->channel;
        m.read_write = rt->m.read_write();
        m.loaded = rt->loaded;
        m.reloading = rt->reloading;
        m.load_attempts = rt->load_attempts;
        m.load_error = rt->load_error;
        m.stream_connected = !rt->channel.empty() && connected;
        m.replay_id = rt->replay_id;
        m.last_event_ms = rt->last_event_ms;
        m.last_poll_ms = rt->last_poll_ms;
        m.last_refresh = rt->last_refresh;
        m.schema_warnings = rt->schema_warnings;
        m.backfill_columns = rt->backfill_columns;
        m.refreshes = rt->m.refreshes();
        m.stats = rt->stats;
        m.inbound_latency = rt->inbound_latency;
        m.batch_rows = rt->batch_rows;
        m.stages = rt->stages;
        if (rest_)
            m.api_calls_today = rest_->usage().calls_today(rt->m.object_name, day);
        s.mappings.push_back(std::move(m));
    }
    if (writeback_) {
        s.has_writeback = true;
        s.writes = writeback_->stats();
    }
    if (rest_) {
        s.api_calls_total = rest_->usage().total_calls();
        s.salesforce_retries = rest_->retries_by_cause();
        if (const auto org = rest_->usage().org_usage()) {
            s.org_api_used = org->used;
            s.org_api_max = org->max;
        }
    }
    return s;
}

} // namespace sfbridge::bridge
