// pg::connection: COPY FROM STDIN.

#include "pg/connection_internal.hpp"

namespace sfbridge::pg {

using detail::field_of;
using detail::trimmed;
using detail::use_tuple;

asio::awaitable<error_code> connection::async_copy_start(std::string_view copy_sql,
                                                         diagnostics& diag) {
    if (auto ec = begin_op(diag, "start COPY", state::idle))
        co_return ec;
    op_scope scope(*this);
    sql_buf_.assign(copy_sql);
    if (!PQsendQuery(conn_, sql_buf_.c_str())) {
        if (PQstatus(conn_) == CONNECTION_BAD)
            co_return fail_lost(diag, "send COPY");
        diag.message = trimmed(PQerrorMessage(conn_));
        co_return errc::invalid_argument;
    }
    if (auto ec = co_await flush(diag))
        co_return ec;
    if (auto ec = co_await wait_ready(diag))
        co_return ec;
    PGresult* raw = PQgetResult(conn_);
    if (!raw)
        co_return fail_lost(diag, "start COPY");
    result r(raw);
    if (r.status() == PGRES_COPY_IN) {
        scope.set_next(state::copy_in);
        co_return error_code{};
    }
    error_code ec;
    if (r.status() == PGRES_FATAL_ERROR) {
        ec = error_from_result(r, diag);
    } else {
        ec = errc::unexpected_result;
        diag.message = "the statement is not COPY ... FROM STDIN";
    }
    if (r.status() == PGRES_COPY_OUT || r.status() == PGRES_COPY_BOTH) {
        teardown(state::broken);
        co_return ec;
    }
    if (auto drain = co_await collect_results(nullptr, diag); drain && !ec)
        ec = drain;
    co_return ec;
}

asio::awaitable<error_code> connection::async_copy_write(std::string_view data, diagnostics& diag) {
    if (auto ec = begin_op(diag, "write COPY data", state::copy_in))
        co_return ec;
    op_scope scope(*this, state::copy_in);
    while (!data.empty()) {
        const std::size_t chunk = std::min<std::size_t>(data.size(), 1u << 20);
        const int rc = PQputCopyData(conn_, data.data(), static_cast<int>(chunk));
        if (rc == 1) {
            data.remove_prefix(chunk);
            continue;
        }
        if (rc < 0) {
            if (PQstatus(conn_) == CONNECTION_BAD)
                co_return fail_lost(diag, "write COPY data");
            // The server ended the COPY with an error (bad data, say): report it.
            scope.set_next(state::idle);
            auto ec = co_await collect_results(nullptr, diag);
            co_return ec ? ec : error_code(errc::server_error);
        }
        // 0: libpq's buffer is full. Wait until the socket drains: this is the back-pressure.
        if (auto ec = co_await flush(diag))
            co_return ec;
    }
    // Push out what is buffered before taking more from the caller, so memory stays bounded.
    co_return co_await flush(diag);
}

asio::awaitable<error_code> connection::async_copy_end(std::uint64_t& rows, diagnostics& diag) {
    rows = 0;
    if (auto ec = begin_op(diag, "end COPY", state::copy_in))
        co_return ec;
    op_scope scope(*this, state::idle);
    if (auto ec = co_await put_copy_end(nullptr, diag))
        co_return ec;
    result r;
    auto ec = co_await collect_results(&r, diag);
    if (!ec)
        rows = r.affected_rows();
    co_return ec;
}

asio::awaitable<error_code> connection::async_copy_abort(std::string_view reason,
                                                         diagnostics& diag) {
    if (auto ec = begin_op(diag, "abort COPY", state::copy_in))
        co_return ec;
    op_scope scope(*this, state::idle);
    const std::string reason_z(reason.empty() ? std::string_view("aborted") : reason);
    if (auto ec = co_await put_copy_end(reason_z.c_str(), diag))
        co_return ec;
    diagnostics ignored;
    auto ec = co_await collect_results(nullptr, ignored);
    // The server answers an aborted COPY with 57014 (query_canceled): that is success here.
    if (ec && sqlstate_of(ec) != "57014") {
        diag = ignored;
        co_return ec;
    }
    co_return error_code{};
}

} // namespace sfbridge::pg
