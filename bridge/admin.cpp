#include "bridge/admin.hpp"

#include "bridge/http_endpoint.hpp"
#include "bridge/run_sync.hpp"
#include "bridge/state_sql.hpp"
#include "core/log.hpp"
#include "mappings/ddl.hpp"
#include "mappings/types.hpp"
#include "net/http_client.hpp"
#include "pg/connection.hpp"

#include <cctype>
#include <cstdio>
#include <iostream>

namespace sfbridge::bridge {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

std::string cell(const pg::result& r, int row, int col) {
    return std::string(r.value(row, col));
}

asio::awaitable<int> failed_writes(pg::connection& conn, const std::string& schema, const cli& c,
                                   bool retry) {
    pg::params p;
    const bool by_table = c.has("mapping"), by_id = c.has("id");
    if (by_table)
        p.add(mappings::column_name(c.options.at("mapping")));
    if (by_id)
        p.add(c.options.at("id"));
    pg::result r;
    pg::diagnostics d;
    if (retry) {
        if (co_await conn.async_query(state_sql::retry_failed_writes(schema, by_table, by_id), p, r,
                                      d)) {
            log::error("sfbridge", "retry failed: " + d.summary());
            co_return 2;
        }
        std::cout << (r.rows() ? cell(r, 0, 0) : "0") << " failed writes set back to NEW\n";
        co_return 0;
    }
    if (co_await conn.async_query(state_sql::failed_writes(schema, by_table, by_id), p, r, d)) {
        log::error("sfbridge", "reading the trigger log failed: " + d.summary());
        co_return 2;
    }
    std::printf("%-8s %-24s %9s %-7s %-19s %s\n", "id", "table", "record", "action", "when (UTC)",
                "message");
    for (int i = 0; i < r.rows(); ++i)
        std::printf("%-8s %-24s %9s %-7s %-19s %s%s\n", cell(r, i, 0).c_str(),
                    cell(r, i, 1).c_str(), cell(r, i, 2).c_str(), cell(r, i, 3).c_str(),
                    cell(r, i, 5).c_str(), cell(r, i, 6) == "t" ? "(archived) " : "",
                    cell(r, i, 4).c_str());
    co_return 0;
}

asio::awaitable<int> request_reload(pg::connection& conn, const std::string& schema, const cli& c) {
    if (c.has("schema-only")) {
        pg::result r;
        pg::diagnostics d;
        if (co_await conn.async_query(state_sql::request_schema_reload(schema), pg::params(), r,
                                      d)) {
            log::error("sfbridge", "no sfbridge state in schema " + schema + ": " + d.summary());
            co_return 2;
        }
        std::cout << "a running sfbridge starts again within 2 seconds, reading the mapping file "
                     "and the org's describes again\n";
        co_return 0;
    }
    if (c.positional.size() < 2)
        throw std::runtime_error("reload: which object? (or --schema-only)");
    const std::string& object = c.positional[1];
    pg::result r;
    pg::diagnostics d;
    auto ec =
        co_await conn.async_query(state_sql::request_reload(schema), pg::params(object), r, d);
    if (ec || r.affected_rows() == 0) {
        log::error("sfbridge", "no mapping named " + object + " has been synced" +
                                   (ec ? ": " + d.summary() : std::string()));
        co_return 2;
    }
    std::cout << object
              << " will be loaded again: by a running sfbridge within 2 seconds, or when it "
                 "next starts\n";
    co_return 0;
}

// The loops that ended the process in the last week, newest first.
asio::awaitable<int> loop_deaths(pg::connection& conn, const std::string& schema) {
    pg::result r;
    pg::diagnostics d;
    if (co_await conn.async_query(state_sql::loop_deaths(schema), r, d)) {
        // A schema from before _sfbridge_loops: nothing has been recorded there.
        if (d.sqlstate == "42P01")
            co_return 0;
        log::error("sfbridge", "reading _sfbridge_loops failed: " + d.summary());
        co_return 2;
    }
    for (int i = 0; i < r.rows(); ++i) {
        const std::string deaths = cell(r, i, 1);
        const std::string times =
            deaths == "1" ? "" : " (" + deaths + " times, at most a week apart)";
        const std::string since =
            cell(r, i, 4).empty()
                ? "sfbridge exited and has not started since"
                : "sfbridge exited and started again at " + cell(r, i, 4) + " UTC";
        std::printf("loop \"%s\" died at %s UTC%s: %s\n  %s\n", cell(r, i, 0).c_str(),
                    cell(r, i, 2).c_str(), times.c_str(), cell(r, i, 3).c_str(), since.c_str());
    }
    co_return 0;
}

// The replicas (issue 19): which are live (their lock session is connected) and what each leads.
asio::awaitable<int> replicas(pg::connection& conn, const std::string& schema) {
    pg::result r;
    pg::diagnostics d;
    if (co_await conn.async_query(state_sql::replicas(schema), r, d)) {
        if (d.sqlstate == "42P01") // a schema from before replicas
            co_return 0;
        log::error("sfbridge", "reading _sfbridge_replicas failed: " + d.summary());
        co_return 2;
    }
    if (r.rows() > 0)
        std::printf("\n%-36s %-5s %-19s %s\n", "replica (host-pid-id)", "", "heartbeat (UTC)",
                    "leads");
    for (int i = 0; i < r.rows(); ++i) {
        std::string leads = cell(r, i, 5);
        if (leads.empty())
            leads = "-";
        std::printf("%-36s %-5s %-19s %s\n", cell(r, i, 0).c_str(), cell(r, i, 3).c_str(),
                    cell(r, i, 4).c_str(), leads.c_str());
    }
    co_return 0;
}

asio::awaitable<int> status(pg::connection& conn, const std::string& schema) {
    pg::result r;
    pg::diagnostics d;
    if (co_await conn.async_query(state_sql::status(schema), r, d)) {
        log::error("sfbridge", "no sfbridge state in schema " + schema + ": " + d.summary());
        co_return 2;
    }
    std::printf("%-24s %-10s %10s  %-19s %10s %12s %6s  %s\n", "mapping", "state", "rows",
                "last event (UTC)", "polled", "replay id", "errors", "leader");
    for (int i = 0; i < r.rows(); ++i) {
        pg::result count;
        const auto cec =
            co_await conn.async_query(state_sql::count_rows(schema, r.value(i, 1)), count, d);
        std::string leader = cell(r, i, 9);
        if (leader.empty())
            leader = "-";
        std::printf("%-24s %-10s %10s  %-19s %10s %12s %6s  %s\n", cell(r, i, 0).c_str(),
                    cell(r, i, 2).c_str(), cec ? "?" : cell(count, 0, 0).c_str(),
                    cell(r, i, 3).c_str(), cell(r, i, 4).c_str(), cell(r, i, 5).c_str(),
                    cell(r, i, 6).c_str(), leader.c_str());
        if (!cell(r, i, 10).empty())
            std::printf("  formula and roll-up fields refreshed %s UTC: %s records read, %s rows "
                        "changed\n",
                        cell(r, i, 10).c_str(), cell(r, i, 11).c_str(), cell(r, i, 12).c_str());
        if (cell(r, i, 7) != "0" && !cell(r, i, 8).empty())
            std::printf("  load failed %s times in a row, last: %s\n", cell(r, i, 7).c_str(),
                        cell(r, i, 8).c_str());
    }
    if (const int rc = co_await replicas(conn, schema))
        co_return rc;
    co_return co_await loop_deaths(conn, schema);
}

} // namespace

