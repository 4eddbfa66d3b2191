#include "bridge/engine.hpp"

#include "bridge/push_event.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "mappings/soql.hpp"
#include "mappings/types.hpp"
#include "pg/error.hpp"
#include "salesforce/bulk_query.hpp"
#include "salesforce/push_topics.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using mappings::quote_identifier;

struct engine::mapping_rt {
    mappings::resolved_mapping m;
    std::string channel; // "/topic/hc_X" when streamed
    bool fetch_on_notify = false;
    bool loaded = false;
    bool reloading = false; // a live reload is running
    // A COPY into the empty table met a record twice (a query should not return one twice):
    // the next attempt merges, even if the table is still empty.
    bool load_by_merge = false;
    std::chrono::steady_clock::time_point last_prune{};
    std::optional<std::int64_t> replay_id;      // committed
    std::optional<std::int64_t> pending_replay; // of the events in `batch`
    std::int64_t poll_high_water_ms = 0;
    std::int64_t deleted_high_water_ms = 0;
    std::unique_ptr<change_batch> batch;
    std::vector<std::string> notify_ids;
    std::unique_ptr<asio::steady_timer> poll_timer;
    bool poll_now = false;
    mapping_stats stats;
};

namespace {
// A delete event's time (its createdDate or commitTimestamp) as the SystemModstamp column and
// the tombstone take it.
bool delete_time(const mappings::resolved_mapping& m, const push_event& ev,
                 std::optional<std::string>& when, std::string& error) {
    return mappings::to_postgres(m.field("SystemModstamp")->sf.info,
                                 mappings::sf_value_kind::json_string, ev.created_date, when,
                                 error) &&
           when.has_value();
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
std::string pg_time(std::int64_t ms) {
    return calendar::format_utc(ms, ' ', false);
}
} // namespace

engine::engine(asio::any_io_executor ex, engine_config cfg)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), stop_timer_(ex_) {
    stop_timer_.expires_at(asio::steady_timer::time_point::max());
}

engine::~engine() = default;

const std::vector<mappings::resolved_mapping>& engine::resolved() const noexcept {
    return resolved_;
}

std::vector<mapping_stats> engine::stats() const {
    std::vector<mapping_stats> out;
    for (const auto& m : maps_)
        out.push_back(m->stats);
    return out;
}

engine::mapping_rt* engine::by_channel(const std::string& channel) {
    for (auto& m : maps_)
        if (m->channel == channel)
            return m.get();
    return nullptr;
}

