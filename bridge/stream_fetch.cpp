// The stream's fetches (bridge/stream_ingest.hpp): records a notification only names, read
// whole, through the mapping's row filter when it has one.
#include "bridge/error_log.hpp"
#include "bridge/stream_ingest.hpp"
#include "core/backoff.hpp"
#include "core/log.hpp"
#include "mappings/soql.hpp"

#include <algorithm>
#include <set>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// Ids per fetch query. Each query's length is bounded: the ids ride in the URL, and Salesforce
// refuses URIs over 16,384 bytes (percent-encoding nearly doubles some characters, and triples
// a filter's quotes and parentheses).
std::size_t ids_per_query(const mapping_runtime& m, const std::string& filter) {
    std::size_t select_len = 64 + m.m.object_name.size() + 3 * filter.size();
    for (const auto& f : m.m.field_names())
        select_len += f.size() + 2;
    return select_len >= 5760 ? 10 : std::min<std::size_t>(200, (6000 - select_len) / 24);
}
} // namespace

// Fetch on notify: the topic only says which records changed.
asio::awaitable<void> stream_ingest::fetch_notified(mapping_runtime& m) {
    std::string err;
    const std::string filter = m.m.filter_soql();
    const std::size_t per_query = ids_per_query(m, filter);
    auto queries = mappings::soql::by_ids(m.m.object_name, m.m.field_names(), m.notify_ids,
                                          per_query, err, filter);
    const auto opts = m.calls();
    row_issue issue;
    const std::string no_payload;
    std::set<std::string> fetched;
    bool all_fetched = true;
    for (const auto& q : queries.value_or(std::vector<std::string>{})) {
        backoff delays({std::chrono::milliseconds(400), std::chrono::seconds(10)});
        error_code ec;
        while (true) {
            salesforce::diagnostics sd;
            ec = co_await ctx_.rest.query(
                q, false, 0,
                [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                    for (const auto& rec : p.records) {
                        if (const auto* id = rec.get("Id"); id && !filter.empty())
                            fetched.insert(id->raw);
                        if (m.batch->add_record(rec, issue) != row_outcome::added)
                            co_await record_error(writer_, m, m.channel, 0, issue, no_payload);
                    }
                    co_return error_code{};
                },
                sd, opts);
            if (!ec || ctx_.stop.stopping() || !(ec == salesforce::condition::retryable))
                break;
            co_await ctx_.stop.sleep(delays.next());
        }
        if (ec) {
            all_fetched = false;
            // The poll from the high-water mark covers these records: run it now.
            log::warn("sync", "fetching notified records failed; polling now to catch up",
                      {{"mapping", m.m.object_name}, {"error", ec.message()}});
            m.request_poll();
        }
    }
    // Only when every filtered fetch answered: an Id a failed one asked for is no leaver (the
    // poll asked for above decides it).
    if (!filter.empty() && all_fetched && !ctx_.stop.stopping()) {
        std::vector<std::string> others;
        for (const auto& id : m.notify_ids)
            if (!fetched.contains(id))
                others.push_back(id);
        if (!others.empty())
            co_await fetch_leavers(m, others, per_query);
    }
    m.notify_ids.clear();
}

// Notified records the row filter did not return. Read again without it: each one still there
// no longer matches and leaves the table (at the SystemModstamp of the change that took it out;
// a newer change back into the filter brings an event of its own). A difference, not a query
// of NOT (filter), so Salesforce's handling of nulls under NOT cannot leave a row behind. Those
// not returned either were deleted, which their own event or the deletes poll brings.
asio::awaitable<void> stream_ingest::fetch_leavers(mapping_runtime& m,
                                                   const std::vector<std::string>& ids,
                                                   std::size_t per_query) {
    std::string err;
    const auto queries =
        mappings::soql::by_ids(m.m.object_name, {"Id", "SystemModstamp"}, ids, per_query, err);
    if (!queries)
        log::warn("sync", "records that may have left the row filter cannot be read: " + err,
                  {{"mapping", m.m.object_name}});
    std::size_t left = 0;
    for (const auto& q : queries.value_or(std::vector<std::string>{})) {
        salesforce::diagnostics sd;
        const auto ec = co_await ctx_.rest.query(
            q, false, 0,
            [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                for (const auto& rec : p.records)
                    left += m.batch->add_leave_of(rec) ? 1 : 0;
                co_return error_code{};
            },
            sd, m.calls());
        if (ec) {
            log::warn("sync", "fetching records that left the row filter failed; polling now",
                      {{"mapping", m.m.object_name}, {"error", sd.summary()}});
            m.request_poll();
        }
    }
    if (left)
        log::debug("sync", "records left the row filter",
                   {{"mapping", m.m.object_name}, {"records", static_cast<unsigned long>(left)}});
}

} // namespace sfbridge::bridge
