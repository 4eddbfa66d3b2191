// engine: leading mappings among replicas (bridge/leadership) and running the led ones as a
// generation. See engine.hpp.
#include "bridge/control.hpp"
#include "bridge/engine.hpp"
#include "bridge/field_refresh.hpp"
#include "bridge/leadership.hpp"
#include "bridge/poller.hpp"
#include "bridge/provision.hpp"
#include "bridge/stream_ingest.hpp"
#include "bridge/sync_context.hpp"
#include "bridge/table_writer.hpp"
#include "bridge/writer_pool.hpp"
#include "core/backoff.hpp"
#include "core/log.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
std::vector<std::string> ids_of(const std::vector<replica_view>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs)
        out.push_back(r.id);
    return out;
}
} // namespace

asio::awaitable<void> engine::lead_loop() {
    lead_ = std::make_unique<leadership>(ex_, cfg_.schema, cfg_.replica_id);
    auto wake = stop_.on_stop([this] { wake_.cancel(); });
    std::vector<std::string> names;
    for (const auto& m : standby_)
        names.push_back(m->m.object_name);
    log::info("leadership", "replica started", {{"replica", cfg_.replica_id}});
    backoff delays({std::chrono::seconds(1), std::chrono::seconds(10)});
    const std::string lock_url =
        cfg_.lock_database_url.empty() ? cfg_.database_url : cfg_.lock_database_url;
    while (!stop_.stopping()) {
        pg::diagnostics pd;
        error_code ec;
        if (!lead_->is_open())
            ec = co_await lead_->connect(lock_url, pd);
        leadership_round round;
        if (!ec && !fenced_)
            ec = co_await lead_->round(names, round, pd);
        if (!ec)
            others_ = round.others;
        bool kept = !ec && !fenced_;
        if (kept)
            kept = co_await follow_round(round.taken, round.surplus);
        if (!kept) {
            // Every lead goes with the lock session: stop writing at once (what is in flight
            // fails the fence once another replica has taken over), then start over.
            log::warn("leadership",
                      fenced_ ? "another replica took this one's mappings over: stopping them"
                              : "the lock session failed: this replica stops its mappings",
                      {{"error", pd.summary().empty() ? ec.message() : pd.summary()}});
            lead_->close();
            co_await end_generation();
            fenced_ = false;
            co_await stop_.sleep(delays.next());
            continue;
        }
        delays.reset();
        co_await wait_round();
    }
    co_await end_generation();
    lead_->close();
}

asio::awaitable<bool> engine::follow_round(const std::vector<std::string>& taken,
                                           const std::vector<std::string>& surplus) {
    // A hand-over waits until the same replicas were seen twice: one that flaps does not move
    // mappings back and forth.
    const auto ids = ids_of(others_);
    std::vector<std::string> give;
    if (ids == last_others_ || surplus.empty())
        give = surplus;
    last_others_ = ids;
    // Leads without a running generation: none started yet, or the last one failed to start
    // (tried again each round, the leads kept).
    const bool idle_leads = (!gen_ || gen_->failed) && !lead_->leads().empty();
    if (taken.empty() && give.empty() && !idle_leads)
        co_return true;
    co_await end_generation(); // stopped and committed before any lock goes
    if (!give.empty()) {
        pg::diagnostics pd;
        if (co_await lead_->release(give, pd)) {
            log::warn("leadership", "handing mappings over failed", {{"error", pd.summary()}});
            co_return false;
        }
    }
    if (!stop_.stopping() && !fenced_ && !lead_->leads().empty())
        co_await start_generation();
    co_return true;
}

asio::awaitable<void> engine::wait_round() {
    if (stop_.stopping() || fenced_)
        co_return;
    wake_.expires_after(leadership::round_interval);
    error_code ignore;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignore));
}

void engine::on_fenced() {
    ++fenced_refusals_;
    fenced_ = true;
    if (gen_)
        gen_->stop.stop(); // no more writes from this replica for any mapping
    wake_.cancel();
}

asio::awaitable<void> engine::start_generation() {
    gen_ = std::make_shared<generation>(ex_);
    gen_->with_process = stop_.on_stop([g = gen_.get()] { g->stop.stop(); });
    epochs_ = lead_->leads();
    // The led mappings move over, their positions read again: another replica may have moved
    // them since this one last led them.
    for (auto it = standby_.begin(); it != standby_.end();) {
        if (epochs_.count((*it)->m.object_name)) {
            (*it)->reset_for_lead();
            maps_.push_back(std::move(*it));
            it = standby_.erase(it);
        } else {
            ++it;
        }
    }
    ctx_ = std::make_unique<sync_context>(sync_context{ex_, cfg_, *rest_, gen_->stop, tombstones_,
                                                       &epochs_, [this] { on_fenced(); },
                                                       pool_.get(), schema_changed_});
    stop_writeback_ = gen_->stop.on_stop([this] {
        if (writeback_)
            writeback_->stop();
    });
    control_ = std::make_unique<control>(*ctx_, maps_,
                                         [this](std::string name, asio::awaitable<void> loop) {
                                             spawn(std::move(name), std::move(loop));
                                         });
    std::string names;
    for (const auto& m : maps_)
        names += (names.empty() ? "" : ",") + m->m.object_name;
    log::info("leadership", "syncing the mappings this replica leads", {{"mappings", names}});
    spawn("loads", start_syncing());
    co_return;
}

asio::awaitable<void> engine::start_syncing() {
    std::string error;
    pg::diagnostics pd;
    // (Two ifs: no co_await after && with GCC 12.)
    error_code ec;
    if (!stream_writer_->is_open())
        ec = co_await stream_writer_->open(cfg_.database_url, pd);
    if (!ec) {
        const bool read = co_await read_lead_state(*stream_writer_, cfg_, maps_, error);
        if (!read)
            ec = make_error_code(boost::system::errc::io_error);
    }
    if (ec) {
        // The leads are kept; the next round starts the generation again.
        log::warn("leadership", "reading the led mappings' state failed; trying again",
                  {{"error", error.empty() ? pd.summary() : error}});
        gen_->failed = true;
        gen_->stop.stop();
        co_return;
    }
    co_await load_all();
    if (!gen_stopping())
        start_loops();
}

asio::awaitable<void> engine::end_generation() {
    if (!gen_)
        co_return;
    gen_->stop.stop();
    // A drain that hangs (a session cut off mid-call) must not hold the leads: past the grace,
    // the lock session goes, the mappings go to other replicas, and whatever this one still
    // writes fails the fence.
    asio::steady_timer grace(ex_);
    grace.expires_after(cfg_.shutdown_grace);
    grace.async_wait([this](const error_code& ec) {
        if (ec || !lead_ || !lead_->is_open())
            return;
        log::warn("leadership", "the mappings' loops did not stop in time: letting them go");
        lead_->close();
    });
    co_await gen_->stop.wait_stopped();
    grace.cancel();
    stream_.reset();
    pollers_.clear();
    refreshers_.clear();
    control_.reset();
    writeback_.reset();
    stop_writeback_.reset();
    ctx_.reset();
    for (auto& m : maps_)
        standby_.push_back(std::move(m));
    maps_.clear();
    gen_.reset();
}

} // namespace sfbridge::bridge
