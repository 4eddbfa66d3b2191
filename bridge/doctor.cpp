// `sfbridge doctor` (bridge/doctor.hpp): reads what the checks need from Postgres and
// Salesforce, one step after another, and prints bridge/doctor_checks' judgements.
#include "bridge/doctor.hpp"

#include "bridge/doctor_checks.hpp"
#include "bridge/provision.hpp"
#include "bridge/run_sync.hpp"
#include "bridge/sf_clock.hpp"
#include "core/calendar.hpp"
#include "mappings/ddl.hpp"
#include "mappings/describe.hpp"
#include "pg/connection.hpp"
#include "salesforce/push_topics.hpp"
#include "salesforce/rest_client.hpp"

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

namespace sfbridge::bridge {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using doctor::finding;
using doctor::level;

namespace {

// One statement: the role, its rights, the schema and hstore. Identifiers as parameters.
constexpr const char* facts_sql = R"sql(
SELECT current_user, current_database(), current_setting('server_version'), r.rolsuper,
       has_database_privilege(current_database(), 'CREATE'), n.oid IS NOT NULL,
       n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'CREATE')
           AND has_schema_privilege(n.oid, 'USAGE'),
       (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'r'
           AND NOT pg_has_role(c.relowner, 'USAGE')),
       (SELECT extversion FROM pg_extension WHERE extname = 'hstore'),
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hstore'),
       COALESCE((SELECT has_schema_privilege(p.oid, 'CREATE') FROM pg_namespace p
           WHERE p.nspname = 'public'), false),
       EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid
           AND c.relname = '_trigger_log' AND c.relkind = 'r'),
       (SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
           WHERE c.relnamespace = n.oid AND c.relkind = 'r' AND left(c.relname, 1) <> '_'),
       current_setting('server_version_num')::int
FROM pg_roles r LEFT JOIN pg_namespace n ON n.nspname = $1
WHERE r.rolname = current_user)sql";

asio::awaitable<void> check_database(const std::string& url, const std::string& schema,
                                     std::vector<finding>& out) {
    pg::connection conn(co_await asio::this_coro::executor);
    pg::diagnostics d;
    if (co_await conn.async_connect(url, d)) {
        out.push_back(
            {level::fail, "database", "unreachable: " + d.summary() + " (check DATABASE_URL)"});
        co_return;
    }
    pg::result r;
    if (co_await conn.async_query(facts_sql, pg::params(schema), r, d) || r.rows() != 1) {
        out.push_back(
            {level::fail, "database", "reading the role's rights failed: " + d.summary()});
        co_return;
    }
    doctor::database_facts f;
    const auto b = [&](int col) { return r.value(0, col) == "t"; };
    f.role = std::string(r.value(0, 0));
    f.database = std::string(r.value(0, 1));
    f.server_version = std::string(r.value(0, 2));
    f.superuser = b(3);
    f.may_create_in_database = b(4);
    f.schema_exists = b(5);
    f.may_create_in_schema = b(6);
    f.tables_owned_by_others = std::stoll(std::string(r.value(0, 7)));
    if (!r.is_null(0, 8))
        f.hstore_version = std::string(r.value(0, 8));
    f.hstore_available = b(9);
    f.may_create_in_public = b(10);
    f.has_trigger_log = b(11);
    std::stringstream tables{std::string(r.value(0, 12))};
    for (std::string t; std::getline(tables, t, ',');)
        f.tables.push_back(t);
    f.may_set_replication_role = f.superuser;
    f.server_version_num = std::stoi(std::string(r.value(0, 13)));
    if (!f.superuser && f.server_version_num >= 150000) {
        pg::result p; // GRANT SET ON PARAMETER came with PostgreSQL 15
        if (!co_await conn.async_query(
                "SELECT has_parameter_privilege('session_replication_role', 'SET')", pg::params(),
                p, d) &&
            p.rows() == 1)
            f.may_set_replication_role = p.value(0, 0) == "t";
    }
    for (auto& x : doctor::judge_database(f, schema))
        out.push_back(std::move(x));
}