asio::awaitable<void> engine::sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(ex_, d);
    error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<bool> engine::start(std::string& error) {
    if (!mappings::ddl::is_valid_schema_name(cfg_.schema)) {
        error = "the schema name \"" + cfg_.schema +
                "\" is not a plain identifier (letters, digits, underscores)";
        co_return false;
    }
    try {
        rest_ = std::make_unique<salesforce::rest_client>(ex_, cfg_.salesforce);
    } catch (const std::exception& e) {
        error = e.what();
        co_return false;
    }
    salesforce::diagnostics sd;
    auto ec = co_await rest_->async_login(sd);
    if (ec) {
        error = "Salesforce login at " + cfg_.salesforce.auth.login_url +
                " failed: " + (sd.summary().empty() ? ec.message() : sd.summary());
        co_return false;
    }
    log::info("salesforce", "logged in", {{"instance", rest_->instance_url()}});

    // Describe and validate every mapping; report every problem at once.
    std::vector<std::string> errors;
    for (const auto& m : cfg_.mappings.mappings) {
        std::string json;
        ec = co_await rest_->describe(m.object_name, json, sd);
        std::optional<mappings::object_describe> d;
        if (!ec) {
            std::string perr;
            d = mappings::parse_describe(json, perr);
            if (!d)
                errors.push_back("mapping " + m.object_name + ": describe unreadable: " + perr);
        } else if (sd.http_status != 404) {
            error = "describe of " + m.object_name + " failed: " + sd.summary();
            co_return false;
        }
        std::vector<std::string> warnings;
        auto r = mappings::resolve_mapping(m, d ? &*d : nullptr, errors, warnings);
        for (const auto& w : warnings)
            log::warn("mappings", w);
        if (r) {
            rest_->usage().set_budget(r->object_name, m.sf_max_daily_api_calls);
            auto rt = std::make_unique<mapping_rt>();
            rt->m = std::move(*r);
            rt->stats.object = rt->m.object_name;
            rt->poll_timer = std::make_unique<asio::steady_timer>(ex_);
            maps_.push_back(std::move(rt));
        }
    }
    if (!errors.empty()) {
        error = "the mapping file does not fit the org:";
        for (const auto& e : errors)
            error += "\n  " + e;
        co_return false;
    }
    for (auto& m : maps_) {
        resolved_.push_back(m->m);
        m->batch = std::make_unique<change_batch>(m->m); // points at the runtime's own copy
    }

    // The database: schema, tables, state.
    stream_writer_ = std::make_unique<table_writer>(ex_, cfg_.schema);
    pg::diagnostics pd;
    ec = co_await stream_writer_->open(cfg_.database_url, pd);
    if (ec) {
        error = "the database is unreachable: " + pd.summary();
        co_return false;
    }
    ec = co_await stream_writer_->exec(mappings::ddl::setup_schema(cfg_.schema), pd);
    if (ec) {
        error = "creating the schema " + cfg_.schema + " failed: " + pd.summary();
        co_return false;
    }
    const std::string state = quote_identifier(cfg_.schema) + "._sfbridge_state";
    for (auto& m : maps_) {
        pg::result cols;
        ec = co_await stream_writer_->query(mappings::ddl::existing_columns_query(),
                                            pg::params(cfg_.schema, m->m.table), cols, pd);
        std::vector<std::string> existing;
        for (int i = 0; !ec && i < cols.rows(); ++i)
            existing.emplace_back(cols.value(i, 0));
        if (!ec)
            ec = co_await stream_writer_->exec(
                mappings::ddl::ensure_table(cfg_.schema, m->m, existing), pd);
        if (ec) {
            error = "creating the table for " + m->m.object_name + " failed: " + pd.summary();
            co_return false;
        }
        std::string columns;
        for (const auto& f : m->m.fields)
            columns += (columns.empty() ? "" : ",") + f.column;
        bool reload = std::find(cfg_.reload.begin(), cfg_.reload.end(), m->m.object_name) !=
                      cfg_.reload.end();
        // A changed column set loads the table again (new columns are filled), as Heroku
        // Connect's RESYNC does; a reload asked for clears it first.
        pg::result r;
        ec = co_await stream_writer_->query(
            "INSERT INTO " + state +
                " AS s (object_name, table_name, schema_version, columns) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (object_name) DO UPDATE SET table_name = EXCLUDED.table_name, "
                "schema_version = EXCLUDED.schema_version, columns = EXCLUDED.columns, "
                "load_state = CASE WHEN $5::boolean THEN 'reload' WHEN s.columns <> "
                "EXCLUDED.columns THEN 'new' ELSE s.load_state END "
                "RETURNING load_state, replay_id, "
                "(extract(epoch from poll_high_water) * 1000)::bigint, "
                "(extract(epoch from deleted_high_water) * 1000)::bigint",
            pg::params(m->m.object_name, m->m.table, mappings::ddl::schema_version, columns,
                       reload),
            r, pd);
        if (ec || r.rows() != 1) {
            error = "reading sfbridge's state for " + m->m.object_name + " failed: " + pd.summary();
            co_return false;
        }
        reload = reload || r.value(0, 0) == "reload"; // asked for by `sfbridge reload`
        m->loaded = !reload && r.value(0, 0) == "loaded";
        if (!r.is_null(0, 1))
            m->replay_id = std::stoll(std::string(r.value(0, 1)));
        if (!r.is_null(0, 2))
            m->poll_high_water_ms = std::stoll(std::string(r.value(0, 2)));
        if (!r.is_null(0, 3))
            m->deleted_high_water_ms = std::stoll(std::string(r.value(0, 3)));
        if (reload) {
            // Not cleared: the app keeps reading the table, and rows of a read-write mapping
            // not yet sent to Salesforce (no sfid) must survive. The load merges, then removes
            // the rows whose records it did not see.
            ec = co_await stream_writer_->exec("UPDATE " + state +
                                                   " SET replay_id = NULL WHERE object_name = " +
                                                   mappings::ddl::quote_literal(m->m.object_name),
                                               pd);
            if (ec) {
                error = "preparing the reload of " + m->m.table + " failed: " + pd.summary();
                co_return false;
            }
            m->replay_id.reset();
            log::info("sync", "loading again (reload)", {{"mapping", m->m.object_name}});
        }
    }

    // PushTopics for the streamed mappings.
    std::vector<salesforce::topic_spec> specs;
    for (auto& m : maps_)
        if (m->m.config.sf_notify_enabled && !m->m.change_data_capture)
            specs.push_back(salesforce::topic_spec{m->m.object_name, m->m.field_names()});
    std::vector<salesforce::provisioned_topic> topics;
    ec = co_await salesforce::ensure_push_topics(*rest_, specs, topics, sd);
    if (ec) {
        error = "provisioning PushTopics failed: " + sd.summary();
        co_return false;
    }
    for (const auto& t : topics)
        for (auto& m : maps_)
            if (m->m.object_name == t.object) {
                m->channel = "/topic/" + t.name;
                m->fetch_on_notify = t.fetch_on_notify;
                log::info("sync", "mapping ready",
                          {{"mapping", m->m.object_name},
                           {"table", cfg_.schema + "." + m->m.table},
                           {"channel", m->channel},
                           {"fetch_on_notify", m->fetch_on_notify ? "true" : "false"}});
            }
    for (auto& m : maps_)
        if (m->m.config.sf_notify_enabled && m->m.change_data_capture) {
            // Change Data Capture: nothing to provision (the object must be selected for CDC
            // in Setup; subscribing fails otherwise, and polling still keeps the table right).
            m->channel = mappings::change_event_channel(m->m.object_name);
            log::info("sync", "mapping ready",
                      {{"mapping", m->m.object_name},
                       {"table", cfg_.schema + "." + m->m.table},
                       {"channel", m->channel}});
        }
    co_return true;
}

asio::awaitable<error_code> engine::apply_with_retry(table_writer& w, const change_batch& b,
                                                     const position_update& p) {
    for (int attempt = 1;; ++attempt) {
        pg::diagnostics pd;
        error_code ec;
        if (!w.is_open())
            ec = co_await w.open(cfg_.database_url, pd);
        if (!ec)
            ec = co_await w.apply(b, p, pd);
        if (!ec)
            co_return ec;
        const bool transient =
            ec == pg::condition::connection_lost || ec == pg::condition::retryable || !w.is_open();
        if (!transient)
            co_return ec; // the caller decides what to do with data Postgres refuses
        log::warn(
            "postgres", "write failed, retrying",
            {{"error", pd.summary().empty() ? ec.message() : pd.summary()}, {"attempt", attempt}});
        if (!w.is_open() || w.connection().is_broken())
            w.connection().close();
        if (stopping_ && attempt > 3)
            co_return ec;
        co_await sleep(
            std::chrono::milliseconds(std::min(5000, 100 * (1 << std::min(attempt, 6)))));
    }
}

