// Names over Postgres's 63 bytes (issue 15, item 9): a relationship column whose name Postgres
// would cut is shortened the same way in the DDL and in every lookup, so writes through it work
// and a restart finds the table as it left it.
#include "mappings/types.hpp"
#include "test/support/writeback_support.hpp"

using namespace sfbridge;
using namespace sfbridge::test;
namespace asio = boost::asio;

namespace {
const std::string long_key = "A_Very_Long_External_Identifier_Field_Name_For_Tests__c";

// Sim_Everything__c with one more external id, named as long as Salesforce allows.
std::string parent_with_long_key() {
    return sim_everything_as("Sim_Everything__c", "Sim Everything", "a01", [](auto& fields) {
        for (const auto& f : fields)
            if (*f.as_object()->at("name").as_string() == "External_Id__c") {
                auto copy = *f.as_object();
                copy["name"] = long_key;
                fields.push_back(copy);
                break;
            }
    });
}

std::string mappings_with_long_reference() {
    return R"({"version":1,"mappings":[
      {"object_name":"Sim_Everything__c","config":{"access":"read_write","sf_notify_enabled":true,
       "sf_polling_seconds":600,"fields":{"Id":{},"Name":{},")" +
           long_key + R"(":{}}}},
      {"object_name":"Sim_Child__c","config":{"access":"read_write","sf_notify_enabled":true,
       "sf_polling_seconds":600,"fields":{"Id":{},"Name":{},"Parent__c":{},"Parent__r__)" +
           long_key + R"(":{}}}}]})";
}
} // namespace

TEST_CASE("a relationship column over 63 bytes is shortened alike in the DDL and every lookup",
          "[bridge][writeback]") {
    const std::string parent_schema = parent_with_long_key();
    harness h([&](sim::simulator_config& c) {
        c.schema_files.push_back(parent_schema);
        c.schema_files.push_back(std::string(SFBRIDGE_FIXTURES_DIR) + "/sim/Sim_Child__c.json");
    });
    run(
        h.f.io,
        [&]() -> asio::awaitable<void> {
            pg::connection app(h.f.io.get_executor());
            co_await must_connect(app);
            const auto cfg = h.config(mappings_with_long_reference());
            co_await h.start(cfg);
            const std::string column =
                mappings::pg_identifier(mappings::column_name("Parent__r__" + long_key));
            REQUIRE(column.size() == 63);
            const std::string parent = h.schema + ".sim_everything__c";
            const std::string kid = h.schema + ".sim_child__c";
            const std::string key_column = mappings::column_name(long_key);
            co_await must_exec(app, "BEGIN; INSERT INTO " + parent + " (name, " + key_column +
                                        ") VALUES ('Parent', 'P-1'); INSERT INTO " + kid +
                                        " (name, " + mappings::quote_identifier(column) +
                                        ") VALUES ('Kid', 'P-1'); COMMIT");
            const std::string left =
                "SELECT count(*)::text FROM " + h.schema + "._trigger_log WHERE state <> 'SUCCESS'";
            bool ok = co_await eventually(app, left, "0");
            REQUIRE(ok);
            auto p = co_await must_query(app, "SELECT sfid FROM " + parent);
            const std::string parent_id(p.value(0, 0));
            ok = co_await eventually(app, "SELECT parent__c FROM " + kid + " WHERE name = 'Kid'",
                                     parent_id);
            CHECK(ok);
            // A restart finds the column where it put it (it once failed every start).
            co_await h.stop();
            co_await h.start(cfg);
            co_await must_exec(app, "INSERT INTO " + kid + " (name, " +
                                        mappings::quote_identifier(column) +
                                        ") VALUES ('Second', 'P-1')");
            ok = co_await eventually(app, left, "0");
            CHECK(ok);
            ok = co_await eventually(app, "SELECT parent__c FROM " + kid + " WHERE name = 'Second'",
                                     parent_id);
            CHECK(ok);
            co_await h.stop();
        }(),
        std::chrono::seconds(180));
}
