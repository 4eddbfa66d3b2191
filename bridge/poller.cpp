#include "bridge/poller.hpp"

#include "bridge/error_log.hpp"
#include "bridge/schema_change.hpp"
#include "bridge/sf_clock.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/write_retry.hpp"
#include "core/backoff.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "mappings/soql.hpp"
#include "mappings/values.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <utility>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

poller::poller(const sync_context& ctx, mapping_runtime& m, std::function<void()> caught_up)
    : ctx_(ctx), m_(m), caught_up_(std::move(caught_up)),
      refused_(ctx.cfg.refused_retry, std::max<std::chrono::milliseconds>(
                                          ctx.cfg.refused_retry, std::chrono::minutes(10))) {}

asio::awaitable<void> poller::run() {
    const auto interval = ctx_.cfg.poll_interval.value_or(
        std::chrono::seconds(std::max<std::int64_t>(1, m_.m.config.sf_polling_seconds)));
    auto stop_waiting = ctx_.stop.on_stop([this] { m_.poll_timer.cancel(); });
    backoff delays({std::chrono::seconds(1), std::chrono::seconds(60)});
    // The first poll runs at once: it covers the hand-over from the load (or the downtime).
    m_.poll_now = true;
    std::optional<std::chrono::milliseconds> retry_after; // after a failure
    while (!ctx_.stop.stopping()) {
        if (!m_.poll_now) {
            m_.poll_timer.expires_after(retry_after.value_or(interval));
            error_code ec;
            co_await m_.poll_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (ctx_.stop.stopping())
                break;
        }
        m_.poll_now = false;
        // A session from the replica's pool for this poll and what follows it, given back
        // before the wait (writer_pool).
        lease_ = co_await ctx_.pool->acquire(ctx_.stop);
        if (!lease_ || ctx_.stop.stopping())
            break;
        const bool first = !m_.polled_since_lead;
        if (auto ec = co_await poll()) {
            lease_.reset();
            if (std::exchange(invalid_field_, false))
                co_await check_schema();
            retry_after = delays.next();
            log::warn("sync", "poll failed, will retry",
                      {{"mapping", m_.m.object_name}, {"error", ec.message()}});
            continue;
        }
        if (first)
            log::info("sync", "caught up: first poll done",
                      {{"mapping", m_.m.object_name},
                       {"records", static_cast<unsigned long>(m_.stats.polled)}});
        ++m_.stats.polls;
        m_.polled_since_lead = true;
        m_.last_poll_ms = calendar::now_ms();
        if (first && caught_up_)
            caught_up_();
        retry_after.reset();
        delays.reset();
        co_await housekeeping();
        if (auto ec = co_await reread_adopted(ctx_, w(), m_))
            log::warn("sync",
                      "records the write-back adopted: reading them again failed, will retry",
                      {{"mapping", m_.m.object_name}, {"error", ec.message()}});
        if (refused_.due(std::chrono::steady_clock::now())) {
            const bool still = co_await retry_refused(ctx_, w(), m_);
            refused_.done(std::chrono::steady_clock::now(), still);
        }
        lease_.reset();
    }
    lease_.reset();
    log::debug("sync", "poll loop ended", {{"mapping", m_.m.object_name}});
}

asio::awaitable<error_code> poller::poll() {
    auto ec = co_await read_marks();
    if (ec)
        co_return ec;
    // The window ends at Salesforce's now, not ours: the mark it leaves is where the next poll
    // starts, and SystemModstamp is Salesforce's time.
    co_await measure_clock(ctx_, m_);
    const std::int64_t to = salesforce_now(m_);
    ec = co_await poll_changes(to);
    if (!ec && m_.m.has_isdeleted)
        ec = co_await poll_deletes(to);
    co_return ec;
}