asio::awaitable<void> engine::record_error(mapping_rt& m, const std::string& channel,
                                           std::int64_t replay_id, const std::string& message,
                                           const std::string& payload, table_writer* w) {
    ++m.stats.errors;
    log::error("sync", "change not applied",
               {{"mapping", m.m.object_name},
                {"channel", channel},
                {"replay_id", static_cast<long long>(replay_id)},
                {"error", message}});
    pg::diagnostics pd;
    pg::result r;
    table_writer& writer = w ? *w : *stream_writer_;
    (void)co_await writer.query(
        "INSERT INTO " + quote_identifier(cfg_.schema) +
            "._sfbridge_errors (object_name, channel, replay_id, message, payload) VALUES ($1, "
            "$2, $3, $4, $5)",
        pg::params(m.m.object_name, channel, static_cast<long long>(replay_id), message,
                   payload.substr(0, 100000)),
        r, pd);
}

asio::awaitable<error_code> engine::load(mapping_rt& m, table_writer& w) {
    const std::int64_t started = now_ms() - cfg_.poll_overlap.count();
    // For the log: how long Salesforce took to answer with the first rows, and the whole load.
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> first_rows;
    const std::string state = quote_identifier(cfg_.schema) + "._sfbridge_state";
    pg::diagnostics pd;
    pg::result r;
    auto ec = co_await w.query(
        "UPDATE " + state +
            " SET load_state = 'loading', load_started_at = $2::timestamp WHERE object_name = $1",
        pg::params(m.m.object_name, pg_time(started)), r, pd);
    if (ec)
        co_return ec;
    salesforce::call_options opts;
    opts.tag = m.m.object_name;
    salesforce::diagnostics sd;

    std::string soql_error;
    auto soql = mappings::soql::select_all(m.m.object_name, m.m.field_names(), soql_error);
    if (!soql)
        co_return salesforce::errc::api_error;
    std::int64_t total = 0;
    ec = co_await rest_->query(
        "SELECT COUNT() FROM " + m.m.object_name, false, 0,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            total = p.total_size;
            co_return error_code{};
        },
        sd, opts);
    if (ec) {
        log::warn("sync", "counting records failed",
                  {{"mapping", m.m.object_name}, {"error", sd.summary()}});
        co_return ec;
    }
    const bool bulk = static_cast<std::size_t>(total) >= cfg_.bulk_threshold;
    log::info("sync", "initial load",
              {{"mapping", m.m.object_name},
               {"records", static_cast<long long>(total)},
               {"api", bulk ? "bulk" : "rest"}});
    std::size_t loaded = 0;
    // An empty table is loaded by COPY straight into it (every row is new); otherwise (a
    // reload after a failed attempt, new columns) rows are merged by the SystemModstamp rule.
    pg::result empty;
    ec = co_await w.query("SELECT NOT EXISTS (SELECT 1 FROM " + quote_identifier(cfg_.schema) +
                              "." + quote_identifier(m.m.table) + ")",
                          pg::params(), empty, pd);
    if (ec)
        co_return ec;
    const bool fresh = empty.value(0, 0) == "t" && !m.load_by_merge;
    // Loading into a table that has rows (a reload): the sfids seen are kept in
    // _sfbridge_seen, so that rows whose record Salesforce no longer has can be removed after.
    const std::string seen = quote_identifier(cfg_.schema) + "._sfbridge_seen";
    if (!fresh) {
        ec = co_await w.query("DELETE FROM " + seen + " WHERE object_name = $1",
                              pg::params(m.m.object_name), r, pd);
        if (ec)
            co_return ec;
    }
    // One batch fills from the next page while the others are written, so fetching and
    // parsing overlap with Postgres. An empty table takes COPY text built straight from the
    // records (load_batch) on two connections side by side when the triggers can be switched
    // off per session (see table_writer::load); a table with rows takes merges (change_batch)
    // on the writer's own connection.
    struct buffers {
        explicit buffers(const mappings::resolved_mapping& mm) : copy(mm), merge(mm) {}
        load_batch copy;
        change_batch merge;
    };
    struct slot {
        table_writer* writer;
        std::unique_ptr<buffers> batch;
        bool busy = false;
    };
    std::unique_ptr<table_writer> second; // the load's second connection
    if (fresh) {
        pg::result others;
        const std::string table = quote_identifier(cfg_.schema) + "." + quote_identifier(m.m.table);
        ec = co_await w.query("SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND "
                              "NOT tgisinternal AND tgname NOT IN ($2, $3)",
                              pg::params(table, "hc_" + m.m.table + "_status_trigger",
                                         "hc_" + m.m.table + "_logtrigger"),
                              others, pd);
        if (ec)
            co_return ec;
        // Replica mode (triggers off per session, see table_writer::load) only when the table
        // has no trigger but Heroku Connect's two and this role may set the parameter, which
        // is tried once here; the writers then do not try what was refused.
        bool replica = false;
        if (others.value(0, 0) == "0") {
            pg::diagnostics probe;
            const auto refused = co_await w.exec(
                "BEGIN; SET LOCAL session_replication_role = replica; ROLLBACK", probe);
            replica = !refused;
            if (!replica) {
                log::info("sync",
                          "loading without session_replication_role (not allowed to this role)",
                          {{"table", m.m.table}, {"detail", probe.summary()}});
                pg::diagnostics ignore;
                (void)co_await w.exec("ROLLBACK", ignore);
            }
        }
        w.allow_replica_load(replica);
        // A second connection only helps in replica mode: ALTER TABLE would make the two take
        // turns.
        if (replica && cfg_.load_connections > 1) {
            second = std::make_unique<table_writer>(ex_, cfg_.schema);
            pg::diagnostics od;
            if (co_await second->open(cfg_.database_url, od)) {
                log::warn("sync", "the load's second connection failed; loading on one",
                          {{"error", od.summary()}});
                second.reset();
            } else {
                second->allow_replica_load(true);
            }
        }
    }
    std::vector<slot> slots;
    slots.push_back({&w, std::make_unique<buffers>(m.m)});
    if (second)
        slots.push_back({second.get(), std::make_unique<buffers>(m.m)});
    auto filling = std::make_unique<buffers>(m.m);
    auto size = [fresh](const buffers& b) { return fresh ? b.copy.size() : b.merge.size(); };
    error_code write_ec;
    asio::steady_timer write_done(ex_);
    write_done.expires_at(asio::steady_timer::time_point::max());
    auto do_write = [&](slot& sl) -> asio::awaitable<void> {
        position_update none;
        error_code e;
        table_writer& ww = *sl.writer;
        buffers& flushing = *sl.batch;
        if (fresh) {
            pg::diagnostics ld;
            e = co_await ww.load(flushing.copy, ld);
            if (e)
                log::warn("sync", "initial load write failed", {{"error", ld.summary()}});
            if (e && ld.sqlstate == "23505")
                m.load_by_merge = true;
        } else {
            e = co_await apply_with_retry(ww, flushing.merge, none);
            if (!e) {
                std::vector<std::optional<std::string>> sfids;
                sfids.reserve(flushing.merge.size());
                flushing.merge.visit([&](char, const std::vector<std::optional<std::string>>& v) {
                    sfids.push_back(v[0]); // Id is the first column
                });
                pg::diagnostics sd2;
                pg::result sr;
                e = co_await ww.query("INSERT INTO " + seen +
                                          " (object_name, sfid) SELECT $1, unnest($2::text[])",
                                      pg::params(m.m.object_name, pg::text_array(sfids)), sr, sd2);
            }
        }
        if (!e) {
            loaded += size(flushing);
            m.stats.rows_loaded += size(flushing);
            flushing.copy.clear();
            flushing.merge.clear();
        } else if (!write_ec) {
            write_ec = e;
        }
        sl.busy = false;
        write_done.cancel();
    };
    auto busy_writers = [&] {
        return std::count_if(slots.begin(), slots.end(), [](const slot& x) { return x.busy; });
    };
    // Waits until at most `most_busy` writers are busy; the first write error, if any.
    auto wait_writers = [&](long most_busy) -> asio::awaitable<error_code> {
        while (busy_writers() > most_busy) {
            error_code ignore;
            write_done.expires_at(asio::steady_timer::time_point::max());
            co_await write_done.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
        }
        co_return write_ec;
    };
    auto finish = [&]() -> asio::awaitable<error_code> { co_return co_await wait_writers(0); };
    auto write = [&]() -> asio::awaitable<error_code> {
        auto e = co_await wait_writers(static_cast<long>(slots.size()) - 1);
        if (e)
            co_return e;
        for (auto& sl : slots)
            if (!sl.busy) {
                std::swap(filling, sl.batch);
                sl.busy = true;
                asio::co_spawn(ex_, do_write(sl), asio::detached);
                break;
            }
        co_return error_code{};
    };
    std::vector<std::string> row_errors; // recorded after the load: the writer is busy meanwhile
    std::string row_error;
    // After each row: keep its error for later, or hand a full batch to the writer.
    // Converting a page takes milliseconds of this thread, during which the write in flight
    // cannot send: every 1,000 rows the thread is let go, so the COPY keeps Postgres fed.
    std::size_t since_yield = 0;
    auto taken = [&](bool ok) -> asio::awaitable<error_code> {
        if (stopping_)
            co_return asio::error::operation_aborted; // shutting down: load again at start
        if (!ok)
            row_errors.push_back(row_error);
        else if (size(*filling) >= (fresh ? cfg_.load_batch : cfg_.max_batch))
            co_return co_await write();
        if (++since_yield >= 1000) {
            since_yield = 0;
            co_await asio::post(ex_, asio::use_awaitable);
        }
        co_return error_code{};
    };
    if (bulk) {
        salesforce::bulk_query_options bo;
        bo.call = opts;
        salesforce::bulk_query_stats bs;
        ec = co_await salesforce::bulk_query(
            *rest_, *soql, bo,
            [&](const std::vector<std::string>& cols,
                const salesforce::csv_rows& rows) -> asio::awaitable<error_code> {
                if (!first_rows)
                    first_rows = std::chrono::steady_clock::now();
                for (std::size_t i = 0; i < rows.size(); ++i) {
                    const bool ok = fresh ? filling->copy.add_csv_row(cols, rows, i, row_error)
                                          : filling->merge.add_csv_row(cols, rows, i, row_error);
                    if (auto e = co_await taken(ok))
                        co_return e;
                }
                co_return error_code{};
            },
            bs, sd);
    } else {
        ec = co_await rest_->query(
            *soql, false, 2000,
            [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                if (!first_rows)
                    first_rows = std::chrono::steady_clock::now();
                for (const auto& rec : p.records) {
                    const bool ok = fresh ? filling->copy.add_record(rec, row_error)
                                          : filling->merge.add_record(rec, row_error);
                    if (auto e = co_await taken(ok))
                        co_return e;
                }
                co_return error_code{};
            },
            sd, opts);
    }
    if (!ec && size(*filling) > 0)
        ec = co_await write();
    // Always wait for the write in flight: it refers to this frame.
    const auto last = co_await finish();
    if (!ec)
        ec = last;
    const std::string source = bulk ? "bulk" : "query";
    const std::string no_payload;
    for (const auto& e : row_errors)
        co_await record_error(m, source, 0, e, no_payload, &w);
    if (ec) {
        log::warn("sync", "initial load failed, will retry",
                  {{"mapping", m.m.object_name},
                   {"error", sd.summary().empty() ? ec.message() : sd.summary()}});
        co_return ec;
    }
    if (!fresh) {
        // Rows whose record was not in the load, and that no change since its start touched,
        // are gone from Salesforce (deleted and purged, or never seen by sfbridge's deletes).
        ec = co_await w.exec("BEGIN", pd);
        if (!ec)
            ec = co_await w.query("SELECT pg_advisory_xact_lock(hashtext($1))",
                                  pg::params("sfbridge:" + m.m.object_name), r, pd);
        pg::result removed;
        if (!ec)
            ec = co_await w.query(
                "DELETE FROM " + quote_identifier(cfg_.schema) + "." + quote_identifier(m.m.table) +
                    " t WHERE t.sfid IS NOT NULL AND t.systemmodstamp < $2::timestamp AND NOT "
                    "EXISTS (SELECT 1 FROM " +
                    seen + " s WHERE s.object_name = $1 AND s.sfid = t.sfid)",
                pg::params(m.m.object_name, pg_time(started)), removed, pd);
        if (!ec)
            ec = co_await w.query("DELETE FROM " + seen + " WHERE object_name = $1",
                                  pg::params(m.m.object_name), r, pd);
        if (!ec)
            ec = co_await w.exec("COMMIT", pd);
        if (ec) {
            pg::diagnostics ignore;
            (void)co_await w.exec("ROLLBACK", ignore);
            co_return ec;
        }
        if (removed.affected_rows() > 0)
            log::info("sync", "reload removed rows Salesforce no longer has",
                      {{"mapping", m.m.object_name},
                       {"rows", static_cast<unsigned long>(removed.affected_rows())}});
    }
    ec = co_await w.query(
        "UPDATE " + state +
            " SET load_state = 'loaded', load_finished_at = now() at time zone 'utc', "
            "poll_high_water = $2::timestamp, deleted_high_water = $2::timestamp WHERE "
            "object_name = $1",
        pg::params(m.m.object_name, pg_time(started)), r, pd);
    if (ec)
        co_return ec;
    if (loaded > 0 && !stopping_)
        asio::co_spawn(ex_, analyze(m), asio::detached);
    m.loaded = true;
    m.poll_high_water_ms = started;
    m.deleted_high_water_ms = started;
    auto ms_since = [t0](std::chrono::steady_clock::time_point t) {
        return static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count());
    };
    const auto now = std::chrono::steady_clock::now();
    log::info("sync", "initial load done",
              {{"mapping", m.m.object_name},
               {"rows", static_cast<unsigned long>(loaded)},
               {"ms", ms_since(now)},
               {"first_rows_after_ms", ms_since(first_rows.value_or(now))}});
    co_return error_code{};
}

