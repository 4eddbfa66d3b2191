#include "bridge/refused_retry.hpp"

#include "bridge/error_log.hpp"
#include "bridge/state_sql.hpp"
#include "bridge/write_retry.hpp"
#include "core/log.hpp"
#include "mappings/soql.hpp"
#include "mappings/values.hpp"

#include <algorithm>
#include <set>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

std::string refused_query(const std::string& object, const std::vector<std::string>& fields,
                          const std::vector<std::string>& ids, bool with_isdeleted,
                          const std::string& filter) {
    std::string soql = "SELECT ";
    for (std::size_t i = 0; i < fields.size(); ++i)
        soql += (i ? ", " : "") + fields[i];
    if (with_isdeleted && std::none_of(fields.begin(), fields.end(),
                                       [](const std::string& f) { return f == "IsDeleted"; }))
        soql += ", IsDeleted";
    soql += " FROM " + object + " WHERE Id IN (";
    for (std::size_t i = 0; i < ids.size(); ++i)
        soql += (i ? "," : "") + mappings::soql::quote(ids[i]);
    // A record outside the row filter is not brought into the table (the poll of its change
    // removed its row, or will).
    return soql + ")" +
           mappings::soql::filter_clause(filter, mappings::soql::filter_position::after_condition);
}

namespace {

// The sfids of this mapping's unresolved refusals, the next ones after its cursor (from the
// start again once the end is reached).
asio::awaitable<error_code> refused_ids(table_writer& w, mapping_runtime& m,
                                        std::vector<std::string>& out) {
    pg::result r;
    pg::diagnostics d;
    auto ec = co_await w.query(state_sql::refused_sfids(w.schema()),
                               pg::params(m.m.object_name, static_cast<long>(refused_per_retry),
                                          static_cast<long>(m.refused_cursor)),
                               r, d);
    for (int i = 0; !ec && i < r.rows(); ++i) {
        out.emplace_back(r.value(i, 0));
        m.refused_cursor = std::stoll(std::string(r.value(i, 1)));
    }
    if (!ec && static_cast<std::size_t>(r.rows()) < refused_per_retry)
        m.refused_cursor = 0; // the end: the next retry starts over
    co_return ec;
}

// The records as Salesforce has them now: changes, and deletes for those in the recycle bin.
asio::awaitable<error_code> fetch(const sync_context& ctx, table_writer& w, mapping_runtime& m,
                                  const std::vector<std::string>& ids, change_batch& batch) {
    const std::string retry_source = "retry", no_payload;
    const salesforce::rest_client::page_handler on_page =
        [&](salesforce::query_page& p) -> asio::awaitable<error_code> {
        for (const auto& rec : p.records) {
            const auto* deleted = rec.get("IsDeleted");
            const auto* id = rec.get("Id");
            const auto* stamp = rec.get("SystemModstamp");
            row_issue issue;
            if (!deleted || deleted->raw != "true" || !id || !stamp) {
                if (batch.add_record(rec, issue) != row_outcome::added)
                    co_await record_error(w, m, retry_source, 0, issue, no_payload);
                continue;
            }
            (void)batch.add_delete_of(rec);
        }
        co_return error_code{};
    };
    salesforce::diagnostics sd;
    const auto soql = refused_query(m.m.object_name, m.m.field_names(), ids, m.m.has_isdeleted,
                                    m.m.filter_soql());
    co_return co_await ctx.rest.query(soql, m.m.has_isdeleted, 2000, on_page, sd, m.calls());
}

} // namespace

asio::awaitable<bool> retry_refused(const sync_context& ctx, table_writer& w, mapping_runtime& m) {
    std::vector<std::string> ids;
    if (co_await refused_ids(w, m, ids))
        co_return true;
    if (ids.empty())
        co_return false;
    change_batch batch(m.m);
    if (co_await fetch(ctx, w, m, ids, batch))
        co_return true;
    std::vector<row_issue> refused;
    const position_update none;
    if (co_await apply_isolating(ctx, w, batch, none, refused))
        co_return true;
    for (const auto& issue : refused)
        co_await record_error(w, m, "retry", 0, issue, std::string());
    // The rest is in the table now, or no longer in Salesforce at all (purged).
    std::set<std::string> still;
    for (const auto& issue : refused)
        still.insert(issue.sfid);
    std::vector<std::optional<std::string>> resolved;
    for (const auto& id : ids)
        if (!still.contains(id))
            resolved.emplace_back(id);
    if (resolved.empty())
        co_return !still.empty();
    pg::result r;
    pg::diagnostics d;
    const auto ec = co_await w.query(state_sql::resolve_refused(w.schema()),
                                     pg::params(m.m.object_name, pg::text_array(resolved)), r, d);
    if (!ec)
        log::info(
            "sync",
            "records Postgres had refused are resolved: in the table now, or gone from Salesforce",
            {{"mapping", m.m.object_name},
             {"records", static_cast<unsigned long>(resolved.size())}});
    co_return !still.empty();
}

asio::awaitable<error_code> reread_adopted(const sync_context& ctx, table_writer& w,
                                           mapping_runtime& m) {
    const std::string source = "reread";
    for (;;) {
        pg::result r;
        pg::diagnostics d;
        if (auto ec =
                co_await w.query(state_sql::reread_sfids(w.schema()),
                                 pg::params(m.m.table, static_cast<long>(refused_per_retry)), r, d))
            co_return ec;
        std::vector<std::optional<std::string>> queued;
        std::vector<std::string> ids;
        for (int i = 0; i < r.rows(); ++i) {
            ids.emplace_back(r.value(i, 0));
            queued.emplace_back(ids.back());
        }
        if (ids.empty())
            co_return error_code{};
        change_batch batch(m.m);
        if (auto ec = co_await fetch(ctx, w, m, ids, batch))
            co_return ec;
        std::vector<row_issue> refused;
        const position_update none;
        if (auto ec = co_await apply_isolating(ctx, w, batch, none, refused))
            co_return ec;
        for (const auto& issue : refused) // retried with the other refusals
            co_await record_error(w, m, source, 0, issue, std::string());
        if (auto ec = co_await w.query(state_sql::forget_reread(w.schema()),
                                       pg::params(m.m.table, pg::text_array(queued)), r, d))
            co_return ec;
        log::info("sync",
                  "records the write-back queued are read again from Salesforce (adopted, or "
                  "changed in fields never written back)",
                  {{"mapping", m.m.object_name},
                   {"records", static_cast<unsigned long>(ids.size())},
                   {"in_the_batch", static_cast<unsigned long>(batch.size())}});
        if (ids.size() < refused_per_retry)
            co_return error_code{};
    }
}

} // namespace sfbridge::bridge