asio::awaitable<error_code> poller::poll_changes(std::int64_t to) {
    const std::int64_t from =
        std::max<std::int64_t>(0, m_.poll_high_water_ms - ctx_.cfg.poll_overlap.count());
    std::string err;
    auto soql = mappings::soql::modstamp_window(m_.m.object_name, m_.m.field_names(), from, to, err,
                                                m_.m.filter_soql());
    if (!soql)
        co_return salesforce::errc::api_error;
    const auto opts = m_.calls();
    salesforce::diagnostics sd;
    change_batch batch(m_.m);
    row_issue issue;
    std::size_t seen = 0;
    std::unordered_set<std::string> matched;      // with a row filter: the window's records in it
    std::vector<salesforce::flat_record> changed; // ... and every record changed in the window
    const std::string poll_source = "poll", no_payload;
    // Read before the filtered query: a change that becomes visible between the two is then
    // missing from this list, never from the filtered one (which would make it a leaver).
    error_code ec;
    if (m_.m.options.filter)
        ec = co_await window_ids(from, to, changed);
    if (ec)
        co_return ec;
    ec = co_await ctx_.rest.query(
        *soql, false, 2000,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            if (ctx_.stop.stopping()) // the high-water mark does not move: the next start polls
                co_return asio::error::operation_aborted;
            for (const auto& rec : p.records) {
                if (const auto* id = rec.get("Id"); id && m_.m.options.filter)
                    matched.insert(id->raw);
                if (batch.add_record(rec, issue) != row_outcome::added)
                    co_await record_error(w(), m_, poll_source, 0, issue, no_payload);
            }
            seen += p.records.size();
            if (batch.size() < ctx_.cfg.max_batch)
                co_return error_code{};
            const position_update none;
            auto e = co_await apply(batch, none);
            batch.clear();
            co_return e;
        },
        sd, opts);
    invalid_field_ = ec && sd.error_code == "INVALID_FIELD";
    if (!ec && m_.m.options.filter)
        ec = co_await remove_leavers(changed, matched, batch);
    if (ec)
        co_return ec;
    position_update pos;
    pos.poll_high_water = calendar::format_pg(to);
    ec = co_await apply(batch, pos);
    if (ec)
        co_return ec;
    m_.poll_high_water_ms = to;
    m_.stats.polled += seen;
    if (seen)
        log::debug("sync", "poll",
                   {{"mapping", m_.m.object_name}, {"records", static_cast<unsigned long>(seen)}});
    co_return error_code{};
}

// On a session just opened, the high-water marks are read back from _sfbridge_state before
// the poll: after a server crash, the last batches this poller committed (with
// synchronous_commit = off) may be gone with the marks they carried, and polling from the marks
// held in memory would never fetch those records again. A session replaced during a poll fails
// that poll (write_errc::positions_unsure), and the next one starts here.
asio::awaitable<error_code> poller::read_marks() {
    pg::diagnostics d;
    error_code ec;
    if (!w().is_open())
        ec = co_await w().open(ctx_.cfg.database_url, d);
    if (!ec && !w().positions_unsure())
        co_return ec;
    std::map<std::string, stored_position> stored;
    if (!ec)
        ec = co_await w().read_positions(stored, d);
    if (ec) {
        if (w().connection().is_broken())
            w().connection().close();
        co_return ec;
    }
    if (const auto it = stored.find(m_.m.object_name); it != stored.end()) {
        if (it->second.poll_high_water_ms < m_.poll_high_water_ms ||
            it->second.deleted_high_water_ms < m_.deleted_high_water_ms)
            log::warn("sync", "Postgres lost committed poll batches; polling from the stored marks",
                      {{"mapping", m_.m.object_name},
                       {"held", calendar::format_pg(m_.poll_high_water_ms)},
                       {"stored", calendar::format_pg(it->second.poll_high_water_ms)}});
        m_.poll_high_water_ms = it->second.poll_high_water_ms;
        m_.deleted_high_water_ms = it->second.deleted_high_water_ms;
    }
    w().positions_confirmed();
    co_return error_code{};
}

