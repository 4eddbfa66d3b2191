#include "bridge/field_refresh.hpp"

#include "bridge/error_log.hpp"
#include "bridge/leadership_sql.hpp"
#include "bridge/schema_change.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/write_failure.hpp"
#include "bridge/writer_pool.hpp"
#include "core/backoff.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "mappings/ddl.hpp"
#include "mappings/soql.hpp"
#include "salesforce/bulk_query.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using mappings::quote_identifier;

namespace refresh_sql {

namespace {
bool is_key(const mappings::mapped_field& f) {
    return f.column == "sfid" || f.column == "systemmodstamp";
}
} // namespace

namespace {
template <class Keep>
mappings::resolved_mapping cut(const mappings::resolved_mapping& m, Keep keep) {
    mappings::resolved_mapping v = m;
    v.fields.clear();
    for (const auto& f : m.fields)
        if (is_key(f) || keep(f))
            v.fields.push_back(f);
    v.references.clear();
    v.indexes.clear();
    v.upsert_field.reset();
    v.has_isdeleted = false;
    return v;
}
} // namespace

mappings::resolved_mapping view(const mappings::resolved_mapping& m) {
    return cut(m, [](const mappings::mapped_field& f) { return f.sf.calculated; });
}

mappings::resolved_mapping view(const mappings::resolved_mapping& m,
                                const std::vector<std::string>& columns) {
    return cut(m, [&](const mappings::mapped_field& f) {
        return std::find(columns.begin(), columns.end(), f.column) != columns.end();
    });
}

namespace {
std::string stage(const mappings::resolved_mapping& v) {
    return quote_identifier("_sfbridge_refresh_" + v.table);
}
} // namespace

std::string create_stage(const mappings::resolved_mapping& v) {
    // Dropped at commit: the calculated fields may differ at the next refresh (a schema change).
    std::string s = "CREATE TEMP TABLE " + stage(v) + " (_op \"char\"";
    for (const auto& f : v.fields)
        s += ", " + quote_identifier(f.column) + " " + f.pg_type;
    return s + ") ON COMMIT DROP";
}

std::string copy_into_stage(const mappings::resolved_mapping& v) {
    std::string s = "COPY " + stage(v) + " (_op";
    for (const auto& f : v.fields)
        s += ", " + quote_identifier(f.column);
    return s + ") FROM STDIN";
}

std::string update(std::string_view schema, const mappings::resolved_mapping& v) {
    const std::string t = quote_identifier(schema) + "." + quote_identifier(v.table);
    std::string set, old_row, new_row;
    for (const auto& f : v.fields) {
        if (is_key(f))
            continue;
        const std::string c = quote_identifier(f.column);
        if (!set.empty()) {
            set += ", ";
            old_row += ", ";
            new_row += ", ";
        }
        set += c + " = s." + c;
        old_row += "t." + c;
        new_row += "s." + c;
    }
    // ROW(...) so that one column compares as a row too.
    // Not a row whose app write is pending or failed: sfbridge's own update would mark it
    // SYNCED (the status trigger) and hide the failure.
    return "UPDATE " + t + " t SET " + set + " FROM " + stage(v) +
           " s WHERE t.sfid = s.sfid AND t.systemmodstamp = s.systemmodstamp AND ROW(" + old_row +
           ") IS DISTINCT FROM ROW(" + new_row +
           ") AND t._hc_lastop IS DISTINCT FROM 'PENDING' AND t._hc_lastop IS DISTINCT FROM "
           "'FAILED'";
}

} // namespace refresh_sql

field_refresher::field_refresher(const sync_context& ctx, mapping_runtime& m)
    : ctx_(ctx), m_(m), view_(refresh_sql::view(m.m)), timer_(ctx.ex) {}

field_refresher::field_refresher(const sync_context& ctx, mapping_runtime& m,
                                 std::vector<std::string> backfill_columns)
    : ctx_(ctx), m_(m), backfill_(std::move(backfill_columns)),
      view_(refresh_sql::view(m.m, backfill_)), timer_(ctx.ex) {}

