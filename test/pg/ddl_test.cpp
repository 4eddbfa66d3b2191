#include "mappings/ddl.hpp"
#include "mappings/resolve.hpp"
#include "test/support/describes.hpp"
#include "test/support/pg_env.hpp"

#include <boost/asio/io_context.hpp>

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
mappings::resolved_mapping everything(mappings::access_mode access,
                                      std::vector<std::string> fields) {
    mappings::mapping m;
    m.object_name = "Sim_Everything__c";
    m.access = access;
    for (auto& f : fields)
        m.fields.emplace(std::move(f), mappings::json_value::object{});
    m.upsert_field = "External_Id__c";
    m.fields.emplace("External_Id__c", mappings::json_value::object{});
    std::vector<std::string> errors, warnings;
    auto r = mappings::resolve_mapping(m, describe_of(m.object_name), errors, warnings);
    INFO((errors.empty() ? "" : errors.front()));
    REQUIRE(r);
    return *r;
}

asio::awaitable<std::vector<std::string>> columns_of(pg::connection& c, const std::string& schema,
                                                     const std::string& table) {
    auto r =
        co_await must_query(c, mappings::ddl::existing_columns_query(), pg::params(schema, table));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i)
        out.emplace_back(r.value(i, 0));
    co_return out;
}

// The schema with one mapping's table, built the way sfbridge builds it.
asio::awaitable<void> build(pg::connection& c, const std::string& schema,
                            const mappings::resolved_mapping& m) {
    co_await must_exec(c, mappings::ddl::setup_schema(schema));
    auto cols = co_await columns_of(c, schema, m.table);
    co_await must_exec(c, mappings::ddl::ensure_table(schema, m, cols));
}

struct log_row {
    std::string action, state, sfid, values, old;
};

asio::awaitable<std::vector<log_row>> trigger_log(pg::connection& c, const std::string& schema) {
    auto r = co_await must_query(
        c, "SELECT action, state, coalesce(sfid, ''), coalesce(\"values\", ''), "
           "coalesce(old, '') FROM " +
               mappings::quote_identifier(schema) + "._trigger_log ORDER BY id");
    std::vector<log_row> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({std::string(r.value(i, 0)), std::string(r.value(i, 1)),
                       std::string(r.value(i, 2)), std::string(r.value(i, 3)),
                       std::string(r.value(i, 4))});
    co_return out;
}

asio::awaitable<std::string> scalar(pg::connection& c, const std::string& sql) {
    auto r = co_await must_query(c, sql);
    REQUIRE(r.rows() == 1);
    co_return r.is_null(0, 0) ? std::string("NULL") : std::string(r.value(0, 0));
}

// GCC 12 miscompiles braced temporaries inside coroutines: build them out here.
mappings::resolved_mapping with_text_index(mappings::resolved_mapping m) {
    m.config.indexes = std::map<std::string, bool>{{"Text__c", false}};
    m.indexes.push_back(mappings::index_spec{"text__c", false});
    return m;
}

asio::awaitable<void> expect_scalar(pg::connection& c, const std::string& sql,
                                    const std::string& expected) {
    const std::string v = co_await scalar(c, sql);
    INFO(sql);
    CHECK(v == expected);
}
} // namespace