// A record Postgres refuses fails alone and is recorded; the rest commits with the position,
// so the high-water mark moves past it (polling stopped there at every poll before).
asio::awaitable<error_code> poller::apply(const change_batch& batch, const position_update& pos) {
    std::vector<row_issue> refused;
    const auto ec = co_await apply_isolating(ctx_, w(), batch, pos, refused);
    for (const auto& issue : refused)
        co_await record_error(w(), m_, "poll", 0, issue, std::string());
    co_return ec;
}

// The Id and SystemModstamp of every record changed in the window, the row filter aside.
asio::awaitable<error_code> poller::window_ids(std::int64_t from, std::int64_t to,
                                               std::vector<salesforce::flat_record>& out) {
    const std::string q = "SELECT Id, SystemModstamp FROM " + m_.m.object_name +
                          " WHERE SystemModstamp >= " + mappings::soql::datetime(from) +
                          " AND SystemModstamp <= " + mappings::soql::datetime(to);
    salesforce::diagnostics sd;
    co_return co_await ctx_.rest.query(
        q, false, 2000,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            if (ctx_.stop.stopping())
                co_return asio::error::operation_aborted;
            out.insert(out.end(), p.records.begin(), p.records.end());
            co_return error_code{};
        },
        sd, m_.calls());
}

// Records changed in the window that the filtered query did not return: they do not match the
// row filter (any more), and their rows go. Found as a difference, not by a query of NOT
// (filter), so how Salesforce treats nulls under NOT, != or NOT IN cannot leave a row behind.
// In the same batch as the window's changes: the high-water mark moves past both or neither.
asio::awaitable<error_code>
poller::remove_leavers(const std::vector<salesforce::flat_record>& changed,
                       const std::unordered_set<std::string>& matched, change_batch& batch) {
    std::size_t left = 0;
    for (const auto& rec : changed) {
        const auto* id = rec.get("Id");
        if (!id || matched.contains(id->raw) || !batch.add_leave_of(rec))
            continue;
        ++left;
        if (batch.size() < ctx_.cfg.max_batch)
            continue;
        const position_update none;
        if (auto ec = co_await apply(batch, none))
            co_return ec;
        batch.clear();
    }
    if (left)
        log::debug("sync", "records left the row filter",
                   {{"mapping", m_.m.object_name}, {"records", static_cast<unsigned long>(left)}});
    co_return error_code{};
}

asio::awaitable<error_code>
poller::query_stamps(const std::string& soql, bool all, change_batch& batch, std::size_t& count,
                     bool (change_batch::*add)(const salesforce::flat_record&)) {
    const auto opts = m_.calls();
    salesforce::diagnostics sd;
    co_return co_await ctx_.rest.query(
        soql, all, 2000,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            if (ctx_.stop.stopping()) // the high-water mark does not move: the next start polls
                co_return asio::error::operation_aborted;
            for (const auto& rec : p.records) {
                if ((batch.*add)(rec))
                    ++count;
                else
                    log::warn("sync", "a record without a readable Id and SystemModstamp; skipped",
                              {{"mapping", m_.m.object_name}});
            }
            // In batches of --max-batch, as changes are: one transaction per batch keeps each
            // within its deadline (the high-water mark moves with the last one only).
            if (batch.size() < ctx_.cfg.max_batch)
                co_return error_code{};
            const position_update none;
            auto e = co_await apply(batch, none);
            batch.clear();
            co_return e;
        },
        sd, opts);
}

