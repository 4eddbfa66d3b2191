// What the lookup of lost creates asks the trigger log (bridge/writeback_reconcile): which
// records other rows of the app hold, which the app deleted, and the app's updates of them.
#include "bridge/trigger_log.hpp"
#include "mappings/ddl.hpp"

#include <utility>

namespace sfbridge::bridge {

namespace asio = boost::asio;
using boost::system::error_code;
using pg::text_array;

namespace {
// sfids and row ids as the text arrays the lookups bind.
std::pair<std::vector<std::optional<std::string>>, std::vector<std::optional<std::string>>>
as_arrays(const std::vector<std::string>& sfids, const std::vector<std::int64_t>& own) {
    std::vector<std::optional<std::string>> rows;
    for (auto id : own)
        rows.push_back(std::to_string(id));
    return {{sfids.begin(), sfids.end()}, std::move(rows)};
}
} // namespace

// Whether the row t was inserted by the app: an INSERT of it in the trigger log or its archive.
// The inbound side's rows (an echo merged as a row of its own) have none.
std::string trigger_log::inserted_by_app(const std::string& mapped) const {
    auto in = [&](const char* log) {
        return "EXISTS (SELECT 1 FROM " + table(log) +
               " l WHERE l.table_name = " + mappings::ddl::quote_literal(mapped) +
               " AND l.record_id = t.id AND l.action = 'INSERT')";
    };
    return "(" + in("_trigger_log") + " OR " + in("_trigger_log_archive") + ")";
}

asio::awaitable<error_code> trigger_log::held_by_app_rows(const std::string& mapped,
                                                          const std::vector<std::string>& sfids,
                                                          const std::vector<std::int64_t>& own,
                                                          std::set<std::string>& out,
                                                          pg::diagnostics& d) {
    if (sfids.empty())
        co_return error_code{};
    const auto [ids, rows] = as_arrays(sfids, own);
    pg::result r;
    auto ec = co_await conn_.async_query(
        "SELECT t.sfid FROM " + table(mapped) +
            " t WHERE t.sfid = ANY($1::text[]) AND NOT (t.id = ANY($2::int[])) AND " +
            inserted_by_app(mapped),
        pg::params(text_array(ids), text_array(rows)), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i)
        out.insert(std::string(r.value(i, 0)));
    co_return ec;
}

asio::awaitable<error_code> trigger_log::never_inserted(const std::string& mapped,
                                                        const std::vector<std::int64_t>& record_ids,
                                                        std::map<std::int64_t, std::string>& out,
                                                        pg::diagnostics& d) {
    if (record_ids.empty())
        co_return error_code{};
    const auto [none, rows] = as_arrays({}, record_ids);
    auto inserted = [&](const char* log) {
        return "EXISTS (SELECT 1 FROM " + table(log) +
               " l WHERE l.table_name = $2 AND l.record_id = t.id AND ((l.action = 'INSERT' AND "
               "l.state IN ('NEW', 'PENDING', 'SUCCESS', 'MERGED')) OR l.state = 'SUCCESS' OR "
               "l.sfid IS NOT NULL))";
    };
    pg::result r;
    auto ec = co_await conn_.async_query(
        "SELECT t.id, (hstore(t.*) - ARRAY['_hc_lastop', '_hc_err']::text[])::text FROM " +
            table(mapped) + " t WHERE t.id = ANY($1::int[]) AND t.sfid IS NULL AND NOT " +
            inserted("_trigger_log") + " AND NOT " + inserted("_trigger_log_archive"),
        pg::params(text_array(rows), mapped), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i)
        out[std::stoll(std::string(r.value(i, 0)))] = r.value(i, 1);
    co_return ec;
}

asio::awaitable<error_code> trigger_log::answered_to_other_rows(
    const std::string& mapped, const std::vector<std::string>& sfids,
    const std::vector<std::int64_t>& own, std::set<std::string>& out, pg::diagnostics& d) {
    if (sfids.empty())
        co_return error_code{};
    const auto [ids, rows] = as_arrays(sfids, own);
    const std::string where = " l WHERE l.table_name = $1 AND l.action = 'INSERT' AND l.sfid = "
                              "ANY($2::text[]) AND NOT (l.record_id = ANY($3::int[]))";
    pg::result r;
    auto ec = co_await conn_.async_query(
        "SELECT l.sfid FROM " + table("_trigger_log") + where + " UNION SELECT l.sfid FROM " +
            table("_trigger_log_archive") + where,
        pg::params(mapped, text_array(ids), text_array(rows)), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i)
        out.insert(std::string(r.value(i, 0)));
    co_return ec;
}

asio::awaitable<error_code> trigger_log::deleted_by_app(const std::string& mapped,
                                                        const std::vector<std::string>& sfids,
                                                        bool of_inserted_rows_only,
                                                        std::set<std::string>& out,
                                                        pg::diagnostics& d) {
    if (sfids.empty())
        co_return error_code{};
    std::vector<std::optional<std::string>> ids(sfids.begin(), sfids.end());
    // Of rows the app inserted: a DELETE of the row the inbound side made of a lost create's
    // echo deletes that create's own record, which the create adopts (and its row then goes
    // with the record) rather than making a second one (seed 1042 of the long campaign).
    const std::string inserted = "EXISTS (SELECT 1 FROM " + table("_trigger_log") +
                                 " i WHERE i.table_name = $1 AND i.record_id = d.record_id AND "
                                 "i.action = 'INSERT' UNION ALL SELECT 1 FROM " +
                                 table("_trigger_log_archive") +
                                 " i WHERE i.table_name = $1 AND i.record_id = d.record_id AND "
                                 "i.action = 'INSERT')";
    const std::string where = " d WHERE d.table_name = $1 AND d.action = 'DELETE' AND d.sfid = "
                              "ANY($2::text[])" +
                              (of_inserted_rows_only ? " AND " + inserted : std::string());
    pg::result r;
    auto ec = co_await conn_.async_query("SELECT d.sfid FROM " + table("_trigger_log") + where +
                                             " UNION SELECT d.sfid FROM " +
                                             table("_trigger_log_archive") + where,
                                         pg::params(mapped, text_array(ids)), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i)
        out.insert(std::string(r.value(i, 0)));
    co_return ec;
}

asio::awaitable<error_code>
trigger_log::updates_sent_to(const std::string& mapped, const std::vector<std::string>& sfids,
                             std::vector<std::pair<std::string, std::string>>& out,
                             pg::diagnostics& d) {
    if (sfids.empty())
        co_return error_code{};
    std::vector<std::optional<std::string>> ids(sfids.begin(), sfids.end());
    const std::string where =
        " WHERE table_name = $1 AND action = 'UPDATE' AND sfid = ANY($2::text[]) AND (state IN "
        "('SUCCESS', 'MERGED') OR sf_result = " +
        std::to_string(sf_result_unknown) + ") AND \"values\" IS NOT NULL";
    pg::result r;
    auto ec = co_await conn_.async_query("SELECT sfid, \"values\" FROM " + table("_trigger_log") +
                                             where + " UNION ALL SELECT sfid, \"values\" FROM " +
                                             table("_trigger_log_archive") + where,
                                         pg::params(mapped, text_array(ids)), r, d);
    for (int i = 0; !ec && i < r.rows(); ++i)
        out.emplace_back(r.value(i, 0), r.value(i, 1));
    co_return ec;
}

} // namespace sfbridge::bridge
