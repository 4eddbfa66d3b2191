#include "pg/connection.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <climits>

namespace sfbridge::pg {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// libpq's messages end with a newline; diagnostics and logs want one line.
std::string trimmed(const char* text) {
    std::string s = text ? text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string field_of(const PGresult* r, int code) {
    const char* v = PQresultErrorField(r, code);
    return v ? v : "";
}

struct conninfo_deleter {
    void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

} // namespace

// Marks the connection busy for the duration of one operation and restores it afterwards,
// also when the coroutine is destroyed mid-way.
class connection::op_scope {
public:
    explicit op_scope(connection& c, state next = state::idle) noexcept : c_(c), next_(next) {}
    ~op_scope() { c_.end_op(next_); }
    op_scope(const op_scope&) = delete;
    op_scope& operator=(const op_scope&) = delete;
    void set_next(state s) noexcept { next_ = s; }

private:
    connection& c_;
    state next_;
};

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

asio::awaitable<error_code> connection::async_connect(std::string_view dsn, diagnostics& diag,
                                                      std::chrono::milliseconds timeout) {
    diag.clear();
    diag.client_message = "connect";
    if (state_ == state::busy || state_ == state::connecting || state_ == state::copy_in)
        co_return errc::operation_in_progress;
    close();

    const std::string dsn_z(dsn);
    char* parse_error = nullptr;
    std::unique_ptr<PQconninfoOption, conninfo_deleter> options(
        PQconninfoParse(dsn_z.c_str(), &parse_error));
    if (!options) {
        diag.client_message = "parse the connection string";
        diag.message = parse_error ? trimmed(parse_error) : "out of memory";
        if (parse_error)
            PQfreemem(parse_error);
        co_return errc::invalid_argument;
    }

    std::vector<std::pair<std::string, std::string>> settings;
    std::string host, hostaddr, port = "5432";
    for (PQconninfoOption* o = options.get(); o->keyword; ++o) {
        if (!o->val)
            continue;
        const std::string_view key = o->keyword;
        if (key == "host")
            host = o->val;
        else if (key == "hostaddr")
            hostaddr = o->val;
        else if (key == "port" && *o->val)
            port = o->val;
        settings.emplace_back(o->keyword, o->val);
    }
    auto set_default = [&](const char* key, const char* value) {
        for (const auto& [k, v] : settings)
            if (k == key)
                return;
        settings.emplace_back(key, value);
    };
    set_default("application_name", "sfbridge");
    // TCP keepalives find a dead peer on an idle (LISTENing) session; busy sessions have
    // their operation deadlines.
    set_default("keepalives", "1");
    set_default("keepalives_idle", "15");
    set_default("keepalives_interval", "5");
    set_default("keepalives_count", "3");

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
    const auto fail_timeout = [&]() -> error_code {
        diag.message =
            "connection not established within " + std::to_string(timeout.count()) + " ms";
        teardown(state::closed);
        return errc::timeout;
    };

    // libpq would resolve a host name with a blocking getaddrinfo() on this thread; resolve it
    // here and pass the address as hostaddr (host stays for TLS verification and .pgpass).
    if (!host.empty() && hostaddr.empty() && host.front() != '/' &&
        host.find(',') == std::string::npos && !is_ip_literal(host)) {
        auto [ec, endpoints] = co_await resolver_.async_resolve(host, port, use_tuple);
        if (timed_out_)
            co_return fail_timeout();
        if (ec || endpoints.empty()) {
            diag.client_message = "resolve the database host";
            diag.message = "could not resolve host \"" + host + "\": " + ec.message();
            teardown(state::closed);
            co_return errc::connect_failed;
        }
        settings.emplace_back("hostaddr", endpoints.begin()->endpoint().address().to_string());
    }

    std::vector<const char*> keys, values;
    for (const auto& [k, v] : settings) {
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
        if (timed_out_)
            co_return fail_timeout();
        if (state_ != state::connecting || !conn_)
            co_return errc::cancelled;
        if (ec) {
            diag.message = ec.message();
            teardown(state::closed);
            co_return errc::connect_failed;
        }
        poll = PQconnectPoll(conn_);
    }
    if (!rewrap_socket())
        co_return fail_connect();
    // Non-blocking mode only once connected (libpq's fe-exec.c says so).
    if (PQsetnonblocking(conn_, 1) != 0)
        co_return fail_connect();
    deadline_.cancel();
    ++op_generation_;
    state_ = state::idle;
    log::debug("pg", "connected", {{"backend_pid", PQbackendPID(conn_)}});
    co_return error_code{};
}

asio::awaitable<error_code> connection::async_query(std::string_view sql, const params& args,
                                                    result& out, diagnostics& diag) {
    out = result{};
    if (auto ec = begin_op(diag, "query", state::idle))
        co_return ec;
    op_scope scope(*this);
    sql_buf_.assign(sql);
    args.materialize(param_values_);
    if (!PQsendQueryParams(conn_, sql_buf_.c_str(), static_cast<int>(args.size()), nullptr,
                           param_values_.data(), nullptr, nullptr, 0)) {
        if (PQstatus(conn_) == CONNECTION_BAD)
            co_return fail_lost(diag, "send query");
        diag.message = trimmed(PQerrorMessage(conn_));
        co_return errc::invalid_argument;
    }
    if (auto ec = co_await flush(diag))
        co_return ec;
    co_return co_await collect_results(&out, diag);
}

asio::awaitable<error_code> connection::async_query(std::string_view sql, result& out,
                                                    diagnostics& diag) {
    const params none;
    co_return co_await async_query(sql, none, out, diag);
}

asio::awaitable<error_code> connection::async_exec(std::string_view script, diagnostics& diag) {
    if (auto ec = begin_op(diag, "exec", state::idle))
        co_return ec;
    op_scope scope(*this);
    sql_buf_.assign(script);
    if (!PQsendQuery(conn_, sql_buf_.c_str())) {
        if (PQstatus(conn_) == CONNECTION_BAD)
            co_return fail_lost(diag, "send query");
        diag.message = trimmed(PQerrorMessage(conn_));
        co_return errc::invalid_argument;
    }
    if (auto ec = co_await flush(diag))
        co_return ec;
    co_return co_await collect_results(nullptr, diag);
}

asio::awaitable<error_code> connection::async_execute(const pipeline& p, pipeline_result& out,
                                                      diagnostics& diag) {
    out.results.clear();
    out.errors.clear();
    if (auto ec = begin_op(diag, "pipeline", state::idle))
        co_return ec;
    op_scope scope(*this);
    if (p.empty())
        co_return error_code{};
    if (!PQenterPipelineMode(conn_)) {
        diag.message = trimmed(PQerrorMessage(conn_));
        teardown(state::broken);
        co_return errc::broken;
    }
    tracker_.reset();
    sent_.clear();
    const auto& statements = p.statements();
    const auto& syncs = p.sync_points();
    out.results.resize(statements.size());
    out.errors.assign(statements.size(), error_code{});

    // The Parses this sync group sends. A later group does not execute by these names: should
    // this group fail before a Parse, the name would not exist.
    struct group_prepare {
        std::size_t index;
        std::string name;
    };
    std::vector<group_prepare> group;
    std::size_t pending = 0; // Parses sent in this pipeline, not yet accepted
    std::size_t next_sync = 0;
    for (std::size_t i = 0; i < statements.size(); ++i) {
        const auto& st = statements[i];
        st.args.materialize(param_values_);
        const int n_params = static_cast<int>(st.args.size());
        std::string name;
        if (st.prepare) {
            if (const std::string* known = prepared_.find(st.sql)) {
                name = *known;
            } else {
                for (const auto& g : group)
                    if (statements[g.index].sql == st.sql) {
                        name = g.name;
                        break;
                    }
                if (name.empty()) {
                    name = prepared_.next_name(pending); // empty when the cache is full
                    if (!name.empty()) {
                        // Parameter types are inferred from the text, as for an unnamed one.
                        if (!PQsendPrepare(conn_, name.c_str(), st.sql.c_str(), n_params,
                                           nullptr)) {
                            diag.statement_index = i;
                            co_return fail_lost(diag, "send pipeline statement");
                        }
                        tracker_.expect_statement();
                        sent_.push_back({i, name});
                        group.push_back({i, name});
                        ++pending;
                    }
                }
            }
        }
        const int sent = name.empty()
                             ? PQsendQueryParams(conn_, st.sql.c_str(), n_params, nullptr,
                                                 param_values_.data(), nullptr, nullptr, 0)
                             : PQsendQueryPrepared(conn_, name.c_str(), n_params,
                                                   param_values_.data(), nullptr, nullptr, 0);
        if (!sent) {
            diag.statement_index = i;
            co_return fail_lost(diag, "send pipeline statement");
        }
        tracker_.expect_statement();
        sent_.push_back({i, {}});
        if (next_sync < syncs.size() && syncs[next_sync] == i + 1) {
            if (!PQpipelineSync(conn_))
                co_return fail_lost(diag, "send pipeline sync");
            tracker_.expect_sync();
            ++next_sync;
            group.clear();
        }
    }
    if (syncs.empty() || syncs.back() != statements.size()) {
        if (!PQpipelineSync(conn_))
            co_return fail_lost(diag, "send pipeline sync");
        tracker_.expect_sync();
    }
    if (auto ec = co_await flush(diag))
        co_return ec;

    error_code first_error;
    while (!tracker_.idle()) {
        if (auto ec = co_await wait_ready(diag))
            co_return ec;
        PGresult* raw = PQgetResult(conn_);
        result r(raw);
        pipeline_tracker::input in;
        if (!raw) {
            in = pipeline_tracker::input::null;
        } else {
            switch (r.status()) {
            case PGRES_PIPELINE_SYNC:
                in = pipeline_tracker::input::sync;
                break;
            case PGRES_PIPELINE_ABORTED:
                in = pipeline_tracker::input::aborted;
                break;
            case PGRES_COMMAND_OK:
            case PGRES_TUPLES_OK:
            case PGRES_EMPTY_QUERY:
                in = pipeline_tracker::input::ok;
                break;
            case PGRES_FATAL_ERROR:
                if (PQstatus(conn_) == CONNECTION_BAD) {
                    diagnostics lost;
                    (void)error_from_result(r, lost);
                    diag.message = lost.message;
                    co_return fail_lost(diag, "pipeline");
                }
                in = pipeline_tracker::input::error;
                break;
            default:
                diag.message = "unexpected result status in a pipeline: " +
                               std::string(PQresStatus(r.status()));
                teardown(state::broken);
                co_return errc::pipeline_out_of_sync;
            }
        }
        const auto step = tracker_.on(in);
        switch (step.what) {
        case pipeline_tracker::step::out_of_sync:
            if (diag.message.empty())
                diag.message = "pipeline results out of sync with the statements sent";
            teardown(state::broken);
            co_return errc::pipeline_out_of_sync;
        case pipeline_tracker::step::result_received: {
            const sent_statement& sent = sent_[step.index];
            const std::size_t index = sent.index;
            if (in == pipeline_tracker::input::ok && !sent.prepare_name.empty()) {
                // A Parse accepted: the statement runs by name from now on.
                prepared_.add(statements[index].sql, sent.prepare_name);
            } else if (in == pipeline_tracker::input::ok) {
                out.results[index] = std::move(r);
            } else if (in == pipeline_tracker::input::aborted) {
                // (A statement whose Parse failed keeps that error.)
                if (!out.errors[index])
                    out.errors[index] = errc::pipeline_aborted;
            } else {
                // A statement's error, or its Parse's: either way the statement's.
                diagnostics d;
                out.errors[index] = error_from_result(r, d);
                if (!first_error) {
                    first_error = out.errors[index];
                    d.client_message = diag.client_message;
                    d.statement_index = index;
                    diag = std::move(d);
                }
            }
            break;
        }
        case pipeline_tracker::step::statement_complete:
        case pipeline_tracker::step::group_complete:
            break;
        }
    }
    if (!PQexitPipelineMode(conn_)) {
        diag.message = trimmed(PQerrorMessage(conn_));
        teardown(state::broken);
        co_return errc::pipeline_out_of_sync;
    }
    co_return first_error;
}

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

void connection::drain_notifications() {
    if (!conn_)
        return;
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
        notifications_.push_back(
            {n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid});
        PQfreemem(n);
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

} // namespace sfbridge::pg
