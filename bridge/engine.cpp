#include "bridge/engine.hpp"

#include "bridge/control.hpp"
#include "bridge/field_refresh.hpp"
#include "bridge/initial_load.hpp"
#include "bridge/leadership.hpp"
#include "bridge/loop_death.hpp"
#include "bridge/poller.hpp"
#include "bridge/provision.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/stream_ingest.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/writer_pool.hpp"
#include "core/backoff.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "net/url.hpp"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

engine::engine(asio::any_io_executor ex, engine_config cfg)
    : ex_(std::move(ex)), cfg_(std::move(cfg)), stop_(ex_), wake_(ex_),
      started_ms_(calendar::now_ms()) {
    cfg_.replica_id = make_replica_id(cfg_.replica_id);
}

engine::~engine() = default;

std::vector<mapping_stats> engine::stats() const {
    std::vector<mapping_stats> out;
    for (const auto* set : {&maps_, &standby_})
        for (const auto& m : *set)
            out.push_back(m->stats);
    return out;
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
    if (auto ec = co_await rest_->async_login(sd)) {
        error = "Salesforce login at " + net::redact_url(cfg_.salesforce.auth.login_url) +
                " failed: " + (sd.summary().empty() ? ec.message() : sd.summary());
        co_return false;
    }
    log::info("salesforce", "logged in", {{"instance", rest_->instance_url()}});

    // Describe and validate every mapping; report every problem at once.
    resolution res;
    if (co_await describe_and_resolve(*rest_, cfg_.mappings, res, sd)) {
        error = "describe of " + res.failed_object + " failed: " + sd.summary();
        co_return false;
    }
    for (const auto& w : res.warnings)
        log::warn("mappings", w);
    if (!res.errors.empty()) {
        error = "the mapping file does not fit the org:";
        for (const auto& e : res.errors)
            error += "\n  " + e;
        co_return false;
    }
    resolved_ = res.mappings;
    for (auto& r : res.mappings)
        maps_.push_back(std::make_unique<mapping_runtime>(ex_, std::move(r)));

    stream_writer_ = std::make_unique<table_writer>(ex_, cfg_.schema);
    // The stream's statements, prepared for every mapping: past the default 64 (some ten
    // mappings), each small batch of the others was parsed and planned again, and with two
    // hundred mappings streaming the writer fell behind (bench/scale).
    stream_writer_->connection().set_statement_capacity(64 + table_writer::statements_per_mapping *
                                                                 resolved_.size());
    // The stream's writer and control's session are two of the replica's connections.
    pool_ = std::make_unique<writer_pool>(ex_, cfg_.schema,
                                          std::max<std::size_t>(cfg_.pg_connections, 3) - 2);
    pg::diagnostics pd;
    if (co_await stream_writer_->open(cfg_.database_url, pd)) {
        error = "the database is unreachable: " + pd.summary();
        co_return false;
    }
    // Every replica prepares every mapping's table and state row (under the DDL lock): a
    // mapping it comes to lead later finds them ready. A reload asked for on the command line
    // is noted in the state row here, and done by whichever replica leads the mapping.
    if (!co_await prepare_tables(*stream_writer_, cfg_, maps_, error))
        co_return false;
    cfg_.reload.clear();
    if (!co_await provision_channels(*rest_, cfg_.schema, maps_, error))
        co_return false;
    standby_ = std::move(maps_); // until led
    maps_.clear();
    co_return true;
}

std::string engine::running() const {
    return gen_ ? gen_->stop.running() : std::string();
}

void engine::spawn(std::string name, asio::awaitable<void> loop) {
    auto guarded = [](stop_source::loop_guard, asio::awaitable<void> body,
                      bool fail) -> asio::awaitable<void> {
        if (fail)
            throw std::logic_error("failure injected by SFBRIDGE_TEST_FAIL_LOOP");
        co_await std::move(body);
    };
    const bool fail = !cfg_.fail_loop.empty() && cfg_.fail_loop == name;
    // The loop counts in its generation, which it keeps alive until it has ended.
    auto g = gen_;
    asio::co_spawn(
        ex_, guarded(g->stop.enter(name), std::move(loop), fail),
        [this, name, g](std::exception_ptr e) {
            if (!e) {
                if (!g->stop.stopping() && runs_until_stop(name)) {
                    log::error("sfbridge", "a loop ended before the stop", {{"loop", name}});
                    ended_loops_.push_back(name);
                }
                return;
            }
            auto death = describe_death(e);
            log::error("sfbridge", "a loop ended by an exception; exiting",
                       {{"loop", name}, {"error", death.error}});
            throw loop_failed(name, death.error);
        });
}

// Each mapping gets a few attempts here; one that still fails goes on loading in the background
// (load_until_loaded) while the others stream, poll and write back.
asio::awaitable<void> engine::load_all() {
    for (auto& m : maps_)
        if (!m->loaded)
            (void)co_await control_->load(*m, *stream_writer_, std::chrono::seconds(1),
                                          first_load_attempts);
}

