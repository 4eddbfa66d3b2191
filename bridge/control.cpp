#include "bridge/control.hpp"

#include "bridge/initial_load.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/writer_pool.hpp"
#include "core/backoff.hpp"
#include "core/log.hpp"

#include <cstdlib>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

control::control(const sync_context& ctx, std::vector<std::unique_ptr<mapping_runtime>>& maps,
                 spawner spawn)
    : ctx_(ctx), maps_(maps), spawn_(std::move(spawn)) {}

asio::awaitable<void> control::run() {
    pg::connection conn(ctx_.ex);
    backoff delays({std::chrono::seconds(2), std::chrono::seconds(30)});
    bool baseline_read = false;
    while (!ctx_.stop.stopping()) {
        pg::diagnostics d;
        error_code ec;
        if (!conn.is_open()) { // (no co_await inside && or ?: : GCC 12 evaluates it regardless)
            ec = co_await conn.async_connect(ctx_.cfg.database_url, d);
            baseline_read = false;
        }
        if (ec) {
            conn.close();
            co_await ctx_.stop.sleep(delays.next());
            continue;
        }
        pg::result r;
        if (co_await conn.async_query(state_sql::reload_requests(ctx_.cfg.schema), pg::params(), r,
                                      d)) {
            conn.close();
            co_await ctx_.stop.sleep(delays.next());
            continue;
        }
        delays.reset();
        for (int i = 0; i < r.rows(); ++i)
            for (auto& m : maps_)
                if (m->m.object_name == r.value(i, 0) && !m->reloading && !ctx_.stop.stopping()) {
                    m->reloading = true;
                    spawn_("reload " + m->m.object_name, reload(*m));
                }
        co_await schema_reload(conn);
        co_await tombstone_statistics(conn, baseline_read);
        co_await ctx_.stop.sleep(std::chrono::seconds(2));
    }
    conn.close();
}

// `sfbridge reload --schema-only` asked since this process started: it starts again in place,
// which reads the mapping file and the describes again (bridge/schema_change decides what
// follows). Asked once; the restart ends this loop.
asio::awaitable<void> control::schema_reload(pg::connection& conn) {
    if (schema_reload_asked_ || !ctx_.schema_changed)
        co_return;
    pg::result r;
    pg::diagnostics d;
    if (co_await conn.async_query(state_sql::schema_reload_requested(ctx_.cfg.schema),
                                  pg::params(ctx_.cfg.replica_id), r, d)) {
        if (d.sqlstate != "42P01") // a schema from before the table: nothing asked
            log::warn("sync", "reading schema reload requests failed", {{"error", d.summary()}});
        co_return;
    }
    if (r.rows() == 1 && r.value(0, 0) == "t") {
        schema_reload_asked_ = true;
        ctx_.schema_changed("sfbridge reload --schema-only");
    }
}

asio::awaitable<void> control::tombstone_statistics(pg::connection& conn, bool& baseline_read) {
    const std::string table = "_sfbridge_deleted";
    pg::diagnostics d;
    error_code ec;
    const auto now = std::chrono::steady_clock::now();
    if (baseline_read && ctx_.tombstones.due() && now >= next_analyze_) {
        ctx_.tombstones.started();
        ec = co_await conn.async_exec(state_sql::analyze(ctx_.cfg.schema, table), d);
        if (ec) {
            // Not at every pass: a lock held by someone's VACUUM would make each one wait.
            ctx_.tombstones.failed();
            next_analyze_ = now + analyze_delays_.next();
            log::warn("sync", "ANALYZE of the tombstones failed", {{"error", d.summary()}});
        } else {
            analyze_delays_.reset();
            log::debug("sync", "tombstones analyzed");
            baseline_read = false; // what it saw
        }
    }
    if (!ec && !baseline_read) {
        pg::result r;
        ec = co_await conn.async_query(state_sql::planner_rows(),
                                       pg::params(ctx_.cfg.schema, table), r, d);
        if (!ec && r.rows() == 1 && !r.is_null(0, 0)) {
            const std::string text(r.value(0, 0));
            char* end = nullptr;
            const double rows = std::strtod(text.c_str(), &end);
            if (end != text.c_str()) {
                ctx_.tombstones.analyzed(rows);
                baseline_read = true;
            }
        }
    }
    if (ec && conn.is_broken())
        conn.close();
}

