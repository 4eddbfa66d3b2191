#include "bridge/run_lifecycle.hpp"

#include "bridge/restart.hpp"
#include "core/log.hpp"

#include <cstdlib>

namespace sfbridge::bridge {

run_lifecycle::run_lifecycle(boost::asio::io_context& io, engine& e,
                             std::chrono::milliseconds grace)
    : e_(e), grace_(grace), hard_stop_(io) {}

void run_lifecycle::attach(http_endpoint* endpoint, hc_service* api) {
    endpoint_ = endpoint;
    api_ = api;
    if (api_)
        api_->on_idle([this] {
            if (finished_)
                hard_stop_.cancel(); // the last API request is answered: nothing holds the exit
        });
}

int run_lifecycle::listener() {
    if (!was_released_ && endpoint_)
        released_ = endpoint_->release_listener();
    was_released_ = true;
    return released_;
}

void run_lifecycle::begin_stop(bool restart) {
    if (stopping_) {
        restarting_ = restarting_ && restart;
        return;
    }
    stopping_ = true;
    restarting_ = restart;
    if (api_)
        api_->stop();
    if (!started_) {
        // Login, describes, DDL, PushTopics: each safe to abandon and done again by the next
        // start. (An import is refused until the start is over; this is for safety.)
        log::info("sfbridge", "stopped before the start had finished");
        if (restart)
            restart_process(listener());
        std::_Exit(0);
    }
    e_.stop();
    // Calls in flight finish and record their outcomes within this; past it, give up on them
    // (the next start replays what is not committed, and looks for the records of creates
    // whose outcome it does not know).
    arm_deadline();
}

void run_lifecycle::arm_deadline() {
    hard_stop_.expires_after(grace_);
    hard_stop_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            deadline_passed();
    });
}

void run_lifecycle::deadline_passed() {
    // What is not committed is rolled back by Postgres when the connections drop, and its
    // stream position with it: the next start fetches those events again. Exit at once:
    // unwinding suspended operations is neither needed nor safe here.
    log::warn("sfbridge", "in-flight work did not finish in time; exiting",
              {{"still_running", finished_ ? std::string("an API request") : e_.running()}});
    if (restarting_)
        restart_process(listener());
    std::_Exit(0);
}

void run_lifecycle::run_finished() {
    finished_ = true;
    hard_stop_.cancel();
    if (restarting_)
        (void)listener();
    else if (endpoint_)
        endpoint_->stop();
    if (api_ && api_->busy())
        arm_deadline();
}

void run_lifecycle::after_run() {
    if (restarting_)
        restart_process(listener());
}

} // namespace sfbridge::bridge