asio::awaitable<void> field_refresher::run() {
    const bool backfilling = !backfill_.empty();
    const auto interval =
        backfilling ? std::chrono::seconds(60) : std::chrono::seconds(m_.m.options.refresh_seconds);
    auto stop_waiting = ctx_.stop.on_stop([this] { timer_.cancel(); });
    backoff delays({std::chrono::seconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::max<std::chrono::seconds>(interval, std::chrono::seconds(1)))});
    // A back-fill starts at once; a refresh one interval after the last one (kept in
    // _sfbridge_state, or the load's end), so that restarts more often than the interval do not
    // put it off for ever.
    std::optional<std::chrono::milliseconds> retry_after;
    if (backfilling)
        retry_after = std::chrono::milliseconds(0);
    else
        retry_after = co_await first_wait(interval);
    while (!ctx_.stop.stopping()) {
        timer_.expires_after(retry_after.value_or(interval));
        error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ctx_.stop.stopping())
            break;
        ec = co_await refresh();
        if (!ec && backfilling)
            ec = co_await finish_backfill();
        if (ec) {
            if (classify_write_failure(ec) == write_failure::fenced)
                break; // another replica leads the mapping now (ctx.fenced was told)
            retry_after = delays.next();
            if (!backfilling)
                m_.last_refresh.error = ec.message();
            log::warn("sync",
                      backfilling ? "back-filling added fields failed, will retry"
                                  : "refreshing formula and roll-up fields failed, will retry",
                      {{"mapping", m_.m.object_name}, {"error", ec.message()}});
            continue;
        }
        if (backfilling)
            break;
        retry_after.reset();
        delays.reset();
    }
    log::debug("sync", backfilling ? "back-fill ended" : "refresh loop ended",
               {{"mapping", m_.m.object_name}});
}

asio::awaitable<std::optional<std::chrono::milliseconds>>
field_refresher::first_wait(std::chrono::seconds interval) {
    const std::chrono::milliseconds whole = interval;
    pg::result r;
    pg::diagnostics d;
    error_code ec = asio::error::operation_aborted;
    if (auto lease = co_await ctx_.pool->acquire(ctx_.stop)) {
        ec = co_await open(*lease);
        if (!ec)
            ec = co_await lease->query(state_sql::last_refresh(ctx_.cfg.schema),
                                       pg::params(m_.m.object_name), r, d);
    }
    if (ec || r.rows() != 1 || r.is_null(0, 0))
        co_return whole;
    const std::int64_t since = std::stoll(std::string(r.value(0, 0)));
    co_return std::chrono::milliseconds(
        std::clamp<std::int64_t>(whole.count() - since, 0, whole.count()));
}

asio::awaitable<error_code> field_refresher::open(table_writer& w) {
    if (w.is_open())
        co_return error_code{};
    pg::diagnostics d;
    co_return co_await w.open(ctx_.cfg.database_url, d);
}

// The Salesforce read holds no Postgres session: one is borrowed from the pool for each batch
// written (and given back), so that a long read or a Bulk job's wait keeps no poller waiting.
asio::awaitable<error_code> field_refresher::refresh() {
    std::string soql_error;
    const auto soql = mappings::soql::select_all(view_.object_name, view_.field_names(), soql_error,
                                                 view_.filter_soql());
    if (!soql)
        co_return salesforce::errc::api_error;
    salesforce::diagnostics sd;
    std::int64_t total = 0;
    auto ec = co_await ctx_.rest.query(
        "SELECT COUNT() FROM " + view_.object_name +
            mappings::soql::filter_clause(view_.filter_soql(),
                                          mappings::soql::filter_position::whole_where),
        false, 0,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            total = p.total_size;
            co_return error_code{};
        },
        sd, m_.calls());
    if (ec)
        co_return ec;
    const bool bulk = static_cast<std::size_t>(total) >= ctx_.cfg.bulk_threshold;
    change_batch batch(view_);
    row_issue issue;
    std::vector<row_issue> issues;
    std::size_t records = 0, changed = 0;
    auto flush = [&](bool always) -> asio::awaitable<error_code> {
        if ((batch.empty() && issues.empty()) ||
            (!always && batch.size() < ctx_.cfg.max_batch && issues.size() < ctx_.cfg.max_batch))
            co_return error_code{};
        auto lease = co_await ctx_.pool->acquire(ctx_.stop);
        if (!lease)
            co_return asio::error::operation_aborted;
        auto e = co_await open(*lease);
        std::size_t n = 0;
        if (!e && !batch.empty())
            e = co_await write(*lease, batch, n);
        if (!e)
            for (const auto& i : issues) // kept once per record and message (error_log)
                co_await record_error(*lease, m_, backfill_.empty() ? "refresh" : "backfill", 0, i,
                                      std::string());
        changed += n;
        batch.clear();
        issues.clear();
        co_return e;
    };
    auto taken = [&](row_outcome outcome) -> asio::awaitable<error_code> {
        if (ctx_.stop.stopping())
            co_return asio::error::operation_aborted;
        ++records;
        if (outcome != row_outcome::added)
            issues.push_back(issue);
        co_return co_await flush(false);
    };
    if (bulk) {
        salesforce::bulk_query_options bo;
        bo.call = m_.calls();
        salesforce::bulk_query_stats bs;
        ec = co_await salesforce::bulk_query(
            ctx_.rest, *soql, bo,
            [&](const std::vector<std::string>& cols,
                const salesforce::csv_rows& rows) -> asio::awaitable<error_code> {
                for (std::size_t i = 0; i < rows.size(); ++i) {
                    const auto outcome = batch.add_csv_row(cols, rows, i, issue);
                    if (auto e = co_await taken(outcome))
                        co_return e;
                }
                co_return error_code{};
            },
            bs, sd);
    } else {
        ec = co_await ctx_.rest.query(
            *soql, false, 2000,
            [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                for (const auto& rec : p.records) {
                    const auto outcome = batch.add_record(rec, issue);
                    if (auto e = co_await taken(outcome))
                        co_return e;
                }
                co_return error_code{};
            },
            sd, m_.calls());
    }
    if (!ec)
        ec = co_await flush(true);
    if (ec)
        co_return ec;
    if (!backfill_.empty()) {
        log::info("sync", "added fields back-filled",
                  {{"mapping", m_.m.object_name},
                   {"columns", schema_change::join_columns(backfill_)},
                   {"records", static_cast<unsigned long>(records)},
                   {"changed", static_cast<unsigned long>(changed)},
                   {"api", bulk ? "bulk" : "rest"}});
        co_return error_code{};
    }
    m_.last_refresh = {calendar::now_ms(), records, changed, bulk, std::string()};
    if (auto lease = co_await ctx_.pool->acquire(ctx_.stop)) {
        pg::diagnostics d;
        pg::result r;
        auto e = co_await open(*lease);
        if (!e)
            e = co_await lease->query(state_sql::record_refresh(ctx_.cfg.schema),
                                      pg::params(m_.m.object_name, static_cast<long long>(records),
                                                 static_cast<long long>(changed)),
                                      r, d);
        if (e)
            log::warn("sync", "recording the refresh in _sfbridge_state failed",
                      {{"mapping", m_.m.object_name}, {"error", d.summary()}});
    }
    log::info("sync", "formula and roll-up fields refreshed",
              {{"mapping", m_.m.object_name},
               {"records", static_cast<unsigned long>(records)},
               {"changed", static_cast<unsigned long>(changed)},
               {"api", bulk ? "bulk" : "rest"}});
    co_return error_code{};
}

