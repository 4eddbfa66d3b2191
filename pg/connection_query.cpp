// pg::connection: one statement or a script, outside a pipeline.

#include "pg/connection_internal.hpp"

namespace sfbridge::pg {

using detail::field_of;
using detail::trimmed;
using detail::use_tuple;

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

} // namespace sfbridge::pg
