// `sfbridge mappings add` and `sfbridge mappings plan`: the I/O around mappings/mapping_builder
// and bridge/mapping_plan. Neither changes the database or the org; `add` writes the file.
#include "bridge/commands.hpp"
#include "bridge/mapping_plan.hpp"
#include "bridge/provision.hpp"
#include "bridge/run_sync.hpp"
#include "bridge/schema_change.hpp"
#include "bridge/state_sql.hpp"
#include "mappings/ddl.hpp"
#include "mappings/mapping_builder.hpp"
#include "mappings/soql.hpp"
#include "pg/connection.hpp"
#include "salesforce/push_topics.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace sfbridge::bridge {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        while (!item.empty() && item.front() == ' ')
            item.erase(0, 1);
        while (!item.empty() && item.back() == ' ')
            item.pop_back();
        if (!item.empty())
            out.push_back(item);
    }
    return out;
}

// The file as it is, or an empty one when it does not exist yet.
mappings::mapping_file existing_file(const std::string& path) {
    if (!std::filesystem::exists(path))
        return {};
    cli c;
    c.options["mappings"] = path;
    return load_mappings(c);
}

// Written to a new file beside it, flushed to disk with the original's mode, and renamed over
// it (through a symlink, to its target): a crash leaves the old file or the new one.
void write_file(const std::string& path, const std::string& text) {
    namespace fs = std::filesystem;
    const fs::path target = fs::exists(path) ? fs::canonical(path) : fs::absolute(path);
    std::string tmp = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX"));
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        throw std::runtime_error("cannot write beside " + target.string());
    const mode_t mode =
        fs::exists(target) ? static_cast<mode_t>(fs::status(target).permissions()) : 0644;
    bool ok = ::fchmod(fd, mode) == 0;
    for (std::size_t done = 0; ok && done < text.size();) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    ok = ok && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || std::rename(tmp.c_str(), target.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + target.string());
    }
    if (const int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY); dir >= 0) {
        (void)::fsync(dir); // the rename itself, on disk
        ::close(dir);
    }
}

// Logs in (a failure throws): the first step of each command's coroutine.
asio::awaitable<void> login(salesforce::rest_client& rest) {
    salesforce::diagnostics d;
    if (co_await rest.async_login(d))
        throw std::runtime_error("Salesforce login failed: " + d.summary());
}

int add(const settings& s, const cli& c) {
    if (c.positional.size() < 3)
        throw std::runtime_error("mappings add: which object? (sfbridge mappings add Contact "
                                 "--fields LastName,Email --mappings FILE)");
    const auto path = c.options.find("mappings");
    if (path == c.options.end())
        throw std::runtime_error("--mappings FILE is required (created when it does not exist)");
    mappings::mapping_request req;
    req.all = c.has("all");
    if (auto f = c.options.find("fields"); f != c.options.end())
        req.fields = split_commas(f->second);
    if (req.all == !req.fields.empty())
        throw std::runtime_error("mappings add: give --fields A,B,C or --all");
    const std::string access = c.has("access") ? c.options.at("access") : "read_only";
    if (access != "read_only" && access != "read_write")
        throw std::runtime_error("--access must be read_only or read_write, not " + access);
    req.access = access == "read_write" ? mappings::access_mode::read_write
                                        : mappings::access_mode::read_only;
    auto file = existing_file(path->second);

    asio::io_context io(1);
    salesforce::rest_client rest(io.get_executor(), s.salesforce_config());
    std::string json;
    run_sync(io, [&]() -> asio::awaitable<int> {
        co_await login(rest);
        salesforce::diagnostics d;
        if (co_await rest.describe(c.positional[2], json, d))
            throw std::runtime_error("describe of " + c.positional[2] + " failed: " + d.summary());
        co_return 0;
    }());
    std::string error;
    const auto describe = mappings::parse_describe(json, error);
    if (!describe)
        throw std::runtime_error("the describe of " + c.positional[2] + ": " + error);
    auto built = mappings::build_mapping(*describe, req, error);
    if (!built)
        throw std::runtime_error("mappings add: " + error);
    // Checked as a run would check it (a read-write field Salesforce will not let it write).
    std::vector<std::string> errors, warnings;
    if (!mappings::resolve_mapping(built->m, &*describe, errors, warnings))
        throw std::runtime_error("mappings add: " + (errors.empty() ? "" : errors.front()));
    const std::size_t fields = built->m.fields.size();
    if (!mappings::add_mapping(file, std::move(built->m), error))
        throw std::runtime_error("mappings add: " + error);
    write_file(path->second, mappings::write_mapping_file(file));
    std::cout << "added " << describe->name << " (" << access << ", " << fields
              << " fields, streamed, polled every 600 s) to " << path->second << "\n";
    for (const auto& n : built->notes)
        std::cout << "  note: " << n << "\n";
    for (const auto& w : warnings)
        std::cout << "  warning: " << w << "\n";
    return 0;
}