TEST_CASE("generated DDL creates the Heroku Connect objects and is idempotent", "[pg][ddl]") {
    asio::io_context io;
    run(io, [&]() -> asio::awaitable<void> {
        pg::connection c(io.get_executor());
        co_await must_connect(c);
        const std::string schema = unique_name("ddl");
        auto m = everything(mappings::access_mode::read_write,
                            {"Name", "Text__c", "Number__c", "DateTime__c", "Location__c",
                             "MultiPicklist__c", "LongTextArea__c"});
        m.config.indexes = std::map<std::string, bool>{};
        co_await build(c, schema, m);
        co_await build(c, schema, m); // a second run changes nothing and does not fail

        auto cols = co_await columns_of(c, schema, "sim_everything__c");
        // Heroku Connect's order: mapped fields, then sfid, id, _hc_lastop, _hc_err.
        REQUIRE(cols.size() >= 4);
        CHECK(std::vector<std::string>(cols.end() - 4, cols.end()) ==
              std::vector<std::string>{"sfid", "id", "_hc_lastop", "_hc_err"});
        for (const char* col :
             {"name", "text__c", "number__c", "datetime__c", "location__latitude__s",
              "systemmodstamp", "isdeleted", "external_id__c"})
            CHECK(std::find(cols.begin(), cols.end(), col) != cols.end());

        const std::string types = co_await scalar(
            c, "SELECT string_agg(column_name || ':' || data_type || coalesce('(' || "
               "character_maximum_length || ')', ''), ',' ORDER BY column_name) FROM "
               "information_schema.columns WHERE table_schema = '" +
                   schema + "' AND table_name = 'sim_everything__c'");
        for (const char* t : {"name:character varying(80)", "number__c:double precision",
                              "datetime__c:timestamp without time zone",
                              "multipicklist__c:character varying(4099)", "longtextarea__c:text",
                              "sfid:character varying(18)", "_hc_lastop:character varying(32)",
                              "_hc_err:text", "id:integer", "isdeleted:boolean"})
            CHECK(types.find(t) != std::string::npos);

        const std::string indexes = co_await scalar(
            c, "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE "
               "schemaname = '" +
                   schema + "'");
        for (const char* i :
             {"hcu_idx_sim_everything__c_sfid", "hc_idx_sim_everything__c_systemmodstamp",
              "hcu_idx_sim_everything__c_external_id__c", "sim_everything__c_pkey",
              "_trigger_log_pkey", "_trigger_log_idx_state_id", "_trigger_log_idx_state_table_name",
              "_trigger_log_idx_created_at", "_trigger_log_archive_idx_state_table_name",
              "_trigger_log_archive_idx_record_id", "_sfbridge_trigger_log_archive_idx_sfid"})
            CHECK(indexes.find(i) != std::string::npos);
        const std::string triggers = co_await scalar(
            c, "SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger t JOIN pg_class r "
               "ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE "
               "NOT tgisinternal AND nspname = '" +
                   schema + "'");
        // Heroku Connect's, and sfbridge's own on the trigger log (a requeue wakes it).
        CHECK(triggers == "hc_sim_everything__c_logtrigger,hc_sim_everything__c_status_trigger,"
                          "sfbridge_tlog_requeue_trigger,sfbridge_tlog_requeued_trigger,"
                          "tlog_insert_trigger");
        co_await must_exec(c, "DROP SCHEMA " + mappings::quote_identifier(schema) + " CASCADE");
    }());
}

TEST_CASE("an app's writes to a read-write table are captured in _trigger_log", "[pg][ddl]") {
    asio::io_context io;
    run(io, [&]() -> asio::awaitable<void> {
        pg::connection c(io.get_executor());
        co_await must_connect(c);
        const std::string schema = unique_name("capture");
        auto m = everything(mappings::access_mode::read_write, {"Name", "Number__c"});
        co_await build(c, schema, m);
        const std::string t = mappings::quote_identifier(schema) + ".sim_everything__c";

        // LISTEN on the schema's channel: the notify trigger must wake it.
        pg::connection listener(io.get_executor());
        co_await must_connect(listener);
        co_await must_exec(listener, "LISTEN " + mappings::quote_identifier(
                                                     mappings::ddl::trigger_log_channel(schema)));

        co_await must_exec(c, "INSERT INTO " + t + " (name, number__c) VALUES ('Acme', 1.5)");
        pg::notification n;
        pg::diagnostics diag;
        auto ec = co_await listener.async_receive_notification(n, diag, std::chrono::seconds(5));
        REQUIRE_FALSE(ec);
        CHECK(n.channel == schema + ".hc_trigger_log");
        CHECK(n.payload == "ping");
        co_await expect_scalar(c, "SELECT _hc_lastop FROM " + t, "PENDING");

        co_await must_exec(c, "UPDATE " + t + " SET name = 'Acme 2'");
        co_await must_exec(c, "UPDATE " + t + " SET name = 'Acme 2'"); // no change: IGNORE
        co_await must_exec(c, "DELETE FROM " + t);                     // no sfid: IGNORE
        auto log = co_await trigger_log(c, schema);
        REQUIRE(log.size() == 4);
        CHECK(log[0].action == "INSERT");
        CHECK(log[0].state == "NEW");
        CHECK(log[0].values.find("\"name\"=>\"Acme\"") != std::string::npos);
        CHECK(log[0].values.find("\"number__c\"=>\"1.5\"") != std::string::npos);
        CHECK(log[0].values.find("_hc_lastop") == std::string::npos);
        CHECK(log[1].action == "UPDATE");
        CHECK(log[1].state == "NEW");
        CHECK(log[1].values == "\"name\"=>\"Acme 2\"");
        CHECK(log[1].old.find("\"name\"=>\"Acme\"") != std::string::npos);
        CHECK(log[2].state == "IGNORE");
        CHECK(log[3].action == "DELETE");
        CHECK(log[3].state == "IGNORE");

        // A row that came from Salesforce (sfbridge's session: xmlbinary = hex) is not captured
        // and is marked SYNCED; the app's delete of it is captured with its sfid.
        co_await must_exec(c, "SET xmlbinary = hex");
        co_await must_exec(c, "INSERT INTO " + t +
                                  " (sfid, name) VALUES ('a00000000000001AAA', 'From SF')");
        co_await expect_scalar(c, "SELECT _hc_lastop FROM " + t, "SYNCED");
        co_await must_exec(c, "UPDATE " + t + " SET _hc_lastop = 'INSERTED'");
        co_await expect_scalar(c, "SELECT _hc_lastop FROM " + t, "INSERTED");
        log = co_await trigger_log(c, schema);
        CHECK(log.size() == 4);
        co_await must_exec(c, "SET xmlbinary = base64");
        co_await must_exec(c, "DELETE FROM " + t);
        log = co_await trigger_log(c, schema);
        REQUIRE(log.size() == 5);
        CHECK(log[4].action == "DELETE");
        CHECK(log[4].state == "NEW");
        CHECK(log[4].sfid == "a00000000000001AAA");

        // The documented retry helper.
        co_await must_exec(c, "INSERT INTO " + t + " (name) VALUES ('Retry')");
        const std::string id = co_await scalar(
            c, "SELECT " + mappings::quote_identifier(schema) +
                   ".hc_capture_insert_from_row(hstore(x.*), 'sim_everything__c') FROM " + t +
                   " x WHERE name = 'Retry'");
        CHECK(id != "NULL");
        co_await expect_scalar(c,
                               "SELECT action || state FROM " + mappings::quote_identifier(schema) +
                                   "._trigger_log WHERE id = " + id,
                               "INSERTNEW");
        co_await must_exec(c, "DROP SCHEMA " + mappings::quote_identifier(schema) + " CASCADE");
    }());
}

