#include "bridge/initial_load.hpp"

#include "bridge/error_log.hpp"
#include "bridge/leadership_sql.hpp"
#include "bridge/sf_clock.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/write_failure.hpp"
#include "bridge/write_retry.hpp"
#include "bridge/writer_pool.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "mappings/soql.hpp"
#include "mappings/types.hpp"
#include "salesforce/bulk_query.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

initial_load::initial_load(const sync_context& ctx, mapping_runtime& m, table_writer& w)
    : ctx_(ctx), m_(m), w_(w), write_done_(ctx.ex) {
    write_done_.expires_at(asio::steady_timer::time_point::max());
}

initial_load::~initial_load() = default;

asio::awaitable<error_code> initial_load::run() {
    auto ec = co_await begin();
    if (!ec)
        ec = co_await open_writers();
    if (!ec)
        ec = co_await fetch();
    if (!ec && size(*filling_) > 0)
        ec = co_await hand_over();
    // Always wait for the writes in flight: they refer to this object.
    const auto last = co_await wait_writers(0);
    if (!ec)
        ec = last;
    const std::string source = bulk_ ? "bulk" : "query";
    for (const auto& issue : row_issues_)
        co_await record_error(w_, m_, source, 0, issue, std::string());
    if (ec) {
        log::warn("sync", "initial load failed, will retry",
                  {{"mapping", m_.m.object_name}, {"error", error_text(ec)}});
        co_return ec;
    }
    if (!fresh_)
        ec = co_await remove_unseen();
    if (!ec)
        ec = co_await finish();
    co_return ec;
}

// Marks the load started, counts the records (REST or Bulk) and looks at the table (COPY into
// an empty one, merges otherwise).
asio::awaitable<error_code> initial_load::begin() {
    // A load starts over and ends by writing its own high-water marks: it depends on no
    // position committed before it (a session lost during it fails the attempt).
    w_.positions_confirmed();
    // In Salesforce's time: the first poll starts here (bridge/sf_clock).
    co_await measure_clock(ctx_, m_);
    started_ms_ = salesforce_now(m_) - ctx_.cfg.poll_overlap.count();
    t0_ = std::chrono::steady_clock::now();
    const auto& schema = ctx_.cfg.schema;
    pg::diagnostics pd;
    pg::result r;
    auto ec = co_await fenced_query(w_, state_sql::mark_loading(schema),
                                    pg::params(m_.m.object_name, calendar::format_pg(started_ms_)),
                                    r, pd);
    if (ec)
        co_return ec;
    std::int64_t total = 0;
    ec = co_await ctx_.rest.query(
        "SELECT COUNT() FROM " + m_.m.object_name +
            mappings::soql::filter_clause(m_.m.filter_soql(),
                                          mappings::soql::filter_position::whole_where),
        false, 0,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            total = p.total_size;
            co_return error_code{};
        },
        sd_, m_.calls());
    if (ec) {
        log::warn("sync", "counting records failed",
                  {{"mapping", m_.m.object_name}, {"error", sd_.summary()}});
        co_return ec;
    }
    bulk_ = static_cast<std::size_t>(total) >= ctx_.cfg.bulk_threshold;
    log::info("sync", "initial load",
              {{"mapping", m_.m.object_name},
               {"records", static_cast<long long>(total)},
               {"api", bulk_ ? "bulk" : "rest"}});
    pg::result empty;
    ec = co_await w_.query(state_sql::table_is_empty(schema, m_.m.table), pg::params(), empty, pd);
    if (ec)
        co_return ec;
    fresh_ = empty.value(0, 0) == "t" && !m_.load_by_merge;
    // Loading into a table that has rows (a reload): the sfids seen are kept in
    // _sfbridge_seen, so that rows whose record Salesforce no longer has can be removed after.
    if (!fresh_)
        ec = co_await fenced_query(w_, state_sql::clear_seen(schema), pg::params(m_.m.object_name),
                                   r, pd);
    co_return ec;
}