asio::awaitable<error_code> engine::poll(mapping_rt& m, table_writer& w) {
    const std::int64_t to = now_ms();
    const std::int64_t from =
        std::max<std::int64_t>(0, m.poll_high_water_ms - cfg_.poll_overlap.count());
    std::string err;
    auto soql = mappings::soql::modstamp_window(m.m.object_name, m.m.field_names(), from, to, err);
    if (!soql)
        co_return salesforce::errc::api_error;
    salesforce::call_options opts;
    opts.tag = m.m.object_name;
    salesforce::diagnostics sd;
    change_batch batch(m.m);
    std::string row_error;
    std::size_t seen = 0;
    const std::string poll_source = "poll", no_payload;
    auto ec = co_await rest_->query(
        *soql, false, 2000,
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
            if (stopping_) // the high-water mark does not move: the next start polls again
                co_return asio::error::operation_aborted;
            for (const auto& rec : p.records) {
                if (!batch.add_record(rec, row_error))
                    co_await record_error(m, poll_source, 0, row_error, no_payload, &w);
            }
            seen += p.records.size();
            if (batch.size() >= cfg_.max_batch) {
                position_update none;
                auto e = co_await apply_with_retry(w, batch, none);
                batch.clear();
                co_return e;
            }
            co_return error_code{};
        },
        sd, opts);
    if (ec)
        co_return ec;
    position_update pos;
    pos.poll_high_water = pg_time(to);
    ec = co_await apply_with_retry(w, batch, pos);
    if (ec)
        co_return ec;
    m.poll_high_water_ms = to;
    m.stats.polled += seen;

    // Deletes: queryAll sees records in the recycle bin.
    if (m.m.has_isdeleted) {
        const std::int64_t dfrom =
            std::max<std::int64_t>(0, m.deleted_high_water_ms - cfg_.poll_overlap.count());
        const std::string q =
            "SELECT Id, SystemModstamp FROM " + m.m.object_name +
            " WHERE IsDeleted = true AND SystemModstamp >= " + mappings::soql::datetime(dfrom) +
            " AND SystemModstamp <= " + mappings::soql::datetime(to);
        change_batch dels(m.m);
        std::size_t deleted = 0;
        ec = co_await rest_->query(
            q, true, 2000,
            [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                for (const auto& rec : p.records) {
                    const auto* id = rec.get("Id");
                    const auto* stamp = rec.get("SystemModstamp");
                    std::optional<std::string> when;
                    std::string e;
                    if (id && stamp &&
                        mappings::to_postgres(m.m.field("SystemModstamp")->sf.info, stamp->kind,
                                              stamp->raw, when, e) &&
                        when) {
                        dels.add_delete(id->raw, *when);
                        ++deleted;
                    }
                }
                co_return error_code{};
            },
            sd, opts);
        if (ec)
            co_return ec;
        position_update dpos;
        dpos.deleted_high_water = pg_time(to);
        ec = co_await apply_with_retry(w, dels, dpos);
        if (ec)
            co_return ec;
        m.deleted_high_water_ms = to;
        m.stats.deletes += deleted;
    }
    if (seen)
        log::debug("sync", "poll",
                   {{"mapping", m.m.object_name}, {"records", static_cast<unsigned long>(seen)}});
    co_return error_code{};
}