namespace {

// GET `path` from the running process's HTTP endpoint (SFBRIDGE_HTTP): `status --json` prints
// /status, `health` asks /healthz (the container's HEALTHCHECK, which has no curl). Exit 0 on
// 200, else `failed` (2; 1 for health, as Docker's HEALTHCHECK reserves 2) with what went wrong.
int get_from_process(const settings& s, const cli& c, const std::string& path, bool print,
                     int failed) {
    const auto address = option_or_setting(c, "http", s, "SFBRIDGE_HTTP", "");
    if (address.empty()) {
        log::error("sfbridge", "this asks the running sfbridge: set SFBRIDGE_HTTP (or --http) to "
                               "the address it serves on");
        return failed;
    }
    auto ep = parse_listen_address(address);
    if (ep.address().is_unspecified()) // 0.0.0.0 or :: serve this machine too
        ep.address(ep.address().is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                                        : asio::ip::address(asio::ip::address_v6::loopback()));
    const std::string host =
        ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    const auto origin = net::parse_url("http://" + host + ":" + std::to_string(ep.port()));
    if (!origin)
        throw std::runtime_error("bad --http address " + address);
    asio::io_context io(1);
    net::client_options o;
    o.allow_plain_http = true; // the address is this machine's or the operator's own
    net::http_connection conn(io.get_executor(), *origin, o, nullptr);
    net::header_list headers;
    if (auto token = s.get("SFBRIDGE_HTTP_TOKEN"); !token.empty()) {
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
            token.pop_back();
        if (!token.empty())
            headers.emplace_back("Authorization", "Bearer " + token);
    }
    return run_sync(io, [&]() -> asio::awaitable<int> {
        net::http_response r;
        net::diagnostics d;
        if (co_await conn.async_request(http::verb::get, path, std::string(), headers, r, d,
                                        std::chrono::seconds(10))) {
            log::error("sfbridge", "sfbridge is not answering at " + address + ": " + d.summary());
            co_return failed;
        }
        if (r.status != 200) {
            log::error("sfbridge", "GET " + path + " at " + address + " answered " +
                                       std::to_string(r.status) +
                                       (r.status == 401 ? " (set SFBRIDGE_HTTP_TOKEN)" : ""));
            co_return failed;
        }
        if (print)
            std::printf("%s\n", r.body.c_str());
        co_return 0;
    }());
}

} // namespace

int run_admin_command(const settings& s, const cli& c, const std::string& what) {
    if (what == "status" && c.has("json"))
        return get_from_process(s, c, "/status", true, 2);
    if (what == "health")
        return get_from_process(s, c, "/healthz", false, 1);
    const std::string schema = option_or_setting(c, "schema", s, "SFBRIDGE_SCHEMA", "salesforce");
    if (!mappings::ddl::is_valid_schema_name(schema))
        throw std::runtime_error("bad schema name " + schema);
    asio::io_context io(1);
    pg::connection conn(io.get_executor());
    return run_sync(io, [&]() -> asio::awaitable<int> {
        pg::diagnostics d;
        if (co_await conn.async_connect(s.database_url(), d)) {
            log::error("sfbridge", "the database is unreachable: " + d.summary());
            co_return 2;
        }
        if (what == "errors" || what == "retry")
            co_return co_await failed_writes(conn, schema, c, what == "retry");
        if (what == "reload")
            co_return co_await request_reload(conn, schema, c);
        co_return co_await status(conn, schema);
    }());
}

} // namespace sfbridge::bridge