// The writers: the given one, and for an empty table whose triggers can be switched off per
// session (see table_writer::load), a second connection beside it.
asio::awaitable<error_code> initial_load::open_writers() {
    if (fresh_) {
        pg::diagnostics pd;
        pg::result others;
        const std::string table = mappings::quote_identifier(ctx_.cfg.schema) + "." +
                                  mappings::quote_identifier(m_.m.table);
        auto ec =
            co_await w_.query(state_sql::other_triggers(),
                              pg::params(table, mappings::ddl::status_trigger_name(m_.m.table),
                                         mappings::ddl::log_trigger_name(m_.m.table)),
                              others, pd);
        if (ec)
            co_return ec;
        // Replica mode only when the table has no trigger but Heroku Connect's two and this
        // role may set the parameter, which is tried once here; the writers then do not try
        // what was refused.
        bool replica = false;
        if (others.value(0, 0) == "0") {
            pg::diagnostics probe;
            replica = !co_await w_.exec(
                "BEGIN; SET LOCAL session_replication_role = replica; ROLLBACK", probe);
            if (!replica) {
                log::info("sync",
                          "loading without session_replication_role (not allowed to this role)",
                          {{"table", m_.m.table}, {"detail", probe.summary()}});
                pg::diagnostics ignore;
                (void)co_await w_.exec("ROLLBACK", ignore);
            }
        }
        w_.allow_replica_load(replica);
        // A second connection only helps in replica mode: ALTER TABLE would make the two take
        // turns.
        // Only when the replica's pool has a session free now (a load does not wait for one).
        if (replica && ctx_.cfg.load_connections > 1 && ctx_.pool)
            second_ = ctx_.pool->try_acquire();
        if (second_) {
            pg::diagnostics od;
            error_code oe;
            if (!second_->is_open())
                oe = co_await second_->open(ctx_.cfg.database_url, od);
            if (oe) {
                log::warn("sync", "the load's second connection failed; loading on one",
                          {{"error", od.summary()}});
                second_.reset();
            } else {
                second_->allow_replica_load(true);
                second_->positions_confirmed();
            }
        }
    }
    slots_.push_back({&w_, std::make_unique<buffers>(m_.m)});
    if (second_)
        slots_.push_back({&*second_, std::make_unique<buffers>(m_.m)});
    filling_ = std::make_unique<buffers>(m_.m);
    co_return error_code{};
}

asio::awaitable<error_code> initial_load::fetch() {
    std::string soql_error;
    auto soql = mappings::soql::select_all(m_.m.object_name, m_.m.field_names(), soql_error,
                                           m_.m.filter_soql());
    if (!soql)
        co_return salesforce::errc::api_error;
    // Not `co_return bulk_ ? co_await ... : co_await ...`: GCC 12 ran both branches of that
    // (every record was loaded twice, by Bulk and by REST).
    if (bulk_)
        co_return co_await fetch_bulk(*soql);
    co_return co_await fetch_rest(*soql);
}

asio::awaitable<error_code> initial_load::fetch_bulk(const std::string& soql) {
    salesforce::bulk_query_options bo;
    bo.call = m_.calls();
    salesforce::bulk_query_stats bs;
    const auto ec = co_await salesforce::bulk_query(
        ctx_.rest, soql, bo,
        [&](const std::vector<std::string>& cols,
            const salesforce::csv_rows& rows) -> asio::awaitable<error_code> {
            if (!first_rows_)
                first_rows_ = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const auto outcome = fresh_
                                         ? filling_->copy.add_csv_row(cols, rows, i, row_issue_)
                                         : filling_->merge.add_csv_row(cols, rows, i, row_issue_);
                if (auto e = co_await taken(outcome))
                    co_return e;
            }
            co_return error_code{};
        },
        bs, sd_);
    if (bs.smaller_pages > 0)
        log::info("sync", "Bulk results pages were over the body limit and read in smaller ones",
                  {{"mapping", m_.m.object_name},
                   {"times", static_cast<unsigned long>(bs.smaller_pages)},
                   {"pages", static_cast<unsigned long>(bs.pages)}});
    co_return ec;
}

asio::awaitable<error_code> initial_load::fetch_rest(const std::string& soql) {
    co_return co_await ctx_.rest.query(
        soql, false, 2000,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            if (!first_rows_)
                first_rows_ = std::chrono::steady_clock::now();
            for (const auto& rec : p.records) {
                const auto outcome = fresh_ ? filling_->copy.add_record(rec, row_issue_)
                                            : filling_->merge.add_record(rec, row_issue_);
                if (auto e = co_await taken(outcome))
                    co_return e;
            }
            co_return error_code{};
        },
        sd_, m_.calls());
}