asio::awaitable<void> engine::poll_loop(mapping_rt& m) {
    ++running_loops_;
    running_.insert("poll " + m.m.object_name);
    table_writer w(ex_, cfg_.schema);
    const auto interval = cfg_.poll_interval.value_or(
        std::chrono::seconds(std::max<std::int64_t>(1, m.m.config.sf_polling_seconds)));
    // The first poll runs at once: it covers the hand-over from the load (or the downtime).
    m.poll_now = true;
    int failures = 0;
    while (!stopping_) {
        if (!m.poll_now) {
            m.poll_timer->expires_after(
                failures ? std::chrono::milliseconds(std::min(60000, 500 << std::min(failures, 7)))
                         : interval);
            error_code ec;
            co_await m.poll_timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (stopping_)
                break;
        }
        m.poll_now = false;
        const bool first = m.stats.polls == 0;
        auto ec = co_await poll(m, w);
        if (!ec && first)
            log::info("sync", "caught up: first poll done",
                      {{"mapping", m.m.object_name},
                       {"records", static_cast<unsigned long>(m.stats.polled)}});
        if (!ec)
            ++m.stats.polls;
        if (ec) {
            ++failures;
            log::warn("sync", "poll failed, will retry",
                      {{"mapping", m.m.object_name}, {"error", ec.message()}});
        } else {
            failures = 0;
            co_await prune_tombstones(m, w);
        }
    }
    w.connection().close();
    log::debug("sync", "poll loop ended", {{"mapping", m.m.object_name}});
    --running_loops_;
    running_.erase(running_.find("poll " + m.m.object_name));
    stop_timer_.cancel();
}