asio::awaitable<error_code> field_refresher::finish_backfill() {
    auto lease = co_await ctx_.pool->acquire(ctx_.stop);
    if (!lease)
        co_return asio::error::operation_aborted;
    pg::diagnostics d;
    pg::result r;
    auto ec = co_await open(*lease);
    if (!ec)
        ec = co_await lease->query(
            state_sql::finish_backfill(ctx_.cfg.schema),
            pg::params(m_.m.object_name, schema_change::join_columns(backfill_)), r, d);
    if (!ec)
        m_.backfill_columns.clear();
    co_return ec;
}

// One transaction per batch, behind the mapping's fence: a replica that lost the mapping
// writes nothing, and says so (ctx.fenced).
asio::awaitable<error_code> field_refresher::write(table_writer& w, const change_batch& batch,
                                                   std::size_t& changed) {
    pg::diagnostics d;
    pg::result r;
    std::string text;
    batch.copy_text(text);
    auto& conn = w.connection();
    auto ec = co_await conn.async_exec("BEGIN", d);
    if (!ec)
        ec = co_await conn.async_query(
            leadership_sql::fence(ctx_.cfg.schema),
            pg::params(m_.m.object_name, static_cast<long long>(ctx_.epoch_of(m_.m.object_name))),
            r, d);
    if (!ec)
        ec = co_await conn.async_exec(refresh_sql::create_stage(view_), d);
    if (!ec)
        ec = co_await conn.async_copy_start(refresh_sql::copy_into_stage(view_), d);
    if (!ec)
        ec = co_await conn.async_copy_write(text, d);
    std::uint64_t rows = 0;
    if (!ec)
        ec = co_await conn.async_copy_end(rows, d);
    else if (conn.in_copy()) {
        pg::diagnostics ignore;
        (void)co_await conn.async_copy_abort("sfbridge: refresh failed", ignore);
    }
    if (!ec)
        ec = co_await conn.async_query(refresh_sql::update(ctx_.cfg.schema, view_), pg::params(), r,
                                       d);
    if (!ec) {
        changed = static_cast<std::size_t>(r.affected_rows());
        ec = co_await conn.async_exec("COMMIT", d);
    }
    if (ec) {
        log::warn("sync", "refresh batch failed",
                  {{"mapping", m_.m.object_name}, {"error", d.summary()}});
        if (conn.is_open()) {
            pg::diagnostics ignore;
            (void)co_await conn.async_exec("ROLLBACK", ignore);
        }
        if (conn.is_broken())
            conn.close();
        if (classify_write_failure(ec) == write_failure::fenced && ctx_.fenced)
            ctx_.fenced();
    }
    co_return ec;
}

} // namespace sfbridge::bridge