// Converting a page takes milliseconds of this thread, during which the write in flight cannot
// send: every 1,000 rows the thread is let go, so the COPY keeps Postgres fed.
asio::awaitable<error_code> initial_load::taken(row_outcome outcome) {
    if (ctx_.stop.stopping())
        co_return asio::error::operation_aborted; // shutting down: load again at start
    if (outcome != row_outcome::added)
        row_issues_.push_back(row_issue_);
    if (outcome != row_outcome::refused &&
        size(*filling_) >= (fresh_ ? ctx_.cfg.load_batch : ctx_.cfg.max_batch))
        co_return co_await hand_over();
    if (++since_yield_ >= 1000) {
        since_yield_ = 0;
        co_await asio::post(ctx_.ex, asio::use_awaitable);
    }
    co_return error_code{};
}

asio::awaitable<error_code> initial_load::hand_over() {
    auto e = co_await wait_writers(static_cast<long>(slots_.size()) - 1);
    if (e)
        co_return e;
    for (auto& sl : slots_)
        if (!sl.busy) {
            std::swap(filling_, sl.batch);
            sl.busy = true;
            // Joined by wait_writers before this object goes. An exception (a programming
            // error) frees the slot, so that nothing waits for it, and ends the process.
            asio::co_spawn(ctx_.ex, write(sl), [this, &sl](std::exception_ptr thrown) {
                if (!thrown)
                    return;
                sl.busy = false;
                write_done_.cancel();
                std::rethrow_exception(thrown);
            });
            break;
        }
    co_return error_code{};
}

asio::awaitable<void> initial_load::write(slot& sl) {
    error_code e;
    buffers& flushing = *sl.batch;
    if (fresh_) {
        pg::diagnostics ld;
        e = co_await sl.writer->load(flushing.copy, ctx_.epoch_of(m_.m.object_name), ld);
        if (e)
            log::warn("sync", "initial load write failed", {{"error", ld.summary()}});
        // A record twice (23505), or one Postgres refuses: COPY cannot leave a row out, so
        // the next attempt merges, where a refused record fails alone.
        if (e && classify_write_failure(e) == write_failure::refused_row)
            m_.load_by_merge = true;
        if (e && classify_write_failure(e) == write_failure::fenced && ctx_.fenced)
            ctx_.fenced(); // another replica leads the mapping now
    } else {
        e = co_await write_merge(*sl.writer, flushing);
    }
    if (!e) {
        loaded_ += size(flushing);
        m_.stats.rows_loaded += size(flushing);
        flushing.copy.clear();
        flushing.merge.clear();
    } else if (!write_ec_) {
        write_ec_ = e;
    }
    sl.busy = false;
    write_done_.cancel();
}

asio::awaitable<error_code> initial_load::write_merge(table_writer& w, buffers& b) {
    const position_update none;
    // A record Postgres refuses fails alone, recorded after the load with the others.
    auto e = co_await apply_isolating(ctx_, w, b.merge, none, row_issues_);
    if (e)
        co_return e;
    std::vector<std::optional<std::string>> sfids;
    sfids.reserve(b.merge.size());
    b.merge.visit([&](char, const std::vector<std::optional<std::string>>& v) {
        sfids.push_back(v[0]); // Id is the first column
    });
    pg::diagnostics pd;
    pg::result r;
    co_return co_await fenced_query(w, state_sql::insert_seen(ctx_.cfg.schema),
                                    pg::params(m_.m.object_name, pg::text_array(sfids)), r, pd);
}

asio::awaitable<error_code> initial_load::wait_writers(long most_busy) {
    auto busy = [&] {
        return std::count_if(slots_.begin(), slots_.end(), [](const slot& x) { return x.busy; });
    };
    while (busy() > most_busy) {
        // The timer never expires (set in the constructor): a write's end cancels it.
        error_code ignore;
        co_await write_done_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
    }
    co_return write_ec_;
}