// A GET on the instance; false (with a FAIL line) when it failed.
asio::awaitable<bool> get(salesforce::rest_client& rest, const std::string& target,
                          const std::string& check, salesforce::rest_response& r,
                          std::vector<finding>& out) {
    salesforce::diagnostics d;
    if (co_await rest.async_call(http::verb::get, target, std::string(), r, d)) {
        out.push_back({level::fail, check, "GET " + target + " failed: " + d.summary()});
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> check_push_topics(salesforce::rest_client& rest, const resolution& res,
                                        int limit, std::vector<finding>& out) {
    std::set<std::string> needed;
    for (const auto& m : res.mappings)
        if (m.config.sf_notify_enabled && !m.options.change_data_capture)
            needed.insert(salesforce::push_topic_name(m.object_name));
    if (needed.empty())
        co_return;
    std::string describe;
    salesforce::diagnostics d;
    if (co_await rest.describe("PushTopic", describe, d)) {
        out.push_back({level::fail, "PushTopics",
                       "describe of PushTopic failed: " + d.summary() +
                           " (the user needs API Enabled and Streaming "
                           "API)"});
        co_return;
    }
    std::string error;
    const auto parsed = mappings::parse_describe(describe, error);
    const bool createable = parsed && parsed->createable;
    std::set<std::string> existing;
    const auto ec = co_await rest.query(
        "SELECT Id, Name FROM PushTopic", false, 0,
        [&](salesforce::query_page& page) -> asio::awaitable<boost::system::error_code> {
            for (const auto& rec : page.records)
                if (const auto* name = rec.get("Name"))
                    existing.insert(name->raw);
            co_return boost::system::error_code{};
        },
        d);
    if (ec) {
        out.push_back({level::fail, "PushTopics", "listing PushTopics failed: " + d.summary()});
        co_return;
    }
    out.push_back(doctor::judge_push_topics(existing, needed, createable, limit));
}

// Reading the selection needs "View Setup and Configuration", which sfbridge itself does not:
// an answer refused is a WARN, not a FAIL that would stop a working set-up.
asio::awaitable<void> check_cdc(salesforce::rest_client& rest, const std::vector<std::string>& cdc,
                                std::vector<finding>& out) {
    salesforce::rest_response r;
    salesforce::diagnostics d;
    if (co_await rest.async_call(http::verb::get,
                                 rest.data_path("/tooling/query?q=SELECT+SelectedEntity+FROM+"
                                                "PlatformEventChannelMember+WHERE+EventChannel+%3D+"
                                                "%27ChangeEvents%27"),
                                 std::string(), r, d)) {
        out.push_back({level::warn, "CDC",
                       "the CDC selection could not be read (" + d.summary() +
                           "): check Setup > Change Data Capture for " +
                           std::to_string(cdc.size()) +
                           " object(s), or give the user View Setup and Configuration"});
        co_return;
    }
    for (auto& x : doctor::judge_cdc(r.body, cdc))
        out.push_back(std::move(x));
}

asio::awaitable<void> check_salesforce(const settings& s, const mappings::mapping_file& file,
                                       int push_topic_limit, std::vector<finding>& out) {
    salesforce::rest_client rest(co_await asio::this_coro::executor, s.salesforce_config());
    salesforce::diagnostics d;
    if (co_await rest.async_login(d)) {
        out.push_back({level::fail, "Salesforce login",
                       d.summary() + " (check SALESFORCE_LOGIN_URL and the credentials)"});
        co_return;
    }
    out.push_back({level::ok, "Salesforce login", "logged in to " + rest.instance_url()});
    salesforce::rest_response r;
    if (co_await get(rest, "/services/data", "API version", r, out)) {
        out.push_back(
            doctor::judge_clock(clock_offset(calendar::now_ms(), r.headers[http::field::date])));
        out.push_back(doctor::judge_api_version(r.body, rest.api_version()));
    }
    resolution res;
    if (co_await describe_and_resolve(rest, file, res, d))
        out.push_back({level::fail, "mappings",
                       "describe of " + res.failed_object + " failed: " + d.summary()});
    for (const auto& e : res.errors)
        out.push_back({level::fail, "mappings", e});
    // A mapped field the describe lacks: `run` syncs without it (a warning there), but a set-up
    // check fails it, as the mapping does not do what its file says.
    std::vector<std::string> missing;
    for (const auto& m : res.mappings)
        for (const auto& name : m.missing_fields) {
            missing.push_back("mapping " + m.object_name + ": field " + name + ":");
            out.push_back({level::fail, "mappings",
                           missing.back() + " not in " + m.object_name +
                               "'s describe (deleted, or hidden from the integration user by "
                               "field-level security): sfbridge would sync without it"});
        }
    for (const auto& w : res.warnings)
        if (std::none_of(missing.begin(), missing.end(),
                         [&](const std::string& p) { return w.starts_with(p); }))
            out.push_back({level::warn, "mappings", w});
    if (res.errors.empty() && res.failed_object.empty() && missing.empty())
        out.push_back({level::ok, "mappings",
                       std::to_string(file.mappings.size()) +
                           " mapping(s): the integration user sees every mapped object and field"});
    co_await check_push_topics(rest, res, push_topic_limit, out);
    std::vector<std::string> cdc;
    bool push_topics = false;
    for (const auto& m : res.mappings) {
        if (m.config.sf_notify_enabled && m.options.change_data_capture)
            cdc.push_back(m.object_name);
        push_topics = push_topics || (m.config.sf_notify_enabled && !m.options.change_data_capture);
    }
    if (!cdc.empty()) // (no co_await after &&: GCC 12)
        co_await check_cdc(rest, cdc, out);
    if (co_await get(rest, rest.data_path("/limits"), "API limit", r, out))
        for (auto& x : doctor::judge_limits(r.body, push_topics, !cdc.empty()))
            out.push_back(std::move(x));
}

} // namespace

int cmd_doctor(const settings& s, const cli& c) {
    const auto file = load_mappings(c);
    const std::string schema = option_or_setting(c, "schema", s, "SFBRIDGE_SCHEMA", "salesforce");
    if (!mappings::ddl::is_valid_schema_name(schema))
        throw std::runtime_error("bad schema name " + schema);
    const int limit = static_cast<int>(number_option(c, "push-topic-limit", 50));
    std::vector<finding> out;
    // A setting that cannot be used (no DATABASE_URL, an unreadable key file) is a FAIL line of
    // its section; the other section still runs.
    const auto section = [&](const char* check, auto&& body) {
        try {
            body();
        } catch (const std::exception& e) {
            out.push_back({level::fail, check, e.what()});
        }
    };
    section("database", [&] {
        const auto url = s.database_url();
        asio::io_context io(1);
        run_sync(io, [&]() -> asio::awaitable<int> {
            co_await check_database(url, schema, out);
            co_return 0;
        }());
    });
    section("Salesforce login", [&] {
        asio::io_context io(1); // a context of its own: run_sync leaves the first stopped
        run_sync(io, [&]() -> asio::awaitable<int> {
            co_await check_salesforce(s, file, limit, out);
            co_return 0;
        }());
    });
    std::cout << doctor::report(out) << std::flush;
    return doctor::exit_code(out);
}

} // namespace sfbridge::bridge
