#include "bridge/sf_clock.hpp"

#include "core/calendar.hpp"
#include "core/log.hpp"

namespace sfbridge::bridge {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::optional<std::int64_t> clock_offset(std::int64_t local_ms, std::string_view date_header) {
    const auto sf = calendar::parse_http_date(date_header);
    if (!sf)
        return std::nullopt;
    // The header has whole seconds (Salesforce's time was somewhere in that second: its middle
    // is the best guess) and was written before the answer crossed the network. A difference
    // under 2 s is within what it can tell and is taken as none: taking it would put the end
    // of a poll's window up to a second behind Salesforce's time, and the changes of that
    // second would wait a whole poll interval for the next window.
    const std::int64_t offset = *sf + 500 - local_ms;
    return offset > -2000 && offset < 2000 ? 0 : offset;
}

bool skew_worth_warning(std::int64_t offset_ms) noexcept {
    return offset_ms > 10000 || offset_ms < -10000;
}

asio::awaitable<void> measure_clock(const sync_context& ctx, mapping_runtime& m) {
    const auto now = std::chrono::steady_clock::now();
    if (m.sf_clock_measured != std::chrono::steady_clock::time_point{} &&
        now - m.sf_clock_measured < std::chrono::minutes(10))
        co_return;
    salesforce::rest_response r;
    salesforce::diagnostics sd;
    if (co_await ctx.rest.async_call(http::verb::get, "/services/data", std::string(), r, sd)) {
        log::debug("sync", "reading Salesforce's clock failed", {{"error", sd.summary()}});
        co_return;
    }
    const auto offset = clock_offset(calendar::now_ms(), r.headers[http::field::date]);
    if (!offset)
        co_return;
    m.sf_clock_offset_ms = *offset;
    m.sf_clock_measured = now;
    // Once per process: every mapping measures the same clock.
    static bool warned = false;
    if (!warned && skew_worth_warning(*offset)) {
        warned = true;
        log::warn("sync",
                  "the local clock and Salesforce's differ; polls follow Salesforce's clock",
                  {{"salesforce_minus_local_ms", static_cast<long long>(*offset)}});
    }
}

std::int64_t salesforce_now(const mapping_runtime& m) noexcept {
    return calendar::now_ms() + m.sf_clock_offset_ms;
}

} // namespace sfbridge::bridge
