#include "bridge/error_log.hpp"

#include "bridge/state_sql.hpp"
#include "core/log.hpp"

namespace sfbridge::bridge {

boost::asio::awaitable<void> record_error(table_writer& w, mapping_runtime& m,
                                          const std::string& channel, std::int64_t replay_id,
                                          const std::string& message, const std::string& payload) {
    ++m.stats.errors;
    log::error("sync", "change not applied",
               {{"mapping", m.m.object_name},
                {"channel", channel},
                {"replay_id", static_cast<long long>(replay_id)},
                {"error", message}});
    pg::diagnostics pd;
    pg::result r;
    (void)co_await w.query(state_sql::insert_error(w.schema()),
                           pg::params(m.m.object_name, channel, static_cast<long long>(replay_id),
                                      message, payload.substr(0, 100000)),
                           r, pd);
}

} // namespace sfbridge::bridge
