#include "bridge/widen.hpp"

#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "mappings/describe.hpp"
#include "mappings/types.hpp"

#include <cstdlib>
#include <map>

namespace sfbridge::bridge {

namespace asio = boost::asio;

asio::awaitable<bool> widen_after_refusal(const sync_context& ctx, table_writer& w,
                                          const mappings::resolved_mapping& m) {
    std::string json, error;
    salesforce::diagnostics sd;
    if (co_await ctx.rest.describe(m.object_name, json, sd))
        co_return false; // the refusal is recorded; the next start widens
    const auto describe = mappings::parse_describe(json, error);
    if (!describe)
        co_return false;
    mappings::resolved_mapping now = m;
    for (auto& f : now.fields)
        if (const auto* d = describe->field(f.sf.info.name))
            if (auto type = mappings::postgres_type(d->info))
                f.pg_type = *type;
    pg::diagnostics pd;
    pg::result cols;
    if (co_await w.query(std::string(mappings::ddl::existing_columns_query()),
                         pg::params(ctx.cfg.schema, m.table), cols, pd))
        co_return false;
    std::map<std::string, int> lengths;
    for (int i = 0; i < cols.rows(); ++i)
        lengths[std::string(cols.value(i, 0))] = std::atoi(std::string(cols.value(i, 1)).c_str());
    const std::string sql = mappings::ddl::widen_columns(ctx.cfg.schema, now, lengths);
    if (sql.empty())
        co_return false;
    if (co_await w.exec(sql, pd)) // (not after ||: GCC 12 would run it regardless)
        co_return false;
    log::info("sync", "a value was longer than its column: widened to the field's length now",
              {{"mapping", m.object_name}});
    co_return true;
}

} // namespace sfbridge::bridge