asio::awaitable<bool> control::load(mapping_runtime& m, table_writer& w,
                                    std::chrono::milliseconds first_retry, int attempts) {
    backoff delays({first_retry, std::chrono::seconds(60)});
    for (int failed = 0; !ctx_.stop.stopping() && (attempts == 0 || failed < attempts);) {
        pg::diagnostics d;
        error_code ec;
        if (!w.is_open())
            ec = co_await w.open(ctx_.cfg.database_url, d);
        if (!ec) {
            initial_load attempt(ctx_, m, w);
            ec = co_await attempt.run();
            if (!ec) {
                m.load_attempts = 0;
                m.load_error.clear();
                if (attempt.rows_loaded() > 0 && !ctx_.stop.stopping())
                    spawn_("analyze " + m.m.object_name, analyze(m));
                co_return true;
            }
            co_await failed_attempt(m, w, attempt.error_text(ec));
        } else {
            log::warn("sync", "the load's Postgres session cannot be opened, will retry",
                      {{"mapping", m.m.object_name}, {"error", d.summary()}});
            co_await failed_attempt(m, w, "Postgres: " + d.summary());
        }
        if (attempts != 0 && ++failed >= attempts)
            break;
        co_await ctx_.stop.sleep(delays.next());
    }
    co_return false;
}

// Kept in memory and, when Postgres answers, in _sfbridge_state for `sfbridge status`.
asio::awaitable<void> control::failed_attempt(mapping_runtime& m, table_writer& w,
                                              std::string error) {
    ++m.load_attempts;
    m.load_error = error;
    if (!w.is_open())
        co_return;
    pg::diagnostics d;
    pg::result r;
    if (co_await w.query(state_sql::load_failed(ctx_.cfg.schema),
                         pg::params(m.m.object_name, error,
                                    static_cast<long long>(ctx_.epoch_of(m.m.object_name))),
                         r, d))
        log::warn("sync", "recording the failed load failed",
                  {{"mapping", m.m.object_name}, {"error", d.summary()}});
}

asio::awaitable<void> control::reload(mapping_runtime& m) {
    log::info("sync", "reload requested: loading again while the rest runs on",
              {{"mapping", m.m.object_name}});
    // A pooled session per attempt: a reload failing for hours holds none between attempts.
    backoff delays({std::chrono::milliseconds(500), std::chrono::seconds(60)});
    for (bool loaded = false; !loaded && !ctx_.stop.stopping();) {
        auto w = co_await ctx_.pool->acquire(ctx_.stop);
        if (!w)
            break;
        loaded = co_await load(m, *w, std::chrono::milliseconds(500), 1);
        w.reset();
        if (!loaded)
            co_await ctx_.stop.sleep(delays.next());
    }
    m.reloading = false;
}

asio::awaitable<void> control::analyze(mapping_runtime& m) {
    auto w = co_await ctx_.pool->acquire(ctx_.stop);
    if (!w)
        co_return;
    pg::diagnostics d;
    error_code ec;
    if (!w->is_open())
        ec = co_await w->open(ctx_.cfg.database_url, d);
    const auto usual = w->connection().timeout();
    w->connection().set_timeout(long_statement_deadline);
    if (!ec)
        ec = co_await w->exec(state_sql::analyze(ctx_.cfg.schema, m.m.table), d);
    w->connection().set_timeout(usual);
    if (ec)
        log::warn("sync", "ANALYZE after the load failed",
                  {{"mapping", m.m.object_name}, {"error", d.summary()}});
}

} // namespace sfbridge::bridge
