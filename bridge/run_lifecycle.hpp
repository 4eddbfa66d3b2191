#pragma once

#include "bridge/engine.hpp"
#include "bridge/hc_service.hpp"
#include "bridge/http_endpoint.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

// How `sfbridge run` ends: a stop for SIGTERM or SIGINT, or a restart in place that applies an
// import (bridge/hc_service, bridge/restart). Either way the engine drains first, within the
// shutdown grace; past it the process exits (or restarts) at once. A signal during the drain
// makes a restart a stop; one after the engine has stopped stays pending across the exec
// (bridge/stop_signals), so the new image stops at once, before it starts anything.
namespace sfbridge::bridge {

class run_lifecycle {
public:
    run_lifecycle(boost::asio::io_context& io, engine& e, std::chrono::milliseconds grace);
    // Either may be null (no --http).
    void attach(http_endpoint* endpoint, hc_service* api);
    // The start is over and the engine runs: a stop drains it (before, it exits at once).
    void mark_started() { started_ = true; }
    // For a signal (restart false) or an applied import (true).
    void begin_stop(bool restart);
    // The engine's run() has ended normally: stop serving, or hand the listener over. An API
    // request still in flight (an import validating) gets the grace, then is abandoned.
    void run_finished();
    // After io_context::run() has returned: restarts in place when that is what was decided.
    void after_run();

private:
    void arm_deadline();
    void deadline_passed();
    int listener(); // released once; -1 when there is none

    engine& e_;
    std::chrono::milliseconds grace_;
    boost::asio::steady_timer hard_stop_;
    http_endpoint* endpoint_ = nullptr;
    hc_service* api_ = nullptr;
    bool started_ = false, stopping_ = false, restarting_ = false, finished_ = false;
    int released_ = -1;
    bool was_released_ = false;
};

} // namespace sfbridge::bridge