void engine::start_poller(mapping_runtime& m) {
    pollers_.push_back(std::make_unique<poller>(*ctx_, m, [this] {
        if (writeback_ && inbound_caught_up())
            writeback_->inbound_caught_up();
    }));
    spawn("poll " + m.m.object_name, pollers_.back()->run());
    if (!m.backfill_columns.empty()) {
        refreshers_.push_back(std::make_unique<field_refresher>(*ctx_, m, m.backfill_columns));
        spawn("backfill " + m.m.object_name, refreshers_.back()->run());
    }
    if (m.m.refreshes()) {
        refreshers_.push_back(std::make_unique<field_refresher>(*ctx_, m));
        spawn("refresh " + m.m.object_name, refreshers_.back()->run());
    }
}

// A mapping whose load kept failing: loaded on a session of its own, retrying with backoff, and
// polled once loaded. Its stream runs meanwhile; its events merge into the table by the
// SystemModstamp rule, as during a reload.
asio::awaitable<void> engine::load_until_loaded(mapping_runtime& m) {
    log::warn("sync",
              "the mapping's load keeps failing; it goes on in the background while the "
              "other mappings sync",
              {{"mapping", m.m.object_name},
               {"attempts", static_cast<long long>(m.load_attempts)},
               {"error", m.load_error}});
    m.reloading = true; // `sfbridge reload` must not start a second load beside this one
    // An attempt at a time on a pooled session: a load failing for hours holds none between.
    backoff delays({std::chrono::seconds(5), std::chrono::seconds(60)});
    bool loaded = false;
    while (!loaded && !gen_stopping()) {
        auto w = co_await pool_->acquire(ctx_->stop);
        if (!w)
            break;
        loaded = co_await control_->load(m, *w, std::chrono::seconds(5), 1);
        w.reset();
        if (!loaded)
            co_await ctx_->stop.sleep(delays.next());
    }
    m.reloading = false;
    if (loaded && !gen_stopping()) {
        log::info("sync", "the mapping loaded after all", {{"mapping", m.m.object_name}});
        start_poller(m);
    }
}

void engine::start_loops() {
    bool any_stream = false, any_read_write = false;
    for (auto& m : maps_) {
        any_stream = any_stream || !m->channel.empty();
        any_read_write = any_read_write || m->m.read_write();
        if (m->loaded)
            start_poller(*m);
        else
            spawn("load " + m->m.object_name, load_until_loaded(*m));
    }
    if (any_stream) {
        stream_ = std::make_unique<stream_ingest>(*ctx_, maps_, *stream_writer_);
        spawn("stream", stream_->run());
    }
    if (cfg_.writeback && any_read_write)
        spawn("writeback", writeback_loop());
    spawn("control", control_->run());
}

asio::awaitable<void> engine::run() {
    running_ = true;
    {
        // `sfbridge status` tells that the process came back after a loop's death.
        pg::diagnostics pd;
        if (co_await stream_writer_->exec(state_sql::note_start(cfg_.schema), pd))
            log::warn("sfbridge", "could not note the start in _sfbridge_loops",
                      {{"error", pd.summary()}});
    }
    // Leads what it can, runs it, follows the other replicas, until stop().
    co_await lead_loop();
    if (stream_writer_)
        stream_writer_->connection().close();
    pool_->close();
    log::info("sync", "stopped");
}

asio::awaitable<void> engine::writeback_loop() {
    writeback_config wc;
    wc.database_url = cfg_.database_url;
    wc.schema = cfg_.schema;
    wc.archive_after = cfg_.archive_after;
    // A day, or less when the archive itself is kept less than two (archived before pruned).
    wc.failed_kept = std::min<std::chrono::seconds>(std::chrono::hours(24), cfg_.retention / 2);
    wc.sweep = cfg_.writeback_sweep;
    wc.shutdown_grace = cfg_.shutdown_grace;
    wc.algorithm = cfg_.writes;
    wc.inbound_caught_up = [this] { return inbound_caught_up(); };
    wc.salesforce_clock_offset = [this] { return salesforce_clock_offset(); };
    wc.reread_queued = [this](const std::string& table) {
        for (auto& m : maps_)
            if (m->m.table == table)
                m->request_poll();
    };
    wc.replica = cfg_.replica_id;
    wc.fenced = [this] { on_fenced(); };
    for (const auto& r : resolved_) // rows of read-only tables fail as not mapped, as before
        if (r.read_write())
            wc.mapped_tables.push_back(r.table);
    std::vector<mappings::resolved_mapping> led;
    for (const auto& m : maps_) {
        led.push_back(m->m);
        if (m->m.read_write())
            wc.leads[m->m.table] =
                trigger_log::lead{m->m.object_name, ctx_->epoch_of(m->m.object_name)};
    }
    writeback_ = std::make_unique<writeback>(ex_, wc, std::move(led), *rest_);
    if (!gen_stopping())
        co_await writeback_->run();
}

// A mapping whose load keeps failing does not hold the write-back of the others.
bool engine::inbound_caught_up() const {
    return std::all_of(maps_.begin(), maps_.end(), [](const auto& m) {
        return !m->m.read_write() || m->polled_since_lead || (!m->loaded && m->load_attempts > 0);
    });
}

// One org, one clock: the offset most recently measured by any mapping.
std::int64_t engine::salesforce_clock_offset() const {
    const mapping_runtime* latest = nullptr;
    for (const auto* set : {&maps_, &standby_})
        for (const auto& m : *set)
            if (!latest || m->sf_clock_measured > latest->sf_clock_measured)
                latest = m.get();
    return latest ? latest->sf_clock_offset_ms : 0;
}

void engine::stop() {
    stop_.stop();
}

} // namespace sfbridge::bridge
