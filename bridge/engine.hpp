#pragma once

#include "bridge/analyze_trigger.hpp"
#include "bridge/engine_config.hpp"
#include "bridge/leader_plan.hpp"
#include "bridge/mapping_runtime.hpp"
#include "bridge/status_snapshot.hpp"
#include "bridge/writeback.hpp"
#include "core/lifecycle.hpp"
#include "mappings/resolve.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

// The engine wires the parts together on one Asio thread: provisioning at start (provision),
// each mapping's initial load (initial_load), then one poll loop per mapping (poller), one
// stream for every streamed mapping (stream_ingest), the write-back of read-write mappings
// (writeback) and the control plane (control). docs/architecture.md draws how a change flows.
//
// Replicas (issue 19): several processes may run on one database. Each mapping's sync runs in
// the one replica that leads it (bridge/leadership: an advisory lock and an epoch). The engine
// runs the mappings it leads as one generation: when it takes a mapping or hands one over, the
// generation stops (everything in flight committed), and a new one starts with the new set,
// its positions read back from _sfbridge_state. A replica leading nothing idles as a standby.
namespace sfbridge::bridge {

struct sync_context;
class stream_ingest;
class poller;
class field_refresher;
class control;
class table_writer;
class leadership;
class writer_pool;

class engine {
public:
    engine(boost::asio::any_io_executor ex, engine_config cfg);
    ~engine();
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Everything a misconfiguration breaks: login, describes, mapping validation, the database,
    // DDL, PushTopics. False with one clear message in `error`.
    boost::asio::awaitable<bool> start(std::string& error);
    // Loads what needs loading, then streams and polls until stop(). Transient failures are
    // retried; the loop never ends on its own.
    boost::asio::awaitable<void> run();
    // Stops taking events, commits what is in flight, disconnects: every wait ends at once.
    void stop();
    // Called when a mapped field changed in Salesforce while running (sync_context::
    // schema_changed); `sfbridge run` starts again in place.
    void on_schema_change(std::function<void(const std::string&)> f) {
        schema_changed_ = std::move(f);
    }

    [[nodiscard]] std::vector<mapping_stats> stats() const;
    // What the HTTP endpoint shows (bridge/engine_snapshot.cpp), at any time, before the start
    // too. The process's own figures (memory, descriptors) are left to the caller.
    [[nodiscard]] status_snapshot snapshot() const;
    [[nodiscard]] const std::vector<mappings::resolved_mapping>& resolved() const noexcept {
        return resolved_;
    }
    [[nodiscard]] const writeback* writer() const noexcept { return writeback_.get(); }
    // The org's REST client: its API usage per mapping (for metrics and tests).
    [[nodiscard]] salesforce::api_usage& api_usage() noexcept { return rest_->usage(); }
    // The shared sessions (null before start()): how many are open, for tests and metrics.
    [[nodiscard]] const writer_pool* pool() const noexcept { return pool_.get(); }
    // The org's REST client once start() has made it (null before): for validating mappings
    // against the org's describes while running.
    [[nodiscard]] salesforce::rest_client* rest() noexcept { return rest_.get(); }
    // The loops still running (for the shutdown deadline's message).
    [[nodiscard]] std::string running() const;
    // This process's replica id, and the other live replicas as the last round saw them.
    [[nodiscard]] const std::string& replica() const noexcept { return cfg_.replica_id; }
    [[nodiscard]] const std::vector<replica_view>& other_replicas() const noexcept {
        return others_;
    }
    // Writes Postgres refused because another replica had taken a mapping over (the fence).
    [[nodiscard]] std::size_t fenced_refusals() const noexcept { return fenced_refusals_; }

private:
    // The mappings this replica leads, run as one generation (engine_leadership.cpp).
    struct generation {
        explicit generation(boost::asio::any_io_executor ex) : stop(std::move(ex)) {}
        stop_source stop;
        stop_source::registration with_process; // the process's stop stops it too
        bool failed = false;                    // its start failed: the next round retries
    };
    boost::asio::awaitable<void> lead_loop();
    // After a round: a new generation when the led set changed (false: the session is lost).
    boost::asio::awaitable<bool> follow_round(const std::vector<std::string>& taken,
                                              const std::vector<std::string>& surplus);
    boost::asio::awaitable<void> start_generation();
    boost::asio::awaitable<void> end_generation();
    boost::asio::awaitable<void> start_syncing(); // the generation's loads, then its loops
    boost::asio::awaitable<void> wait_round();
    void on_fenced();
    [[nodiscard]] bool gen_stopping() const noexcept { return !gen_ || gen_->stop.stopping(); }

    // Starts a loop the engine waits for at shutdown; an exception out of it is logged and
    // leaves io_context::run() as a loop_failed naming the loop (a programming error: the
    // process records it and exits non-zero; see loop_death.hpp).
    void spawn(std::string name, boost::asio::awaitable<void> loop);
    boost::asio::awaitable<void> load_all();
    boost::asio::awaitable<void> load_until_loaded(mapping_runtime& m);
    void start_poller(mapping_runtime& m);
    void start_loops();
    // Load attempts at start before a mapping goes on loading in the background.
    static constexpr int first_load_attempts = 3;
    boost::asio::awaitable<void> writeback_loop();
    // Every read-write mapping has polled once since start.
    [[nodiscard]] bool inbound_caught_up() const;
    [[nodiscard]] std::int64_t salesforce_clock_offset() const;

    boost::asio::any_io_executor ex_;
    engine_config cfg_;
    stop_source stop_;
    // An ANALYZE of _sfbridge_deleted after 200 tombstones, then after half again as many as
    // the last one saw (control runs it): the planner switches the tombstone lookup from a
    // scan to the primary key between 200 and 500 rows.
    analyze_trigger tombstones_{200, 0.5};
    std::unique_ptr<salesforce::rest_client> rest_;
    std::unique_ptr<sync_context> ctx_; // the generation's
    // The mappings led (in the running generation) and the others; snapshot() shows both.
    std::vector<std::unique_ptr<mapping_runtime>> maps_;
    std::vector<std::unique_ptr<mapping_runtime>> standby_;
    std::unique_ptr<leadership> lead_;
    std::shared_ptr<generation> gen_;
    std::map<std::string, std::int64_t> epochs_; // of the generation's mappings
    std::vector<replica_view> others_;
    std::vector<std::string> last_others_; // ids seen in the round before: no hand-over on a blip
    boost::asio::steady_timer wake_;       // the wait between rounds, ended by a fence
    bool fenced_ = false;
    std::size_t fenced_refusals_ = 0;
    std::vector<mappings::resolved_mapping> resolved_;
    std::unique_ptr<table_writer> stream_writer_;
    std::unique_ptr<writer_pool> pool_;
    std::unique_ptr<stream_ingest> stream_;
    std::vector<std::unique_ptr<poller>> pollers_;
    std::vector<std::unique_ptr<field_refresher>> refreshers_;
    std::unique_ptr<control> control_;
    std::unique_ptr<writeback> writeback_;
    stop_source::registration stop_writeback_;
    std::int64_t started_ms_ = 0;
    bool running_ = false; // run() has begun: the start is over
    // Loops that run until the stop and ended before it (/healthz answers 503).
    std::vector<std::string> ended_loops_;
    std::function<void(const std::string&)> schema_changed_;
};

} // namespace sfbridge::bridge