asio::awaitable<void> engine::prune_tombstones(mapping_rt& m, table_writer& w) {
    // A tombstone only has to outlive every way an older version of the record can still
    // arrive: replayed events (Salesforce keeps them 24 h, 72 h for CDC) and overlapping polls.
    // Past that, a poll reads the record as it is (IsDeleted through queryAll), so the row
    // stays deleted without it. Checked once an hour per mapping, after a poll.
    const auto now = std::chrono::steady_clock::now();
    if (m.last_prune != std::chrono::steady_clock::time_point{} &&
        now - m.last_prune < std::chrono::hours(1))
        co_return;
    m.last_prune = now;
    if (!w.connection().is_open())
        co_return;
    pg::result r;
    pg::diagnostics d;
    auto ec = co_await w.connection().async_query(
        "DELETE FROM " + mappings::quote_identifier(cfg_.schema) +
            "._sfbridge_deleted WHERE object_name = $1 AND systemmodstamp < (now() AT TIME ZONE "
            "'utc') - make_interval(secs => $2::double precision)",
        pg::params(m.m.object_name, static_cast<long>(cfg_.tombstone_retention.count())), r, d);
    if (ec)
        log::warn("sync", "pruning tombstones failed",
                  {{"mapping", m.m.object_name}, {"error", d.summary()}});
    else if (r.affected_rows() > 0)
        log::info("sync", "pruned tombstones",
                  {{"mapping", m.m.object_name},
                   {"tombstones", static_cast<unsigned long>(r.affected_rows())}});
}

asio::awaitable<error_code> engine::flush(mapping_rt& m) {
    error_code ec;
    if (!m.notify_ids.empty()) {
        // Fetch on notify: the topic only says which records changed.
        std::string err;
        // Bound each query's length: the ids ride in the URL, and Salesforce refuses URIs over
        // 16,384 bytes (percent-encoding nearly doubles some characters).
        std::size_t select_len = 64 + m.m.object_name.size();
        for (const auto& f : m.m.field_names())
            select_len += f.size() + 2;
        const std::size_t per_query =
            select_len >= 5000 ? 10 : std::min<std::size_t>(200, (6000 - select_len) / 24);
        auto queries = mappings::soql::by_ids(m.m.object_name, m.m.field_names(), m.notify_ids,
                                              std::max<std::size_t>(per_query, 10), err);
        salesforce::call_options opts;
        opts.tag = m.m.object_name;
        std::string row_error;
        const std::string no_payload;
        for (const auto& q : queries.value_or(std::vector<std::string>{})) {
            for (int attempt = 1;; ++attempt) {
                salesforce::diagnostics sd;
                ec = co_await rest_->query(
                    q, false, 0,
                    [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
                        for (const auto& rec : p.records)
                            if (!m.batch->add_record(rec, row_error))
                                co_await record_error(m, m.channel, 0, row_error, no_payload);
                        co_return error_code{};
                    },
                    sd, opts);
                if (!ec || stopping_ || !(ec == salesforce::condition::retryable))
                    break;
                co_await sleep(
                    std::chrono::milliseconds(std::min(10000, 200 << std::min(attempt, 6))));
            }
            if (ec) {
                // The poll from the high-water mark covers these records: run it now.
                log::warn("sync", "fetching notified records failed; polling now to catch up",
                          {{"mapping", m.m.object_name}, {"error", ec.message()}});
                m.poll_now = true;
                m.poll_timer->cancel();
            }
        }
        m.notify_ids.clear();
    }
    position_update pos;
    pos.replay_id = m.pending_replay;
    pos.event = true;
    ec = co_await apply_with_retry(*stream_writer_, *m.batch, pos);
    if (ec) {
        // Postgres refused the data itself (e.g. a value longer than its column after a field
        // grew in Salesforce): keep the evidence, move on, and let polling repair later.
        const std::string refused = "Postgres refused the batch: " + ec.message();
        const std::string none;
        co_await record_error(m, m.channel, m.pending_replay.value_or(0), refused, none);
        position_update only_pos;
        only_pos.replay_id = m.pending_replay;
        change_batch empty(m.m);
        ec = co_await apply_with_retry(*stream_writer_, empty, only_pos);
    }
    if (!ec) {
        m.stats.events += m.batch->size();
        m.batch->clear();
        if (m.pending_replay) {
            m.replay_id = m.pending_replay;
            stream_->set_committed(m.channel, *m.pending_replay);
        }
        m.pending_replay.reset();
    }
    co_return ec;
}