// queryAll sees the records in the recycle bin.
asio::awaitable<error_code> poller::poll_deletes(std::int64_t to) {
    const std::int64_t from =
        std::max<std::int64_t>(0, m_.deleted_high_water_ms - ctx_.cfg.poll_overlap.count());
    const std::string q =
        "SELECT Id, SystemModstamp FROM " + m_.m.object_name +
        " WHERE IsDeleted = true AND SystemModstamp >= " + mappings::soql::datetime(from) +
        " AND SystemModstamp <= " + mappings::soql::datetime(to);
    change_batch dels(m_.m);
    std::size_t deleted = 0;
    auto ec = co_await query_stamps(q, true, dels, deleted, &change_batch::add_delete_of);
    if (ec)
        co_return ec;
    position_update pos;
    pos.deleted_high_water = calendar::format_pg(to);
    ec = co_await apply(dels, pos);
    if (ec)
        co_return ec;
    m_.deleted_high_water_ms = to;
    m_.stats.deletes += deleted;
    co_return error_code{};
}

// A tombstone only has to outlive every way an older version of the record can still arrive:
// replayed events (Salesforce keeps them 24 h, 72 h for CDC) and overlapping polls. Past that, a
// poll reads the record as it is (IsDeleted through queryAll), so the row stays deleted without
// it. The archive, conflicts and errors are kept for people (retention, 31 days by default),
// except refusals still to be retried. Checked once an hour per mapping, after a poll.
asio::awaitable<void> poller::housekeeping() {
    const auto now = std::chrono::steady_clock::now();
    // Hourly, or four times per retention when that is shorter.
    const auto every = std::min<std::chrono::steady_clock::duration>(
        std::chrono::hours(1), std::min(ctx_.cfg.retention, ctx_.cfg.tombstone_retention) / 4);
    if (m_.last_prune != std::chrono::steady_clock::time_point{} && now - m_.last_prune < every)
        co_return;
    m_.last_prune = now;
    if (!w().connection().is_open())
        co_return;
    const std::string& schema = ctx_.cfg.schema;
    const auto& object = m_.m.object_name;
    const long tombstones = static_cast<long>(ctx_.cfg.tombstone_retention.count());
    const long kept = static_cast<long>(ctx_.cfg.retention.count());
    std::size_t rows = 0;
    (void)co_await prune("tombstones", state_sql::prune_tombstones(schema),
                         pg::params(object, tombstones), rows);
    (void)co_await prune("errors", state_sql::prune_errors(schema), pg::params(object, kept), rows);
    (void)co_await prune("conflicts", state_sql::prune_conflicts(schema), pg::params(object, kept),
                         rows);
    if (!m_.m.read_write())
        co_return;
    constexpr long chunk = 10000; // short transactions beside the app's
    for (int i = 0; i < 1000; ++i) {
        std::size_t n = 0;
        if (!co_await prune("archived trigger-log rows",
                            state_sql::prune_archive(schema, m_.m.table),
                            pg::params(m_.m.table, kept, chunk), n) ||
            n < static_cast<std::size_t>(chunk))
            break;
    }
}

asio::awaitable<void> poller::check_schema() {
    std::string json, error;
    salesforce::diagnostics sd;
    if (co_await ctx_.rest.describe(m_.m.object_name, json, sd))
        co_return;
    const auto now = mappings::parse_describe(json, error);
    if (!now)
        co_return;
    const auto changed = schema_change::fields_changed(m_.m, *now);
    if (changed.empty() || !ctx_.schema_changed)
        co_return;
    ctx_.schema_changed("mapping " + m_.m.object_name + ": " +
                        schema_change::join_columns(changed));
}

asio::awaitable<bool> poller::prune(const std::string& what, const std::string& sql,
                                    const pg::params& p, std::size_t& rows) {
    pg::result r;
    pg::diagnostics d;
    if (co_await w().query(sql, p, r, d)) {
        log::warn("sync", "pruning failed",
                  {{"mapping", m_.m.object_name}, {"what", what}, {"error", d.summary()}});
        co_return false;
    }
    rows = static_cast<std::size_t>(r.affected_rows());
    if (rows > 0)
        log::info("sync", "pruned past their retention",
                  {{"mapping", m_.m.object_name},
                   {"what", what},
                   {"rows", static_cast<unsigned long>(rows)}});
    co_return true;
}

} // namespace sfbridge::bridge
