// pg::connection: a pipeline of statements in one round trip.

#include "pg/connection_internal.hpp"

namespace sfbridge::pg {

using detail::trimmed;

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
    out.results.resize(p.statements().size());
    out.errors.assign(p.statements().size(), error_code{});
    if (auto ec = send_pipeline(p, diag))
        co_return ec;
    if (auto ec = co_await flush(diag))
        co_return ec;
    error_code first_error; // a statement's: the session goes on
    if (auto ec = co_await receive_pipeline(p, out, diag, first_error))
        co_return ec; // the session broke

    if (!PQexitPipelineMode(conn_)) {
        diag.message = trimmed(PQerrorMessage(conn_));
        teardown(state::broken);
        co_return errc::pipeline_out_of_sync;
    }
    co_return first_error;
}

// Every statement, and a sync after each sync point and at the end.
error_code connection::send_pipeline(const pipeline& p, diagnostics& diag) {
    const auto& statements = p.statements();
    const auto& syncs = p.sync_points();
    // The Parses this sync group sends. A later group does not execute by these names: should
    // this group fail before a Parse, the name would not exist.
    parse_group group;
    std::size_t pending = 0; // Parses sent in this pipeline, not yet accepted
    std::size_t next_sync = 0;
    for (std::size_t i = 0; i < statements.size(); ++i) {
        if (auto ec = send_statement(p, i, group, pending, diag))
            return ec;
        if (next_sync < syncs.size() && syncs[next_sync] == i + 1) {
            if (!PQpipelineSync(conn_))
                return fail_lost(diag, "send pipeline sync");
            tracker_.expect_sync();
            ++next_sync;
            group.clear();
        }
    }
    if (syncs.empty() || syncs.back() != statements.size()) {
        if (!PQpipelineSync(conn_))
            return fail_lost(diag, "send pipeline sync");
        tracker_.expect_sync();
    }
    return error_code{};
}

// One statement: by name when prepared (a Parse first when the name is new), else unnamed.
error_code connection::send_statement(const pipeline& p, std::size_t i, parse_group& group,
                                      std::size_t& pending, diagnostics& diag) {
    const auto& st = p.statements()[i];
    st.args.materialize(param_values_);
    const int n_params = static_cast<int>(st.args.size());
    std::string name;
    if (st.prepare) {
        if (const std::string* known = prepared_.find(st.sql))
            name = *known;
        for (const auto& [index, parsed] : group)
            if (name.empty() && p.statements()[index].sql == st.sql)
                name = parsed;
        if (name.empty()) {
            name = prepared_.next_name(pending); // empty when the cache is full
            if (!name.empty()) {
                // Parameter types are inferred from the text, as for an unnamed one.
                if (!PQsendPrepare(conn_, name.c_str(), st.sql.c_str(), n_params, nullptr)) {
                    diag.statement_index = i;
                    return fail_lost(diag, "send pipeline statement");
                }
                tracker_.expect_statement();
                sent_.push_back({i, name});
                group.emplace_back(i, name);
                ++pending;
            }
        }
    }
    const int sent = name.empty() ? PQsendQueryParams(conn_, st.sql.c_str(), n_params, nullptr,
                                                      param_values_.data(), nullptr, nullptr, 0)
                                  : PQsendQueryPrepared(conn_, name.c_str(), n_params,
                                                        param_values_.data(), nullptr, nullptr, 0);
    if (!sent) {
        diag.statement_index = i;
        return fail_lost(diag, "send pipeline statement");
    }
    tracker_.expect_statement();
    sent_.push_back({i, {}});
    return error_code{};
}

// Reads results until every sync has come back. Returns what broke the session (then torn
// down); a statement's error goes to `first_error` (the first one) and `out`.
asio::awaitable<error_code> connection::receive_pipeline(const pipeline& p, pipeline_result& out,
                                                         diagnostics& diag,
                                                         error_code& first_error) {
    while (!tracker_.idle()) {
        if (auto ec = co_await wait_ready(diag))
            co_return ec;
        PGresult* raw = PQgetResult(conn_);
        result r(raw);
        pipeline_tracker::input in = pipeline_tracker::input::null;
        if (raw) {
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
        if (step.what == pipeline_tracker::step::out_of_sync) {
            if (diag.message.empty())
                diag.message = "pipeline results out of sync with the statements sent";
            teardown(state::broken);
            co_return errc::pipeline_out_of_sync;
        }
        if (step.what == pipeline_tracker::step::result_received)
            (void)take_pipeline_result(p, step.index, in, r, out, diag, first_error);
    }
    co_return error_code{};
}

// One statement's (or its Parse's) result into `out`.
error_code connection::take_pipeline_result(const pipeline& p, std::size_t sent_index,
                                            pipeline_tracker::input in, result& r,
                                            pipeline_result& out, diagnostics& diag,
                                            error_code& first_error) {
    const sent_statement& sent = sent_[sent_index];
    const std::size_t index = sent.index;
    if (in == pipeline_tracker::input::ok && !sent.prepare_name.empty()) {
        // A Parse accepted: the statement runs by name from now on.
        prepared_.add(p.statements()[index].sql, sent.prepare_name);
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
    return out.errors[index];
}

} // namespace sfbridge::pg