asio::awaitable<void> engine::stream_loop() {
    ++running_loops_;
    running_.insert("stream");
    push_event_reader reader;
    push_event ev;
    cometd::client_config cc;
    cc.endpoint = rest_->instance_url() + "/cometd/" + rest_->api_version();
    for (auto& m : maps_)
        if (!m->channel.empty())
            cc.channels.push_back(m->channel);
    cc.http = cfg_.cometd_http;
    cc.queue_capacity = cfg_.stream_queue;

    while (!stopping_) {
        stream_ = std::make_unique<cometd::client>(
            ex_, cc, [this](bool refresh) { return rest_->streaming_token(refresh); });
        for (auto& m : maps_)
            if (!m->channel.empty())
                // With no position yet, replay everything retained (-2): the events from before
                // the subscription overlap the load and the first poll, so the hand-over has no
                // gap, and the SystemModstamp rule makes the old ones harmless.
                stream_->set_committed(m->channel, m->replay_id.value_or(-2));
        bool client_done = false;
        error_code client_ec;
        asio::co_spawn(ex_, stream_->run(), [&](std::exception_ptr, error_code e) {
            client_done = true;
            client_ec = e;
        });
        std::size_t in_batch = 0;
        auto handle = [&](cometd::stream_item& item) -> asio::awaitable<void> {
            mapping_rt* m = by_channel(item.channel);
            if (item.what == cometd::stream_item::kind::fatal) {
                log::error("streaming", "the stream stopped", {{"error", item.message}});
                co_return;
            }
            if (!m)
                co_return;
            if (item.what == cometd::stream_item::kind::events_lost) {
                // The replay id is past retention: subscribe from now on and poll from the
                // last high-water mark, which covers everything before the new subscription.
                log::warn("streaming", "events lost, resynchronising by polling",
                          {{"mapping", m->m.object_name}, {"detail", item.message}});
                stream_->resubscribe_from_tip(item.channel);
                m->replay_id.reset();
                m->poll_now = true;
                m->poll_timer->cancel();
                co_return;
            }
            std::string error;
            if (!reader.read(item.data, ev, error)) {
                co_await record_error(*m, item.channel, item.replay_id, error, item.data);
                m->pending_replay = item.replay_id;
                co_return;
            }
            if (ev.change_event) {
                co_await handle_change_event(*m, ev, item);
                ++in_batch;
                co_return;
            }
            const std::string id = ev.sobject.get("Id")->raw;
            log::debug("streaming", "event",
                       {{"mapping", m->m.object_name},
                        {"type", ev.type},
                        {"id", id},
                        {"replay_id", static_cast<long long>(item.replay_id)}});
            bool ok = true;
            if (ev.type == "deleted") {
                std::optional<std::string> when;
                ok = delete_time(m->m, ev, when, error);
                if (ok)
                    m->batch->add_delete(id, *when);
            } else if (m->fetch_on_notify) {
                m->notify_ids.push_back(id);
            } else {
                ok = m->batch->add_record(ev.sobject, error);
            }
            if (!ok)
                co_await record_error(*m, item.channel, item.replay_id, error, item.data);
            m->pending_replay = item.replay_id;
            ++in_batch;
        };
        while (true) {
            auto item = co_await stream_->next();
            if (!item)
                break;
            co_await handle(*item);
            // Drain what is already queued: the batch grows with the load.
            while (stream_->queued() > 0 && in_batch < cfg_.max_batch) {
                item = co_await stream_->next();
                if (!item)
                    break;
                co_await handle(*item);
            }
            for (auto& m : maps_)
                if (m->pending_replay || !m->notify_ids.empty() || !m->batch->empty())
                    (void)co_await flush(*m);
            in_batch = 0;
            // Stopping: what is committed is done; events still queued are fetched again at
            // the next start (from the committed replay id), so shutdown does not wait for them.
            if (stopping_)
                break;
        }
        // The client stopped: flush what is left, then start again unless we are stopping.
        for (auto& m : maps_)
            if (m->pending_replay || !m->batch->empty())
                (void)co_await flush(*m);
        log::debug("streaming", "waiting for the client to stop");
        while (!client_done)
            co_await sleep(std::chrono::milliseconds(10));
        log::debug("streaming", "client stopped");
        if (!stopping_) {
            log::warn("streaming", "reconnecting the stream",
                      {{"error", client_ec ? client_ec.message() : std::string("stopped")}});
            co_await sleep(std::chrono::seconds(2));
        }
    }
    --running_loops_;
    running_.erase(running_.find("stream"));
    stop_timer_.cancel();
}