// Rows whose record was not in the load, and that no change since its start touched, are gone
// from Salesforce (deleted and purged, or never seen by sfbridge's deletes).
// The rows Salesforce no longer has go in chunks of --max-batch, each its own transaction under
// the mapping's lock (the stream and polls go on between them); then the seen set is cleared,
// a statement over the whole set, which gets a deadline of its own.
asio::awaitable<error_code> initial_load::remove_unseen() {
    const auto& schema = ctx_.cfg.schema;
    const long chunk = static_cast<long>(ctx_.cfg.max_batch);
    pg::diagnostics pd;
    pg::result r;
    error_code ec;
    std::size_t total = 0;
    for (long removed = chunk; !ec && removed == chunk;) {
        pg::result deleted;
        ec = co_await w_.exec("BEGIN", pd);
        if (!ec)
            ec = co_await w_.query(
                leadership_sql::fence(schema),
                pg::params(m_.m.object_name,
                           static_cast<long long>(ctx_.epoch_of(m_.m.object_name))),
                r, pd);
        if (!ec)
            ec = co_await w_.query(
                state_sql::delete_unseen(schema, m_.m.table, m_.m.soft_deletes()),
                pg::params(m_.m.object_name, calendar::format_pg(started_ms_), chunk), deleted, pd);
        if (!ec)
            ec = co_await w_.exec("COMMIT", pd);
        removed = ec ? 0 : static_cast<long>(deleted.affected_rows());
        if (ec && classify_write_failure(ec) == write_failure::fenced && ctx_.fenced)
            ctx_.fenced();
        total += static_cast<std::size_t>(removed);
    }
    if (!ec) {
        const auto usual = w_.connection().timeout();
        w_.connection().set_timeout(long_statement_deadline);
        ec = co_await fenced_query(w_, state_sql::clear_seen(schema), pg::params(m_.m.object_name),
                                   r, pd);
        w_.connection().set_timeout(usual);
    }
    if (ec) {
        pg::diagnostics ignore;
        (void)co_await w_.exec("ROLLBACK", ignore);
        co_return ec;
    }
    if (total > 0)
        log::info("sync",
                  m_.m.soft_deletes() ? "reload marked deleted the rows Salesforce no longer has"
                                      : "reload removed rows Salesforce no longer has",
                  {{"mapping", m_.m.object_name}, {"rows", static_cast<unsigned long>(total)}});
    co_return error_code{};
}

asio::awaitable<error_code> initial_load::fenced_query(table_writer& w, const std::string& sql,
                                                       const pg::params& p, pg::result& r,
                                                       pg::diagnostics& pd) {
    auto ec = co_await w.exec("BEGIN", pd);
    pg::result f;
    const pg::params lead(m_.m.object_name,
                          static_cast<long long>(ctx_.epoch_of(m_.m.object_name)));
    if (!ec)
        ec = co_await w.query(leadership_sql::shared_fence(ctx_.cfg.schema), lead, f, pd);
    if (!ec)
        ec = co_await w.query(sql, p, r, pd);
    if (!ec)
        ec = co_await w.exec("COMMIT", pd);
    if (ec) {
        if (classify_write_failure(ec) == write_failure::fenced && ctx_.fenced)
            ctx_.fenced(); // another replica leads the mapping now
        pg::diagnostics ignore;
        if (w.is_open())
            (void)co_await w.exec("ROLLBACK", ignore);
    }
    co_return ec;
}

asio::awaitable<error_code> initial_load::finish() {
    pg::diagnostics pd;
    pg::result r;
    auto ec = co_await fenced_query(w_, state_sql::mark_loaded(ctx_.cfg.schema),
                                    pg::params(m_.m.object_name, calendar::format_pg(started_ms_)),
                                    r, pd);
    if (ec)
        co_return ec;
    m_.loaded = true;
    m_.poll_high_water_ms = started_ms_;
    m_.deleted_high_water_ms = started_ms_;
    auto ms_since = [this](std::chrono::steady_clock::time_point t) {
        return static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(t - t0_).count());
    };
    const auto now = std::chrono::steady_clock::now();
    log::info("sync", "initial load done",
              {{"mapping", m_.m.object_name},
               {"rows", static_cast<unsigned long>(loaded_)},
               {"ms", ms_since(now)},
               {"first_rows_after_ms", ms_since(first_rows_.value_or(now))}});
    co_return error_code{};
}

} // namespace sfbridge::bridge