// What Postgres holds for each mapping: its table's columns, and whether it is loaded.
asio::awaitable<void> read_tables(const std::string& url, const std::string& schema,
                                  std::vector<mapping_now>& ms) {
    pg::connection conn(co_await asio::this_coro::executor);
    pg::diagnostics d;
    if (co_await conn.async_connect(url, d))
        throw std::runtime_error("Postgres unreachable: " + d.summary() + " (check DATABASE_URL)");
    const std::string state =
        mappings::quote_identifier(schema) + "." + mappings::quote_identifier("_sfbridge_state");
    pg::result r;
    if (co_await conn.async_query("SELECT to_regclass($1) IS NOT NULL", pg::params(state), r, d))
        throw std::runtime_error("reading the schema failed: " + d.summary());
    const bool has_state = r.value(0, 0) == "t";
    for (auto& x : ms) {
        if (co_await conn.async_query(std::string(mappings::ddl::existing_columns_query()),
                                      pg::params(schema, x.m->table), r, d))
            throw std::runtime_error("reading the columns of " + x.m->table +
                                     " failed: " + d.summary());
        x.table.exists = r.rows() > 0;
        for (int i = 0; i < r.rows(); ++i)
            x.table.columns[std::string(r.value(i, 0))] =
                std::atoi(std::string(r.value(i, 1)).c_str());
        if (!has_state)
            continue;
        if (co_await conn.async_query("SELECT load_state, columns FROM " + state +
                                          " WHERE object_name = $1",
                                      pg::params(x.m->object_name), r, d))
            throw std::runtime_error("reading sfbridge's state failed: " + d.summary());
        x.table.loaded = r.rows() == 1 && r.value(0, 0) == "loaded";
        if (r.rows() == 1) {
            // As a start decides (bridge/schema_change): added columns are back-filled, a new
            // row filter loads again.
            const auto diff =
                schema_change::compare(r.value(0, 1), state_sql::load_signature(*x.m));
            x.table.reload = diff.reload;
            x.table.backfill = schema_change::backfill_after({}, diff, *x.m);
        }
    }
}

const mappings::json_value* member(const mappings::json_value::object* o, const char* key) {
    if (!o)
        return nullptr;
    const auto it = o->find(key);
    return it == o->end() ? nullptr : &it->second;
}

// What the org holds: the records each load would read, the hc_ PushTopics, the API limit.
asio::awaitable<void> read_org(salesforce::rest_client& rest, std::vector<mapping_now>& ms,
                               org_now& org) {
    salesforce::diagnostics d;
    for (auto& x : ms) {
        if (!needs_count(x))
            continue;
        const std::string q = "SELECT COUNT() FROM " + x.m->object_name +
                              mappings::soql::filter_clause(
                                  x.m->filter_soql(), mappings::soql::filter_position::whole_where);
        auto ec = co_await rest.query(
            q, false, 0,
            [&](salesforce::query_page& p) -> asio::awaitable<boost::system::error_code> {
                x.records = p.total_size;
                co_return boost::system::error_code{};
            },
            d);
        if (ec) // the plan says the records were not counted
            std::cerr << "warning: counting " << x.m->object_name << " failed: " << d.summary()
                      << "\n";
    }
    std::vector<salesforce::existing_topic> existing;
    if (co_await salesforce::list_push_topics(rest, existing, d))
        throw std::runtime_error("reading the org's PushTopics failed: " + d.summary());
    std::vector<salesforce::topic_spec> specs;
    for (const auto& x : ms)
        if (x.m->config.sf_notify_enabled && !x.m->options.change_data_capture)
            specs.push_back(salesforce::topic_spec{x.m->object_name, x.m->field_names()});
    org.topics = salesforce::plan_push_topics(specs, existing, org.topic_errors);
    salesforce::rest_response r;
    if (co_await rest.async_call(http::verb::get, rest.data_path("/limits"), std::string(), r, d))
        co_return; // the report goes without the org's limit
    std::string error;
    const auto doc = mappings::parse_json(r.body, error);
    const auto* calls = doc ? member(doc->as_object(), "DailyApiRequests") : nullptr;
    const auto* max = calls ? member(calls->as_object(), "Max") : nullptr;
    const auto* remaining = calls ? member(calls->as_object(), "Remaining") : nullptr;
    if (max && max->as_int())
        org.daily_api_max = *max->as_int();
    if (remaining && remaining->as_int())
        org.daily_api_remaining = *remaining->as_int();
}

int plan(const settings& s, const cli& c) {
    const auto file = load_mappings(c);
    const auto cfg = engine_options(s, c);
    asio::io_context io(1);
    salesforce::rest_client rest(io.get_executor(), s.salesforce_config());
    resolution res;
    std::vector<mapping_now> ms;
    org_now org;
    run_sync(io, [&]() -> asio::awaitable<int> {
        co_await login(rest);
        salesforce::diagnostics d;
        if (co_await describe_and_resolve(rest, file, res, d, false))
            throw std::runtime_error("describe of " + res.failed_object +
                                     " failed: " + d.summary());
        if (!res.errors.empty())
            co_return 0;
        for (const auto& m : res.mappings)
            ms.push_back(mapping_now{&m, {}, std::nullopt});
        co_await read_tables(cfg.database_url, cfg.schema, ms);
        co_await read_org(rest, ms, org);
        co_return 0;
    }());
    for (const auto& w : res.warnings)
        std::cerr << "warning: " << w << "\n";
    for (const auto& e : res.errors)
        std::cerr << "error: " << e << "\n";
    for (const auto& e : org.topic_errors) // a run would fail on these
        std::cerr << "error: PushTopics: " << e << "\n";
    if (!res.errors.empty() || !org.topic_errors.empty())
        return 2;
    plan_settings ps;
    ps.schema = cfg.schema;
    ps.bulk_threshold = cfg.bulk_threshold;
    std::cout << plan_report(ps, ms, org);
    return 0;
}

} // namespace

int cmd_mappings_add(const settings& s, const cli& c) {
    return add(s, c);
}

int cmd_mappings_plan(const settings& s, const cli& c) {
    return plan(s, c);
}

} // namespace sfbridge::bridge
