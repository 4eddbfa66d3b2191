#include "bridge/loop_death.hpp"

#include "bridge/run_sync.hpp"
#include "bridge/state_sql.hpp"
#include "core/log.hpp"
#include "pg/connection.hpp"

#include <unistd.h>

namespace sfbridge::bridge {

bool runs_until_stop(std::string_view loop_name) noexcept {
    return loop_name == "stream" || loop_name == "writeback" || loop_name == "control" ||
           loop_name.starts_with("poll ") || loop_name.starts_with("refresh ");
}

namespace asio = boost::asio;

namespace {
bool record(const std::string& database_url, const std::string& schema, const loop_death& death,
            std::chrono::milliseconds deadline);
} // namespace

loop_death describe_death(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const loop_failed& x) {
        return {x.loop(), x.what()};
    } catch (const std::exception& x) {
        return {"sfbridge", x.what()};
    } catch (...) {
        return {"sfbridge", "an exception of unknown type"};
    }
}

bool record_loop_death(const std::string& database_url, const std::string& schema,
                       const loop_death& death, std::chrono::milliseconds deadline) noexcept {
    try {
        return record(database_url, schema, death, deadline);
    } catch (const std::exception& e) {
        log::warn("sfbridge", "could not record the loop's end in Postgres",
                  {{"loop", death.loop}, {"error", e.what()}});
    } catch (...) {
    }
    return false;
}

namespace {
bool record(const std::string& database_url, const std::string& schema, const loop_death& death,
            std::chrono::milliseconds deadline) {
    asio::io_context io(1);
    pg::connection conn(io.get_executor());
    const bool recorded = run_sync(io, [&]() -> asio::awaitable<bool> {
        pg::diagnostics d;
        if (!co_await conn.async_connect(database_url, d, deadline)) {
            conn.set_timeout(deadline);
            pg::result r;
            if (!co_await conn.async_query(state_sql::record_loop_death(schema),
                                           pg::params(death.loop, death.error.substr(0, 2000),
                                                      static_cast<long long>(getpid())),
                                           r, d))
                co_return true;
        }
        log::warn("sfbridge", "could not record the loop's end in Postgres",
                  {{"loop", death.loop}, {"error", d.summary()}});
        co_return false;
    }());
    conn.close();
    return recorded;
}
} // namespace

} // namespace sfbridge::bridge
