#include "bridge/write_retry.hpp"

#include "core/backoff.hpp"
#include "core/log.hpp"
#include "pg/error.hpp"

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

asio::awaitable<error_code> apply_with_retry(const sync_context& ctx, table_writer& w,
                                             const change_batch& b, const position_update& p) {
    backoff delays({std::chrono::milliseconds(200), std::chrono::seconds(5)});
    for (int attempt = 1;; ++attempt) {
        pg::diagnostics pd;
        error_code ec;
        if (!w.is_open())
            ec = co_await w.open(ctx.cfg.database_url, pd);
        if (!ec)
            ec = co_await w.apply(b, p, pd);
        if (!ec)
            co_return ec;
        const bool transient =
            ec == pg::condition::connection_lost || ec == pg::condition::retryable || !w.is_open();
        if (!transient)
            co_return ec; // the caller decides what to do with data Postgres refuses
        log::warn(
            "postgres", "write failed, retrying",
            {{"error", pd.summary().empty() ? ec.message() : pd.summary()}, {"attempt", attempt}});
        if (!w.is_open() || w.connection().is_broken())
            w.connection().close();
        if (ctx.stop.stopping() && attempt > 3)
            co_return ec;
        co_await ctx.stop.sleep(delays.next());
    }
}

} // namespace sfbridge::bridge
