// What the write-back counts for the HTTP endpoint (bridge/http_api): outcomes and their
// latency, the newest refusals and conflicts, and the queue of rows still to be sent.
#include "bridge/writeback.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"

#include <algorithm>
#include <set>

namespace sfbridge::bridge {

namespace asio = boost::asio;

namespace {
// At most `limit` bytes, cut at a character's start: the text goes out as JSON.
std::string clipped(std::string text, std::size_t limit) {
    if (text.size() > limit) {
        std::size_t cut = limit;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        text.resize(cut);
    }
    return text;
}
} // namespace

void writeback::recorded(const std::vector<entry*>& done) {
    const auto now = calendar::now_ms();
    std::set<std::string> adopted;
    for (auto* e : done)
        if (e->replaces_echo && !e->new_sfid.empty())
            adopted.insert(e->table);
    if (cfg_.reread_queued)
        for (const auto& table : adopted)
            cfg_.reread_queued(table);
    for (auto* e : done) {
        e->recorded = true;
        if (const auto* m = mapping_for(e->table); m && e->captured_ms > 0) {
            auto [h, _] = stats_.latency.try_emplace(m->object_name, prometheus::latency_buckets());
            h->second.observe(static_cast<double>(std::max<std::int64_t>(0, now - e->captured_ms)) /
                              1000.0);
        }
        if (e->outcome != entry::result::failed) {
            ++stats_.sent;
            continue;
        }
        ++stats_.failed;
        const auto* m = mapping_for(e->table);
        stats_.refused.push_back({now, m ? m->object_name : e->table, e->action_text, e->record_id,
                                  clipped(e->error_code + ": " + e->message, 500)});
        if (stats_.refused.size() > writeback_stats::recent_refusals)
            stats_.refused.pop_front();
        log::warn("writeback", "Salesforce refused a write",
                  {{"table", e->table},
                   {"record_id", static_cast<long long>(e->record_id)},
                   {"action", e->action_text},
                   {"error", e->error_code + ": " + e->message}});
    }
}

void writeback::note_conflicts(const mappings::resolved_mapping& m,
                               const std::vector<write_conflict>& conflicts) {
    const auto now = calendar::now_ms();
    stats_.conflicts += conflicts.size();
    for (const auto& k : conflicts) {
        // The field and the record, not the values: the endpoint shows no record data.
        stats_.recent_conflicts.push_back(
            {now, m.object_name, k.e ? k.e->record_id : 0, k.sfid, k.field, k.salesforce_won});
        if (stats_.recent_conflicts.size() > writeback_stats::recent_refusals)
            stats_.recent_conflicts.pop_front();
    }
}

// Between batches, at most once a second, or less often when counting is slow (a backlog of
// millions of rows after an outage: the count takes at most a tenth of the loop's time, so it
// never slows the drain that matters most then); and when the loop goes idle after rows were
// waiting, so that an emptied queue shows as empty at once. Never while stopping.
asio::awaitable<void> writeback::count_queue(bool going_idle) {
    const auto now = std::chrono::steady_clock::now();
    const bool any_waiting =
        std::any_of(stats_.queue.begin(), stats_.queue.end(),
                    [](const auto& q) { return q.second.fresh + q.second.pending > 0; });
    const auto interval = std::max<std::chrono::steady_clock::duration>(std::chrono::seconds(1),
                                                                        10 * queue_count_took_);
    if (stopping_ || !log_.is_open() ||
        (going_idle ? !any_waiting : now - queue_counted_ < interval))
        co_return;
    queue_counted_ = now;
    std::map<std::string, waiting_rows> by_table;
    pg::diagnostics d;
    if (co_await log_.count_waiting(by_table, d))
        co_return; // the session's loss is met by the next statement; the last count stays
    queue_count_took_ = std::chrono::steady_clock::now() - now;
    stats_.queue.clear();
    for (const auto& [table, rows] : by_table)
        if (const auto* m = mapping_for(table))
            stats_.queue[m->object_name] = rows;
    stats_.queue_counted_ms = calendar::now_ms();
}

} // namespace sfbridge::bridge
