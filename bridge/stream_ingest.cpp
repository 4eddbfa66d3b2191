#include "bridge/stream_ingest.hpp"

#include "bridge/error_log.hpp"
#include "bridge/write_failure.hpp"
#include "bridge/write_retry.hpp"
#include "core/backoff.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "mappings/soql.hpp"
#include "mappings/values.hpp"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// A delete event's time (its createdDate or commitTimestamp) as the SystemModstamp column and
// the tombstone take it.
bool delete_time(const mappings::resolved_mapping& m, const push_event& ev,
                 std::optional<std::string>& when, std::string& error) {
    return mappings::to_postgres(m.field("SystemModstamp")->sf.info,
                                 mappings::sf_value_kind::json_string, ev.created_date, when,
                                 error) != mappings::conversion::refused &&
           when.has_value();
}
} // namespace

stream_ingest::stream_ingest(const sync_context& ctx,
                             std::vector<std::unique_ptr<mapping_runtime>>& maps,
                             table_writer& writer)
    : ctx_(ctx), maps_(maps), writer_(writer) {}

mapping_runtime* stream_ingest::by_channel(const std::string& channel) {
    for (auto& m : maps_)
        if (m->channel == channel)
            return m.get();
    return nullptr;
}

cometd::client_config stream_ingest::client_config() const {
    cometd::client_config cc;
    cc.endpoint = ctx_.rest.instance_url() + "/cometd/" + ctx_.rest.api_version();
    for (const auto& m : maps_)
        if (!m->channel.empty())
            cc.channels.push_back(m->channel);
    cc.http = ctx_.cfg.cometd_http;
    cc.queue_capacity = ctx_.cfg.stream_queue;
    cc.queue_bytes = ctx_.cfg.stream_queue_bytes;
    return cc;
}

asio::awaitable<void> stream_ingest::run() {
    const auto cc = client_config();
    backoff delays({std::chrono::seconds(2), std::chrono::seconds(30)});
    while (!ctx_.stop.stopping()) {
        in_batch_ = 0;
        handled_any_ = false;
        resubscribe_ = false;
        const auto ec = co_await run_client(cc);
        if (ctx_.stop.stopping())
            break;
        if (resubscribe_) {
            log::info("streaming", "resubscribing from the replay ids stored in Postgres");
            continue;
        }
        if (handled_any_) // it streamed events before it ended: not a failure to connect
            delays.reset();
        log::warn("streaming", "reconnecting the stream",
                  {{"error", ec ? ec.message() : std::string("stopped")}});
        co_await ctx_.stop.sleep(delays.next());
    }
}

asio::awaitable<error_code> stream_ingest::run_client(const cometd::client_config& cc) {
    client_ = std::make_unique<cometd::client>(
        ctx_.ex, cc, [this](bool refresh) { return ctx_.rest.streaming_token(refresh); });
    for (auto& m : maps_)
        if (!m->channel.empty())
            // With no position yet, replay everything retained (-2): the events from before the
            // subscription overlap the load and the first poll, so the hand-over has no gap, and
            // the SystemModstamp rule makes the old ones harmless.
            client_->set_committed(m->channel, m->replay_id.value_or(-2));
    async_flag client_done(ctx_.ex);
    error_code client_ec;
    asio::co_spawn(ctx_.ex, client_->run(), [&](std::exception_ptr e, error_code ec) {
        client_ec = ec;
        client_done.set();
        if (e)
            std::rethrow_exception(e); // a programming error: out of io_context::run()
    });
    auto stop_client = ctx_.stop.on_stop([this] { client_->stop(); });
    while (auto item = co_await client_->next()) {
        // Only events say the stream worked: a client that fails ends with a fatal item.
        handled_any_ = handled_any_ || item->what == cometd::stream_item::kind::event;
        co_await handle(*item);
        // Drain what is already queued: the batch grows with the load.
        while (client_->queued() > 0 && in_batch_ < ctx_.cfg.max_batch) {
            item = co_await client_->next();
            if (!item)
                break;
            co_await handle(*item);
        }
        co_await flush_all(true);
        in_batch_ = 0;
        // Stopping: what is committed is done; events still queued are fetched again at the
        // next start (from the committed replay id), so shutdown does not wait for them.
        if (ctx_.stop.stopping() || resubscribe_)
            break;
    }
    // The client stopped: flush what is left (unless a new client fetches it again).
    if (!resubscribe_)
        co_await flush_all(false);
    log::debug("streaming", "waiting for the client to stop");
    if (!client_done.is_set())
        client_->stop();
    co_await client_done.wait();
    log::debug("streaming", "client stopped");
    stop_client.reset();
    client_.reset();
    co_return client_ec;
}

