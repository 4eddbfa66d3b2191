// pg::connection: its lifecycle (open, broken, closed), operation scopes and deadlines.

#include "core/log.hpp"
#include "pg/connection_internal.hpp"

namespace sfbridge::pg {

using detail::field_of;
using detail::trimmed;
using detail::use_tuple;

connection::connection(asio::any_io_executor ex)
    : executor_(ex), resolver_(ex), deadline_(ex), notify_wakeup_(ex), notify_deadline_(ex),
      self_(std::make_shared<connection*>(this)) {}

connection::~connection() {
    *self_ = nullptr;
    close();
}

void connection::release_socket() noexcept {
    if (sock_) {
        // release(), never close(): the socket belongs to libpq. Releasing deregisters it from
        // the reactor and cancels pending waits.
        (void)sock_->release();
        sock_.reset();
    }
}

bool connection::rewrap_socket() {
    // Always re-register: libpq may have closed the socket and opened a new one that got the
    // same number, and the reactor's registration of the old one is gone with it.
    release_socket();
    const int fd = conn_ ? PQsocket(conn_) : -1;
    if (fd < 0)
        return false;
    boost::system::error_code ec;
    sock_.emplace(executor_);
    sock_->assign(fd, ec);
    if (ec) {
        sock_.reset();
        return false;
    }
    return true;
}

void connection::teardown(state next) noexcept {
    if (counted_) {
        --open_now_;
        counted_ = false;
    }
    release_socket();
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
    state_ = next;
    deadline_.cancel();
    tracker_.reset();
    prepared_.clear(); // prepared statements end with the session
    wake_notification_waiter();
}

void connection::close() noexcept {
    boost::system::error_code ignored;
    resolver_.cancel();
    notif_cancelled_ = notif_waiting_;
    teardown(state::closed);
}

error_code connection::begin_op(diagnostics& diag, const char* what, state expected) {
    diag.clear();
    diag.client_message = what;
    if (state_ != expected) {
        if (state_ == state::idle && expected == state::copy_in) {
            diag.message = "no COPY is in progress";
            return errc::invalid_argument;
        }
        switch (state_) {
        case state::closed:
            return errc::not_connected;
        case state::broken:
            return errc::broken;
        default:
            return errc::operation_in_progress;
        }
    }
    state_ = state::busy;
    arm_deadline(op_timeout_);
    // The notification waiter reads the socket only while nothing else does.
    if (notif_idle_reading_)
        idle_read_cancel_.emit(asio::cancellation_type::total);
    return {};
}

void connection::end_op(state next) noexcept {
    deadline_.cancel();
    ++op_generation_;
    if (state_ == state::busy)
        state_ = next;
    wake_notification_waiter();
}

void connection::arm_deadline(std::chrono::milliseconds t) {
    timed_out_ = false;
    armed_timeout_ = t;
    const std::uint64_t generation = ++op_generation_;
    deadline_.expires_after(t);
    deadline_.async_wait([weak = std::weak_ptr<connection*>(self_), generation](error_code ec) {
        if (ec)
            return;
        if (auto self = weak.lock(); self && *self)
            (*self)->on_deadline(generation);
    });
}

void connection::on_deadline(std::uint64_t generation) noexcept {
    if (generation != op_generation_)
        return; // a late callback for an operation that has finished
    timed_out_ = true;
    boost::system::error_code ignored;
    resolver_.cancel();
    if (sock_)
        sock_->cancel(ignored);
}

error_code connection::fail_lost(diagnostics& diag, std::string_view what) {
    if (diag.message.empty())
        diag.message = conn_ ? trimmed(PQerrorMessage(conn_)) : std::string(what);
    if (diag.client_message.empty())
        diag.client_message = std::string(what);
    teardown(state::broken);
    return errc::connection_lost;
}

error_code connection::fail_wait(error_code ec, diagnostics& diag) {
    if (timed_out_) {
        diag.message = "no answer within " + std::to_string(armed_timeout_.count()) + " ms";
        teardown(state::broken);
        return errc::timeout;
    }
    if (state_ == state::closed || !conn_)
        return errc::cancelled;
    if (ec == asio::error::operation_aborted) {
        // Someone cancelled the socket without closing: the protocol state is unknown.
        diag.message = "operation cancelled";
        teardown(state::broken);
        return errc::cancelled;
    }
    diag.message = ec.message();
    teardown(state::broken);
    return errc::connection_lost;
}

void connection::notice_receiver(void* self, const PGresult* r) {
    (void)self;
    const std::string severity = field_of(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    const log::level lvl = severity == "WARNING" ? log::level::warn : log::level::debug;
    if (!log::enabled(lvl))
        return;
    log::write(lvl, "pg", "server notice",
               {{"severity", severity},
                {"sqlstate", field_of(r, PG_DIAG_SQLSTATE)},
                {"message", field_of(r, PG_DIAG_MESSAGE_PRIMARY)}});
}

bool connection::in_transaction() const noexcept {
    if (!conn_)
        return false;
    const auto t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

} // namespace sfbridge::pg
