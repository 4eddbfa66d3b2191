// pg::connection: connecting (non-blocking, the host resolved by Asio, a deadline).

#include "core/log.hpp"
#include "pg/connection_internal.hpp"
#include "pg/dsn.hpp"

#include <algorithm>

namespace sfbridge::pg {

using detail::field_of;
using detail::trimmed;
using detail::use_tuple;

asio::awaitable<error_code> connection::async_connect(std::string_view dsn, diagnostics& diag,
                                                      std::chrono::milliseconds timeout) {
    diag.clear();
    diag.client_message = "connect";
    if (state_ == state::busy || state_ == state::connecting || state_ == state::copy_in)
        co_return errc::operation_in_progress;
    close();

    connect_settings settings;
    std::string parse_error;
    if (!parse_dsn(dsn, settings, parse_error)) {
        diag.client_message = "parse the connection string";
        diag.message = parse_error;
        co_return errc::invalid_argument;
    }

    state_ = state::connecting;
    // If this coroutine is destroyed mid-way, leave a closed connection, not a half-open one.
    struct connecting_guard {
        connection& c;
        ~connecting_guard() {
            if (c.state_ == state::connecting)
                c.teardown(state::closed);
        }
    } guard{*this};

    arm_deadline(timeout);
    if (auto ec = co_await resolve_host(settings, diag, timeout))
        co_return ec;

    std::vector<const char*> keys, values;
    for (const auto& [k, v] : settings.params) {
        keys.push_back(k.c_str());
        values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);

    conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
    if (!conn_) {
        diag.message = "out of memory";
        teardown(state::closed);
        co_return errc::connect_failed;
    }
    // As early as possible, so that no notice reaches stderr.
    PQsetNoticeReceiver(conn_, &connection::notice_receiver, this);

    if (auto ec = co_await poll_connect(diag, timeout))
        co_return ec;
    const auto fail_connect = [&]() -> error_code {
        diag.message = trimmed(PQerrorMessage(conn_));
        teardown(state::closed);
        return errc::connect_failed;
    };
    if (!rewrap_socket())
        co_return fail_connect();
    // Non-blocking mode only once connected (libpq's fe-exec.c says so).
    if (PQsetnonblocking(conn_, 1) != 0)
        co_return fail_connect();
    deadline_.cancel();
    ++op_generation_;
    state_ = state::idle;
    log::debug("pg", "connected", {{"backend_pid", PQbackendPID(conn_)}});
    ++opened_total_;
    counted_ = true;
    open_peak_ = std::max(open_peak_, ++open_now_);
    co_return error_code{};
}

// libpq would resolve a host name with a blocking getaddrinfo() on this thread; it is resolved
// here and passed as hostaddr (host stays for TLS verification and .pgpass).
asio::awaitable<error_code> connection::resolve_host(connect_settings& settings, diagnostics& diag,
                                                     std::chrono::milliseconds timeout) {
    if (!settings.needs_resolve())
        co_return error_code{};
    auto [ec, endpoints] =
        co_await resolver_.async_resolve(settings.host, settings.port, use_tuple);
    if (timed_out_) {
        diag.message =
            "connection not established within " + std::to_string(timeout.count()) + " ms";
        teardown(state::closed);
        co_return errc::timeout;
    }
    if (ec || endpoints.empty()) {
        diag.client_message = "resolve the database host";
        diag.message = "could not resolve host \"" + settings.host + "\": " + ec.message();
        teardown(state::closed);
        co_return errc::connect_failed;
    }
    settings.add_hostaddr(endpoints.begin()->endpoint().address().to_string());
    co_return error_code{};
}

// PQconnectPoll until the session is up: the socket libpq names is waited on (re-read after
// every poll, as libpq may change it), the operation's deadline ends it.
asio::awaitable<error_code> connection::poll_connect(diagnostics& diag,
                                                     std::chrono::milliseconds timeout) {
    const auto fail_connect = [&]() -> error_code {
        diag.message = trimmed(PQerrorMessage(conn_));
        teardown(state::closed);
        return errc::connect_failed;
    };
    if (PQstatus(conn_) == CONNECTION_BAD)
        co_return fail_connect();

    // "If PQconnectStart succeeds, ... consider a status of PGRES_POLLING_WRITING initially."
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    for (;;) {
        if (poll == PGRES_POLLING_OK)
            break;
        if (poll == PGRES_POLLING_FAILED)
            co_return fail_connect();
        if (!rewrap_socket())
            co_return fail_connect();
        auto [ec] = co_await sock_->async_wait(
            poll == PGRES_POLLING_READING ? wait_type::wait_read : wait_type::wait_write,
            use_tuple);
        if (timed_out_) {
            diag.message =
                "connection not established within " + std::to_string(timeout.count()) + " ms";
            teardown(state::closed);
            co_return errc::timeout;
        }
        if (state_ != state::connecting || !conn_)
            co_return errc::cancelled;
        if (ec) {
            diag.message = ec.message();
            teardown(state::closed);
            co_return errc::connect_failed;
        }
        poll = PQconnectPoll(conn_);
    }
    co_return error_code{};
}

} // namespace sfbridge::pg