TEST_CASE("writes to a read-only table are logged as READONLY", "[pg][ddl]") {
    asio::io_context io;
    run(io, [&]() -> asio::awaitable<void> {
        pg::connection c(io.get_executor());
        co_await must_connect(c);
        const std::string schema = unique_name("readonly");
        auto m = everything(mappings::access_mode::read_only, {"Name"});
        co_await build(c, schema, m);
        const std::string t = mappings::quote_identifier(schema) + ".sim_everything__c";
        co_await must_exec(c, "INSERT INTO " + t + " (name) VALUES ('x')");
        co_await must_exec(c, "DELETE FROM " + t);
        auto log = co_await trigger_log(c, schema);
        REQUIRE(log.size() == 2);
        CHECK(log[0].state == "READONLY");
        CHECK(log[1].state == "READONLY");
        co_await must_exec(c, "DROP SCHEMA " + mappings::quote_identifier(schema) + " CASCADE");
    }());
}

TEST_CASE("adding a field migrates an existing table with its data", "[pg][ddl]") {
    asio::io_context io;
    run(io, [&]() -> asio::awaitable<void> {
        pg::connection c(io.get_executor());
        co_await must_connect(c);
        const std::string schema = unique_name("migrate");
        const auto narrow = everything(mappings::access_mode::read_write, {"Name"});
        co_await build(c, schema, narrow);
        const std::string t = mappings::quote_identifier(schema) + ".sim_everything__c";
        co_await must_exec(c, "SET xmlbinary = hex");
        co_await must_exec(c, "INSERT INTO " + t +
                                  " (sfid, name) VALUES ('a00000000000001AAA', 'Kept')");
        co_await must_exec(c, "SET xmlbinary = base64");

        const auto wider = with_text_index(
            everything(mappings::access_mode::read_write, {"Name", "Text__c", "Date__c"}));
        co_await build(c, schema, wider);
        auto cols = co_await columns_of(c, schema, "sim_everything__c");
        CHECK(std::find(cols.begin(), cols.end(), "text__c") != cols.end());
        CHECK(std::find(cols.begin(), cols.end(), "date__c") != cols.end());
        co_await expect_scalar(c,
                               "SELECT name || '/' || sfid || '/' || coalesce(text__c, 'null') "
                               "FROM " +
                                   t,
                               "Kept/a00000000000001AAA/null");
        co_await expect_scalar(c,
                               "SELECT count(*) FROM pg_indexes WHERE schemaname = '" + schema +
                                   "' AND indexname = 'hc_idx_sim_everything__c_text__c'",
                               "1");
        // The triggers see the new column.
        co_await must_exec(c, "UPDATE " + t + " SET text__c = 'new'");
        auto log = co_await trigger_log(c, schema);
        REQUIRE(log.size() == 1);
        CHECK(log[0].values == "\"text__c\"=>\"new\"");
        co_await must_exec(c, "DROP SCHEMA " + mappings::quote_identifier(schema) + " CASCADE");
    }());
}

TEST_CASE("schema names that could escape their quoting are refused", "[unit][ddl]") {
    CHECK(mappings::ddl::is_valid_schema_name("salesforce"));
    CHECK(mappings::ddl::is_valid_schema_name("_org2"));
    CHECK_FALSE(mappings::ddl::is_valid_schema_name(""));
    CHECK_FALSE(mappings::ddl::is_valid_schema_name("2org"));
    CHECK_FALSE(mappings::ddl::is_valid_schema_name("a'b"));
    CHECK_FALSE(mappings::ddl::is_valid_schema_name("a$$b"));
    CHECK(mappings::ddl::quote_literal("it's") == "'it''s'");
}