asio::awaitable<void> stream_ingest::flush_all(bool with_fetches) {
    std::vector<mapping_runtime*> due, group;
    for (auto& m : maps_)
        if (m->pending_replay || !m->batch->empty() || (with_fetches && !m->notify_ids.empty()))
            due.push_back(m.get());
    for (auto* m : due)
        if (m->notify_ids.empty() && m->batch->size() <= table_writer::small_batch)
            group.push_back(m);
    // The writer locks in the order the write-back takes them (by table: its creates'
    // lock_mappings), so that the two never wait for each other crosswise.
    std::sort(group.begin(), group.end(), [](const mapping_runtime* a, const mapping_runtime* b) {
        return a->m.table < b->m.table;
    });
    if (group.size() > 1 && !resubscribe_) {
        const bool done = co_await flush_group(group);
        if (done)
            std::erase_if(due, [&](const mapping_runtime* m) {
                return std::find(group.begin(), group.end(), m) != group.end();
            });
    }
    for (auto* m : due)
        if (!resubscribe_)
            (void)co_await flush(*m);
}

asio::awaitable<bool> stream_ingest::flush_group(const std::vector<mapping_runtime*>& group) {
    if (!writer_.is_open() || writer_.positions_unsure())
        co_return false; // flush() reopens, and reads the positions back
    const auto started = std::chrono::steady_clock::now();
    std::vector<table_writer::group_item> items;
    for (auto* m : group) {
        position_update pos;
        pos.replay_id = m->pending_replay;
        pos.event = true;
        pos.epoch = ctx_.epoch_of(m->m.object_name);
        items.push_back({m->batch.get(), pos});
    }
    pg::diagnostics d;
    if (auto ec = co_await writer_.apply_group(items, d)) {
        log::debug(
            "streaming", "a grouped flush failed; flushing each mapping alone",
            {{"mappings", static_cast<unsigned long>(group.size())}, {"error", d.summary()}});
        if (writer_.connection().is_broken())
            writer_.connection().close();
        co_return false;
    }
    for (auto* m : group) {
        ctx_.tombstones.added(m->batch->deletes()); // each delete writes one (bridge/merge_sql)
        committed(*m, started);
    }
    co_return true;
}

asio::awaitable<void> stream_ingest::handle(const cometd::stream_item& item) {
    if (resubscribe_) // a new client fetches it again
        co_return;
    if (item.what == cometd::stream_item::kind::fatal) {
        log::error("streaming", "the stream stopped", {{"error", item.message}});
        co_return;
    }
    mapping_runtime* m = by_channel(item.channel);
    if (!m)
        co_return;
    if (item.what == cometd::stream_item::kind::events_lost) {
        // The replay id is past retention: subscribe from now on and poll from the last
        // high-water mark, which covers everything before the new subscription.
        log::warn("streaming", "events lost, resynchronising by polling",
                  {{"mapping", m->m.object_name}, {"detail", item.message}});
        client_->resubscribe_from_tip(item.channel);
        m->replay_id.reset();
        m->request_poll();
        co_return;
    }
    std::string error;
    const bool read = reader_.read(item.data, ev_, error);
    const auto parsed = std::chrono::steady_clock::now();
    if (!read) {
        co_await record_error(writer_, *m, item.channel, item.replay_id, error, item.data);
        m->pending_replay = item.replay_id;
        co_return;
    }
    if (ev_.change_event)
        co_await handle_change_event(*m, item);
    else
        co_await handle_push_topic(*m, item);
    if (const auto t = calendar::parse_utc_datetime(ev_.created_date))
        m->batch_event_ms.push_back(*t);
    if (item.received != std::chrono::steady_clock::time_point{})
        m->batch_stamps.emplace_back(item.received, parsed);
    m->pending_replay = item.replay_id;
    ++in_batch_;
}

asio::awaitable<void> stream_ingest::handle_push_topic(mapping_runtime& m,
                                                       const cometd::stream_item& item) {
    const std::string id = ev_.sobject.get("Id")->raw;
    log::debug("streaming", "event",
               {{"mapping", m.m.object_name},
                {"type", ev_.type},
                {"id", id},
                {"replay_id", static_cast<long long>(item.replay_id)}});
    std::string error;
    bool ok = true;
    if (ev_.type == "deleted") {
        std::optional<std::string> when;
        ok = delete_time(m.m, ev_, when, error);
        if (ok)
            m.batch->add_delete(id, *when);
    } else if (m.fetch_on_notify) {
        m.notify_ids.push_back(id);
    } else {
        co_await add_record(m, item);
    }
    if (!ok)
        co_await record_error(writer_, m, item.channel, item.replay_id, error, item.data);
}

// An event's record into the batch; one refused or altered is recorded with its sfid.
asio::awaitable<void> stream_ingest::add_record(mapping_runtime& m,
                                                const cometd::stream_item& item) {
    row_issue issue;
    if (m.batch->add_record(ev_.sobject, issue) != row_outcome::added)
        co_await record_error(writer_, m, item.channel, item.replay_id, issue, item.data);
}

