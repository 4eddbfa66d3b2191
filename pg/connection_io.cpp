// pg::connection: the libpq I/O helpers every operation uses (wait, flush, read results).

#include "pg/connection_internal.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace sfbridge::pg {

using detail::field_of;
using detail::trimmed;
using detail::use_tuple;

asio::awaitable<error_code> connection::wait_socket(wait_type w, diagnostics& diag) {
    if (!sock_)
        co_return fail_lost(diag, "socket closed");
    auto [ec] = co_await sock_->async_wait(w, use_tuple);
    if (ec || timed_out_ || !conn_)
        co_return fail_wait(ec ? ec : asio::error::operation_aborted, diag);
    co_return error_code{};
}

asio::awaitable<error_code> connection::flush(diagnostics& diag) {
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
        const int r = PQflush(conn_);
        if (r == 0)
            co_return error_code{};
        if (r < 0)
            co_return fail_lost(diag, "send to the server");
        // libpq's rule: wait for read- or write-readiness; on read, absorb input first, since
        // the server may be blocked sending us results and not reading what we send.
        if (!sock_)
            co_return fail_lost(diag, "socket closed");
        auto which = co_await (sock_->async_wait(wait_type::wait_write, use_tuple) ||
                               sock_->async_wait(wait_type::wait_read, use_tuple));
        const error_code ec =
            which.index() == 0 ? std::get<0>(std::get<0>(which)) : std::get<0>(std::get<1>(which));
        if (ec || timed_out_ || !conn_)
            co_return fail_wait(ec ? ec : asio::error::operation_aborted, diag);
        if (which.index() == 1) {
            if (!PQconsumeInput(conn_))
                co_return fail_lost(diag, "read from the server");
            drain_notifications();
        }
    }
}

asio::awaitable<error_code> connection::wait_ready(diagnostics& diag) {
    while (PQisBusy(conn_)) {
        if (auto ec = co_await wait_socket(wait_type::wait_read, diag))
            co_return ec;
        if (!PQconsumeInput(conn_))
            co_return fail_lost(diag, "read from the server");
        drain_notifications();
    }
    drain_notifications();
    co_return error_code{};
}

error_code connection::error_from_result(const result& r, diagnostics& diag) {
    diag.sqlstate = field_of(r.native_handle(), PG_DIAG_SQLSTATE);
    diag.message = field_of(r.native_handle(), PG_DIAG_MESSAGE_PRIMARY);
    if (diag.message.empty())
        diag.message = trimmed(PQresultErrorMessage(r.native_handle()));
    diag.detail = field_of(r.native_handle(), PG_DIAG_MESSAGE_DETAIL);
    diag.hint = field_of(r.native_handle(), PG_DIAG_MESSAGE_HINT);
    if (diag.sqlstate.empty()) {
        // libpq's own errors carry no SQLSTATE; a dead socket is the usual cause.
        if (!conn_ || PQstatus(conn_) == CONNECTION_BAD)
            return errc::connection_lost;
        return errc::server_error;
    }
    return make_sqlstate_error(diag.sqlstate);
}

asio::awaitable<error_code> connection::put_copy_end(const char* error_message, diagnostics& diag) {
    for (;;) {
        const int rc = PQputCopyEnd(conn_, error_message);
        if (rc == 1)
            break;
        if (rc < 0)
            co_return fail_lost(diag, "end COPY");
        if (auto ec = co_await wait_socket(wait_type::wait_write, diag))
            co_return ec;
    }
    co_return co_await flush(diag);
}

// Reads every result of the current command up to libpq's terminating NULL. Keeps the last
// successful result in `out` (if given) and returns the first error.
asio::awaitable<error_code> connection::collect_results(result* out, diagnostics& diag) {
    error_code first_error;
    for (;;) {
        if (auto ec = co_await wait_ready(diag))
            co_return ec;
        PGresult* raw = PQgetResult(conn_);
        if (!raw)
            break;
        result r(raw);
        switch (r.status()) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
            if (out && !first_error)
                *out = std::move(r);
            break;
        case PGRES_COPY_IN:
            // A COPY FROM STDIN where a plain statement was expected: end it with an error so
            // the session stays usable.
            if (!first_error) {
                first_error = errc::unexpected_result;
                diag.message = "COPY FROM STDIN is only available through async_copy_start";
            }
            if (auto ec = co_await put_copy_end("unexpected COPY", diag))
                co_return ec;
            break;
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            diag.message = "COPY TO STDOUT is not supported";
            teardown(state::broken);
            co_return errc::unexpected_result;
        default:
            if (!first_error)
                first_error = error_from_result(r, diag);
            break;
        }
    }
    if (PQstatus(conn_) == CONNECTION_BAD) {
        if (!first_error)
            first_error = errc::connection_lost;
        if (diag.message.empty())
            diag.message = trimmed(PQerrorMessage(conn_));
        teardown(state::broken);
    }
    co_return first_error;
}

} // namespace sfbridge::pg