asio::awaitable<void> engine::run() {
    ++running_loops_;
    running_.insert("loads"); // the loads count as a loop until they are done
    for (auto& m : maps_) {
        int attempt = 0;
        while (!m->loaded && !stopping_) {
            auto ec = co_await load(*m, *stream_writer_);
            if (ec)
                co_await sleep(
                    std::chrono::milliseconds(std::min(60000, 500 << std::min(++attempt, 7))));
        }
    }
    --running_loops_;
    running_.erase(running_.find("loads"));
    if (!stopping_) {
        bool any_stream = false;
        for (auto& m : maps_) {
            any_stream = any_stream || !m->channel.empty();
            asio::co_spawn(ex_, poll_loop(*m), asio::detached);
        }
        if (any_stream)
            asio::co_spawn(ex_, stream_loop(), asio::detached);
        bool any_read_write = false;
        for (auto& m : maps_)
            any_read_write = any_read_write || m->m.read_write();
        if (cfg_.writeback && any_read_write)
            asio::co_spawn(ex_, writeback_loop(), asio::detached);
        asio::co_spawn(ex_, control_loop(), asio::detached);
    }
    // Wait for stop() and for every loop to wind down.
    while (!stopping_ || running_loops_ > 0) {
        error_code ec;
        co_await stop_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (stream_writer_)
        stream_writer_->connection().close();
    log::info("sync", "stopped");
}

asio::awaitable<void> engine::writeback_loop() {
    ++running_loops_;
    running_.insert("writeback");
    writeback_config wc;
    wc.database_url = cfg_.database_url;
    wc.schema = cfg_.schema;
    wc.archive_after = cfg_.archive_after;
    wc.algorithm = cfg_.writes;
    wc.inbound_caught_up = [this] {
        return std::all_of(maps_.begin(), maps_.end(),
                           [](const auto& m) { return !m->m.read_write() || m->stats.polls > 0; });
    };
    writeback_ = std::make_unique<writeback>(ex_, wc, resolved_, *rest_);
    if (!stopping_)
        co_await writeback_->run();
    --running_loops_;
    running_.erase(running_.find("writeback"));
    stop_timer_.cancel();
}

asio::awaitable<void> engine::handle_change_event(mapping_rt& m, const push_event& ev,
                                                  const cometd::stream_item& item) {
    std::string error;
    bool ok = true;
    if (ev.overflow) {
        // GAP_OVERFLOW: too many changes to capture; a poll finds them.
        log::warn("streaming", "change events overflowed, polling", {{"mapping", m.m.object_name}});
        m.poll_now = true;
        m.poll_timer->cancel();
    } else if (ev.type == "deleted") {
        std::optional<std::string> when;
        ok = delete_time(m.m, ev, when, error);
        if (ok)
            for (const auto& id : ev.record_ids)
                m.batch->add_delete(id, *when);
    } else if ((ev.type == "created" || ev.type == "undeleted") && ev.record_ids.size() == 1 &&
               !m.fetch_on_notify) {
        ok = m.batch->add_record(ev.sobject, error);
    } else {
        // An update carries only the changed fields, and a gap event none: the records are
        // fetched whole (one query per batch of ids) rather than merged from partial rows.
        m.notify_ids.insert(m.notify_ids.end(), ev.record_ids.begin(), ev.record_ids.end());
    }
    if (!ok)
        co_await record_error(m, item.channel, item.replay_id, error, item.data);
    m.pending_replay = item.replay_id;
}

asio::awaitable<void> engine::pause(std::chrono::milliseconds d) {
    // Slices of 100 ms rather than one timer stop() cancels: several loops pause at once.
    const auto until = std::chrono::steady_clock::now() + d;
    while (!stopping_ && std::chrono::steady_clock::now() < until)
        co_await sleep(std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                until - std::chrono::steady_clock::now())));
}

asio::awaitable<void> engine::control_loop() {
    // A look at _sfbridge_state every 2 s rather than LISTEN: a listening session is woken
    // by every NOTIFY in the database (Postgres signals all listeners), which at a few hundred
    // notifications a second measurably lengthened the stream's tail latency.
    ++running_loops_;
    running_.insert("control");
    control_ = std::make_unique<pg::connection>(ex_);
    while (!stopping_) {
        pg::diagnostics d;
        error_code ec;
        if (!control_->is_open()) {
            ec = co_await control_->async_connect(cfg_.database_url, d);
            if (ec) {
                control_->close();
                co_await pause(std::chrono::seconds(5));
                continue;
            }
        }
        pg::result r;
        ec = co_await control_->async_query("SELECT object_name FROM " +
                                                quote_identifier(cfg_.schema) +
                                                "._sfbridge_state WHERE load_state = 'reload'",
                                            pg::params(), r, d);
        if (ec) {
            control_->close();
            continue;
        }
        for (int i = 0; i < r.rows(); ++i)
            for (auto& m : maps_)
                if (m->m.object_name == r.value(i, 0) && !m->reloading && !stopping_) {
                    m->reloading = true;
                    asio::co_spawn(ex_, reload(*m), asio::detached);
                }
        co_await pause(std::chrono::seconds(2));
    }
    control_->close();
    --running_loops_;
    running_.erase(running_.find("control"));
    stop_timer_.cancel();
}

// Fresh statistics for the app's queries (and the merges) at once, instead of whenever
// autovacuum gets to the new rows. On a connection of its own, so that streaming and polling
// start while it runs (a third of a second for a million rows here); it blocks no writes.
asio::awaitable<void> engine::analyze(mapping_rt& m) {
    ++running_loops_;
    const std::string name = "analyze " + m.m.object_name;
    running_.insert(name);
    table_writer w(ex_, cfg_.schema);
    pg::diagnostics d;
    auto ec = co_await w.open(cfg_.database_url, d);
    if (!ec)
        ec = co_await w.exec(
            "ANALYZE " + quote_identifier(cfg_.schema) + "." + quote_identifier(m.m.table), d);
    if (ec)
        log::warn("sync", "ANALYZE after the load failed",
                  {{"mapping", m.m.object_name}, {"error", d.summary()}});
    w.connection().close();
    --running_loops_;
    running_.erase(running_.find(name));
    stop_timer_.cancel();
}

asio::awaitable<void> engine::reload(mapping_rt& m) {
    ++running_loops_;
    running_.insert("reload " + m.m.object_name);
    log::info("sync", "reload requested: loading again while the rest runs on",
              {{"mapping", m.m.object_name}});
    table_writer w(ex_, cfg_.schema);
    for (int attempt = 0; !stopping_; ++attempt) {
        pg::diagnostics d;
        error_code ec;
        if (!w.is_open())
            ec = co_await w.open(cfg_.database_url, d);
        if (!ec)
            ec = co_await load(m, w);
        if (!ec)
            break;
        co_await pause(std::chrono::milliseconds(std::min(60000, 500 << std::min(attempt, 7))));
    }
    w.connection().close();
    m.reloading = false;
    --running_loops_;
    running_.erase(running_.find("reload " + m.m.object_name));
    stop_timer_.cancel();
}

std::string engine::running() const {
    std::string out;
    for (const auto& n : running_)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

void engine::stop() {
    if (stopping_)
        return;
    stopping_ = true;
    if (writeback_)
        writeback_->stop();
    if (stream_)
        stream_->stop();
    for (auto& m : maps_)
        if (m->poll_timer)
            m->poll_timer->cancel();
    stop_timer_.cancel();
}

} // namespace sfbridge::bridge
