#pragma once

#include "pg/diagnostics.hpp"
#include "pg/dsn.hpp"
#include "pg/error.hpp"
#include "pg/notification.hpp"
#include "pg/params.hpp"
#include "pg/pipeline.hpp"
#include "pg/pipeline_tracker.hpp"
#include "pg/result.hpp"
#include "pg/statement_cache.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::pg {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

// One PostgreSQL session driven by libpq in non-blocking mode on an Asio executor, for a
// single-threaded io_context.
//
// Rules, after userver's and ozo's drivers:
//  - Connecting polls PQconnectPoll and re-reads PQsocket after every poll, since libpq may
//    reopen the socket (e.g. SSL then plain); host names are resolved by Asio first and passed
//    as `hostaddr`, so that libpq never blocks the thread on DNS.
//  - At most one operation (query, exec, pipeline, COPY step) is outstanding; a second one fails
//    with errc::operation_in_progress instead of corrupting the session.
//  - Every operation has a deadline (set_timeout). When it passes, the connection is closed and
//    the operation fails with errc::timeout: libpq 15 has no non-blocking cancel, and a session
//    in an unknown state is not worth keeping.
//  - Any loss of the server (restart, killed backend, network failure) fails the operation with
//    an error equal to condition::connection_lost, and the connection becomes broken. Open a new
//    one to go on.
//  - NOTIFY messages reach async_receive_notification whether the connection is idle (the waiter
//    reads the socket) or busy (the running operation queues what it reads).
//  - The Asio descriptor is released before PQfinish, which owns and closes the socket.
//
// Operations are lazy member coroutines that refer to *this and to their arguments, which are
// not copied: keep both alive until the operation finishes (co_await it in the same
// expression). Not thread-safe.
class connection {
public:
    using clock = std::chrono::steady_clock;

    // Sessions opened by this process so far (one thread, no lock): more than the connections
    // it keeps means reconnects, which metrics show.
    [[nodiscard]] static std::uint64_t opened_total() noexcept { return opened_total_; }
    // Sessions of this process connected now, and the most at once since reset_peak(): what
    // its share of the server's max_connections is (tests of bounded connections, metrics).
    [[nodiscard]] static std::size_t open_now() noexcept { return open_now_; }
    [[nodiscard]] static std::size_t open_peak() noexcept { return open_peak_; }
    static void reset_peak() noexcept { open_peak_ = open_now_; }