asio::awaitable<void> stream_ingest::handle_change_event(mapping_runtime& m,
                                                         const cometd::stream_item& item) {
    std::string error;
    bool ok = true;
    if (ev_.overflow) {
        // GAP_OVERFLOW: too many changes to capture; a poll finds them.
        log::warn("streaming", "change events overflowed, polling", {{"mapping", m.m.object_name}});
        m.request_poll();
    } else if (ev_.type == "deleted") {
        std::optional<std::string> when;
        ok = delete_time(m.m, ev_, when, error);
        if (ok)
            for (const auto& id : ev_.record_ids)
                m.batch->add_delete(id, *when);
    } else if ((ev_.type == "created" || ev_.type == "undeleted") && ev_.record_ids.size() == 1 &&
               !m.fetch_on_notify) {
        co_await add_record(m, item);
    } else {
        // An update carries only the changed fields, and a gap event none: the records are
        // fetched whole (one query per batch of ids) rather than merged from partial rows.
        m.notify_ids.insert(m.notify_ids.end(), ev_.record_ids.begin(), ev_.record_ids.end());
    }
    if (!ok)
        co_await record_error(writer_, m, item.channel, item.replay_id, error, item.data);
}

// The writer's session was replaced (a restart, a lost connection, a server crash). A crash
// may have lost the last batches committed with synchronous_commit = off, and their replay ids
// with them, while this client has already handed their events over: they would never come
// again. So this client's events are dropped and a new client subscribes from the replay ids
// committed (the events that did survive come again, which the SystemModstamp rule makes
// harmless). Should the read fail, the writer stays unsure and the next flush comes back here.
asio::awaitable<void> stream_ingest::resume_from_stored() {
    resubscribe_ = true;
    in_batch_ = 0;
    for (auto& m : maps_) {
        m->batch->clear();
        m->batch_event_ms.clear();
        m->batch_stamps.clear();
        m->pending_replay.reset();
        m->notify_ids.clear();
    }
    std::map<std::string, stored_position> stored;
    pg::diagnostics d;
    if (co_await writer_.read_positions(stored, d)) {
        log::warn("streaming", "reading the stored replay ids failed, will retry",
                  {{"error", d.summary()}});
        if (writer_.connection().is_broken())
            writer_.connection().close();
    } else {
        for (auto& m : maps_) {
            const auto it = stored.find(m->m.object_name);
            if (m->channel.empty() || it == stored.end())
                continue;
            if (it->second.replay_id != m->replay_id)
                log::warn("streaming", "Postgres lost committed stream batches; fetching again",
                          {{"mapping", m->m.object_name},
                           {"held", static_cast<long long>(m->replay_id.value_or(-2))},
                           {"stored", static_cast<long long>(it->second.replay_id.value_or(-2))}});
            m->replay_id = it->second.replay_id;
        }
        writer_.positions_confirmed();
    }
    client_->stop();
}

void stream_ingest::observe_stages(mapping_runtime& m,
                                   std::chrono::steady_clock::time_point started) {
    const auto committed = std::chrono::steady_clock::now();
    auto seconds = [](std::chrono::steady_clock::duration d) {
        return std::chrono::duration<double>(d).count();
    };
    for (const auto& [received, parsed] : m.batch_stamps) {
        m.stages.queue.observe(seconds(parsed - received));
        m.stages.batch.observe(seconds(started - parsed));
        m.stages.commit.observe(seconds(committed - started));
    }
    m.batch_stamps.clear();
}

asio::awaitable<error_code> stream_ingest::flush(mapping_runtime& m) {
    if (!m.notify_ids.empty())
        co_await fetch_notified(m);
    const auto started = std::chrono::steady_clock::now();
    position_update pos;
    pos.replay_id = m.pending_replay;
    pos.event = true;
    // A record Postgres refuses (a value too long for its column, a constraint, an app
    // trigger's RAISE) fails alone: the rest of the batch commits with the replay id.
    std::vector<row_issue> refused;
    const auto ec = co_await apply_isolating(ctx_, writer_, *m.batch, pos, refused);
    if (ec == write_errc::positions_unsure) {
        co_await resume_from_stored();
        co_return ec;
    }
    for (const auto& issue : refused)
        co_await record_error(writer_, m, m.channel, m.pending_replay.value_or(0), issue,
                              std::string());
    if (!ec)
        committed(m, started);
    co_return ec;
}

// What a committed batch leaves: its figures, and the replay id it carried as committed.
void stream_ingest::committed(mapping_runtime& m, std::chrono::steady_clock::time_point started) {
    m.stats.events += m.batch->size();
    const auto now = calendar::now_ms();
    if (!m.batch->empty())
        m.last_event_ms = now;
    for (const auto t : m.batch_event_ms)
        m.inbound_latency.observe(
            static_cast<double>(std::max<std::int64_t>(0, now - (t - m.sf_clock_offset_ms))) /
            1000.0);
    m.batch_event_ms.clear();
    observe_stages(m, started);
    if (!m.batch->empty())
        m.batch_rows.observe(static_cast<double>(m.batch->size()));
    m.batch->clear();
    if (m.pending_replay) {
        m.replay_id = m.pending_replay;
        client_->set_committed(m.channel, *m.pending_replay);
    }
    m.pending_replay.reset();
}

} // namespace sfbridge::bridge
