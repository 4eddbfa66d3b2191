#include "bridge/error_log.hpp"

#include "bridge/state_sql.hpp"
#include "core/calendar.hpp"
#include "core/log.hpp"

namespace sfbridge::bridge {

boost::asio::awaitable<void> record_error(table_writer& w, mapping_runtime& m,
                                          const std::string& channel, std::int64_t replay_id,
                                          const row_issue& issue, const std::string& payload) {
    ++m.stats.errors;
    const std::string message = utf8::printable(issue.message, 10000);
    m.stats.recent_errors.push_back(
        {calendar::now_ms(), issue.sfid, utf8::printable(issue.message, 500)});
    if (m.stats.recent_errors.size() > mapping_stats::recent_error_count)
        m.stats.recent_errors.pop_front();
    log::error("sync", "change not applied as sent",
               {{"mapping", m.m.object_name},
                {"channel", channel},
                {"replay_id", static_cast<long long>(replay_id)},
                {"sfid", issue.sfid},
                {"error", message}});
    pg::diagnostics pd;
    pg::result r;
    const std::optional<std::string> sfid =
        issue.sfid.empty() ? std::nullopt : std::optional<std::string>(issue.sfid);
    (void)co_await w.query(state_sql::insert_error(w.schema()),
                           pg::params(m.m.object_name, channel, static_cast<long long>(replay_id),
                                      message, utf8::printable(payload, 100000), sfid,
                                      issue.retry && sfid.has_value()),
                           r, pd);
}

boost::asio::awaitable<void> record_error(table_writer& w, mapping_runtime& m,
                                          const std::string& channel, std::int64_t replay_id,
                                          const std::string& message, const std::string& payload) {
    // Named: GCC 12 destroys a braced temporary in a co_await expression twice.
    const row_issue issue{{}, message};
    co_await record_error(w, m, channel, replay_id, issue, payload);
}

} // namespace sfbridge::bridge
