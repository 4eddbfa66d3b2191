// pg::connection: LISTEN/NOTIFY: draining, waiting and cancelling.

#include "pg/connection_internal.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>

namespace sfbridge::pg {

using detail::field_of;
using detail::trimmed;
using detail::use_tuple;

void connection::drain_notifications() {
    if (!conn_)
        return;
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
        // One equal to a notification still queued adds nothing (Postgres itself folds equal
        // notifications of one transaction): the queue is bounded by the distinct ones, not by
        // how many writes the listener was too busy to hear of one by one.
        notification got{n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid};
        PQfreemem(n);
        if (std::none_of(notifications_.begin(), notifications_.end(), [&](const notification& q) {
                return q.channel == got.channel && q.payload == got.payload;
            }))
            notifications_.push_back(std::move(got));
        any = true;
    }
    if (any)
        wake_notification_waiter();
}

void connection::wake_notification_waiter() noexcept {
    notify_wakeup_.cancel();
    if (notif_idle_reading_)
        idle_read_cancel_.emit(asio::cancellation_type::total);
}

void connection::cancel_notification_wait() {
    if (!notif_waiting_)
        return;
    notif_cancelled_ = true;
    wake_notification_waiter();
}

asio::awaitable<error_code>
connection::async_receive_notification(notification& out, diagnostics& diag,
                                       std::optional<std::chrono::milliseconds> timeout) {
    diag.clear();
    diag.client_message = "wait for a notification";
    if (notif_waiting_)
        co_return errc::operation_in_progress;
    notif_waiting_ = true;
    notif_cancelled_ = false;
    notif_timed_out_ = false;
    struct reset {
        connection& c;
        ~reset() {
            c.notif_waiting_ = false;
            c.notif_idle_reading_ = false;
            c.notify_deadline_.cancel();
        }
    } reset_guard{*this};

    if (timeout) {
        notify_deadline_.expires_after(*timeout);
        notify_deadline_.async_wait([weak = std::weak_ptr<connection*>(self_)](error_code ec) {
            if (ec)
                return;
            if (auto self = weak.lock(); self && *self && (*self)->notif_waiting_) {
                (*self)->notif_timed_out_ = true;
                (*self)->wake_notification_waiter();
            }
        });
    }

    for (;;) {
        if (!notifications_.empty()) {
            out = std::move(notifications_.front());
            notifications_.pop_front();
            co_return error_code{};
        }
        if (notif_cancelled_)
            co_return errc::cancelled;
        if (notif_timed_out_)
            co_return make_error_code(boost::system::errc::timed_out);
        switch (state_) {
        case state::closed:
        case state::connecting:
            co_return errc::not_connected;
        case state::broken:
            diag.message = "the connection was lost";
            co_return errc::connection_lost;
        case state::idle: {
            // Nobody else reads the socket: read it here.
            notif_idle_reading_ = true;
            auto [ec] = co_await sock_->async_wait(
                wait_type::wait_read,
                asio::bind_cancellation_slot(idle_read_cancel_.slot(), use_tuple));
            notif_idle_reading_ = false;
            if (ec == asio::error::operation_aborted)
                continue; // an operation started, or cancel, timeout, close: look again
            // If an operation started after the socket became readable, the data is its to
            // read: consuming it here would leave that operation waiting for nothing.
            if (state_ != state::idle)
                continue;
            if (ec || !PQconsumeInput(conn_)) {
                diagnostics d;
                (void)fail_lost(d, "read from the server");
                diag.message = d.message;
                continue; // reports the loss after delivering what was queued
            }
            drain_notifications();
            break;
        }
        case state::busy:
        case state::copy_in: {
            // The running operation reads the socket and queues what it finds.
            notify_wakeup_.expires_at(asio::steady_timer::time_point::max());
            (void)co_await notify_wakeup_.async_wait(use_tuple);
            break;
        }
        }
    }
}

} // namespace sfbridge::pg
