#include "bridge/write_retry.hpp"

#include "bridge/widen.hpp"
#include "bridge/write_failure.hpp"
#include "core/backoff.hpp"
#include "core/log.hpp"

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

asio::awaitable<error_code> apply_with_retry(const sync_context& ctx, table_writer& w,
                                             const change_batch& b, const position_update& pos,
                                             pg::diagnostics& pd) {
    position_update p = pos;
    p.epoch = ctx.epoch_of(b.mapping().object_name);
    backoff delays({std::chrono::milliseconds(200), std::chrono::seconds(5)});
    for (int attempt = 1;; ++attempt) {
        pd.clear();
        error_code ec;
        if (!w.is_open())
            ec = co_await w.open(ctx.cfg.database_url, pd);
        if (!ec && w.positions_unsure())
            co_return make_error_code(write_errc::positions_unsure); // the owner reads them
        if (!ec)
            ec = co_await w.apply(b, p, pd);
        if (!ec) {
            ctx.tombstones.added(b.deletes()); // each delete writes one (bridge/merge_sql)
            co_return ec;
        }
        if (w.is_open() && classify_write_failure(ec) == write_failure::refused_row)
            co_return ec; // the same rows would be refused again: the caller isolates them
        if (classify_write_failure(ec) == write_failure::fenced) {
            log::warn("sync", "another replica leads the mapping now: this one stops writing it",
                      {{"mapping", b.mapping().object_name}});
            if (ctx.fenced)
                ctx.fenced();
            co_return ec;
        }
        log::warn(
            "postgres", "write failed, retrying",
            {{"error", pd.summary().empty() ? ec.message() : pd.summary()}, {"attempt", attempt}});
        if (!w.is_open() || w.connection().is_broken()) {
            w.connection().close();
        } else if (w.connection().in_transaction()) {
            // A statement of "BEGIN; ..." that failed (a statement timeout on the lock) left
            // the transaction open and aborted: every retry would fail with 25P02 (found by the
            // chaos campaign's statement_timeout fault).
            pg::diagnostics ignore;
            if (co_await w.connection().async_exec("ROLLBACK", ignore))
                w.connection().close();
        }
        if (ctx.stop.stopping() && attempt > 3)
            co_return ec;
        co_await ctx.stop.sleep(delays.next());
    }
}

namespace {
row_issue refusal(const change_batch& b, const pg::diagnostics& pd) {
    // The version is named, so that a later version refused alike is kept as well (the errors
    // table keeps one row per sfid and message), and the overlapping polls that meet the same
    // version again add nothing.
    // Not the server's detail: for a check constraint it is the whole row, which does not
    // belong in a log line.
    return {storable_sfid(b.sfid(0)),
            "Postgres refused the version of " + b.modstamp(0) + " (SQLSTATE " + pd.sqlstate +
                "): " + pd.message,
            true};
}
} // namespace

asio::awaitable<error_code> apply_isolating(const sync_context& ctx, table_writer& w,
                                            const change_batch& b, const position_update& p,
                                            std::vector<row_issue>& refused) {
    pg::diagnostics pd;
    auto ec = co_await apply_with_retry(ctx, w, b, p, pd);
    if (!ec || b.empty() || classify_write_failure(ec) != write_failure::refused_row)
        co_return ec;
    if (b.size() == 1) {
        // Too long for its column: the field may have grown in Salesforce. Widened from a
        // fresh describe, the record goes in after all.
        if (pd.sqlstate == "22001") {
            pg::diagnostics again;
            if (co_await widen_after_refusal(ctx, w, b.mapping()))
                if (!co_await apply_with_retry(ctx, w, b, p, again))
                    co_return error_code{};
        }
        refused.push_back(refusal(b, pd));
        const change_batch none = b.part(0, 0); // the position moves without the record
        co_return co_await apply_with_retry(ctx, w, none, p, pd);
    }
    // Halves, until the refused records are alone: about 2 log2(n) transactions for one bad
    // record in n, where row by row would take n. Only the last part moves the position: a
    // crash in between replays the first, which the SystemModstamp rule makes harmless.
    const std::size_t half = b.size() / 2;
    const change_batch first = b.part(0, half);
    const change_batch second = b.part(half, b.size());
    const position_update none;
    ec = co_await apply_isolating(ctx, w, first, none, refused);
    if (ec)
        co_return ec;
    co_return co_await apply_isolating(ctx, w, second, p, refused);
}

} // namespace sfbridge::bridge