    explicit connection(asio::any_io_executor ex);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // Opens the session described by a libpq connection string (key=value or URI). Any open
    // session is closed first. Errors: errc::invalid_argument (bad DSN), errc::connect_failed
    // (refused, authentication, ...; libpq's message in diag), errc::timeout.
    asio::awaitable<error_code>
    async_connect(std::string_view dsn, diagnostics& diag,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // One statement with parameters (extended protocol, text format).
    asio::awaitable<error_code> async_query(std::string_view sql, const params& args, result& out,
                                            diagnostics& diag);
    asio::awaitable<error_code> async_query(std::string_view sql, result& out, diagnostics& diag);

    // A script of one or more statements without parameters (simple protocol); stops at the
    // first error. Use for DDL and transaction control.
    asio::awaitable<error_code> async_exec(std::string_view script, diagnostics& diag);

    // Sends every statement of the pipeline with one network flush and collects the results in
    // order. Returns the first failure (diag.statement_index says which statement); `out` has
    // the outcome of each. A statement added with add_prepared is prepared on first use (its
    // Parse sent just before it, in the same sync group) and executed by name after that.
    asio::awaitable<error_code> async_execute(const pipeline& p, pipeline_result& out,
                                              diagnostics& diag);

    // COPY ... FROM STDIN: start, write any number of chunks, then end (or abort). Writing waits
    // while the socket is not writable, so a fast producer cannot fill memory.
    asio::awaitable<error_code> async_copy_start(std::string_view copy_sql, diagnostics& diag);
    asio::awaitable<error_code> async_copy_write(std::string_view data, diagnostics& diag);
    asio::awaitable<error_code> async_copy_end(std::uint64_t& rows, diagnostics& diag);
    asio::awaitable<error_code> async_copy_abort(std::string_view reason, diagnostics& diag);

    // Waits for the next NOTIFY on a channel this session LISTENs to. May run while another
    // operation is in progress (it is the one exception to the one-operation rule). Fails with
    // errc::cancelled after cancel_notification_wait() or close(), with
    // boost::system::errc::timed_out when `timeout` passes (the connection stays usable), and
    // with a connection_lost error when the server goes away.
    asio::awaitable<error_code>
    async_receive_notification(notification& out, diagnostics& diag,
                               std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    void cancel_notification_wait();

    // The deadline applied to each operation other than connect and notification waits.
    void set_timeout(std::chrono::milliseconds t) noexcept { op_timeout_ = t; }
    [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return op_timeout_; }

    // Closes the session; pending waits complete with errc::cancelled. Idempotent.
    void close() noexcept;

    [[nodiscard]] bool is_open() const noexcept {
        return state_ == state::idle || state_ == state::busy || state_ == state::copy_in;
    }
    [[nodiscard]] bool is_broken() const noexcept { return state_ == state::broken; }
    [[nodiscard]] bool in_copy() const noexcept { return state_ == state::copy_in; }
    // Whether the session is inside a transaction block (open or aborted) between operations:
    // a failed statement of "BEGIN; ..." leaves it so, and everything after fails with 25P02
    // until a ROLLBACK.
    [[nodiscard]] bool in_transaction() const noexcept;
    [[nodiscard]] int backend_pid() const noexcept { return conn_ ? PQbackendPID(conn_) : 0; }
    [[nodiscard]] int socket_fd() const noexcept { return conn_ ? PQsocket(conn_) : -1; }
    [[nodiscard]] PGconn* native_handle() const noexcept { return conn_; }
    // How many statements are prepared on this session (see pipeline::add_prepared).
    [[nodiscard]] std::size_t prepared_statements() const noexcept { return prepared_.size(); }
    // How many statements this session prepares at most (64 unless set); the rest run
    // unprepared. Kept across reconnects.
    void set_statement_capacity(std::size_t n) noexcept { prepared_.set_capacity(n); }
    [[nodiscard]] asio::any_io_executor get_executor() const noexcept { return executor_; }

private:
    static inline std::uint64_t opened_total_ = 0;
    static inline std::size_t open_now_ = 0;
    static inline std::size_t open_peak_ = 0;
    bool counted_ = false; // in open_now_
    enum class state { closed, connecting, idle, busy, copy_in, broken };
    class op_scope;
    using wait_type = asio::posix::descriptor_base::wait_type;

    error_code begin_op(diagnostics& diag, const char* what, state expected);
    void end_op(state next) noexcept;
    void arm_deadline(std::chrono::milliseconds t);
    void on_deadline(std::uint64_t generation) noexcept;

    bool rewrap_socket();
    void release_socket() noexcept;
    void teardown(state next) noexcept;

    asio::awaitable<error_code> wait_socket(wait_type w, diagnostics& diag);
    asio::awaitable<error_code> flush(diagnostics& diag);
    asio::awaitable<error_code> wait_ready(diagnostics& diag);
    asio::awaitable<error_code> collect_results(result* out, diagnostics& diag);
    asio::awaitable<error_code> put_copy_end(const char* error_message, diagnostics& diag);

    asio::awaitable<error_code> resolve_host(connect_settings& settings, diagnostics& diag,
                                             std::chrono::milliseconds timeout);
    asio::awaitable<error_code> poll_connect(diagnostics& diag, std::chrono::milliseconds timeout);
    // The pipeline's parts (connection_pipeline.cpp): sending, one statement's send, reading.
    using parse_group = std::vector<std::pair<std::size_t, std::string>>; // index, name
    error_code send_pipeline(const pipeline& p, diagnostics& diag);
    error_code send_statement(const pipeline& p, std::size_t i, parse_group& group,
                              std::size_t& pending, diagnostics& diag);
    asio::awaitable<error_code> receive_pipeline(const pipeline& p, pipeline_result& out,
                                                 diagnostics& diag, error_code& first_error);
    error_code take_pipeline_result(const pipeline& p, std::size_t sent_index,
                                    pipeline_tracker::input in, result& r, pipeline_result& out,
                                    diagnostics& diag, error_code& first_error);

    error_code fail_lost(diagnostics& diag, std::string_view what);
    error_code fail_wait(error_code ec, diagnostics& diag);
    error_code error_from_result(const result& r, diagnostics& diag);
    void drain_notifications();
    void wake_notification_waiter() noexcept;
    static void notice_receiver(void* self, const PGresult* r);

    asio::any_io_executor executor_;
    PGconn* conn_ = nullptr;
    state state_ = state::closed;
    std::optional<asio::posix::stream_descriptor> sock_;
    asio::ip::tcp::resolver resolver_;

    std::chrono::milliseconds op_timeout_{std::chrono::seconds(30)};
    asio::steady_timer deadline_;
    std::uint64_t op_generation_ = 0;
    bool timed_out_ = false;
    std::chrono::milliseconds armed_timeout_{0};

    // Notification delivery.
    std::deque<notification> notifications_;
    asio::steady_timer notify_wakeup_;
    asio::steady_timer notify_deadline_;
    asio::cancellation_signal idle_read_cancel_;
    bool notif_waiting_ = false;
    bool notif_idle_reading_ = false;
    bool notif_cancelled_ = false;
    bool notif_timed_out_ = false;

    pipeline_tracker tracker_;
    // Per statement sent in a pipeline, as the tracker counts them: the pipeline statement it
    // belongs to, and for the Parse of a statement being prepared, the name it is prepared as.
    struct sent_statement {
        std::size_t index;
        std::string prepare_name;
    };
    std::vector<sent_statement> sent_;
    statement_cache prepared_;
    std::string sql_buf_;
    std::vector<const char*> param_values_;

    // Timer callbacks hold a weak reference, so a callback that was already queued when the
    // connection was destroyed does nothing.
    std::shared_ptr<connection*> self_;
};

} // namespace sfbridge::pg
