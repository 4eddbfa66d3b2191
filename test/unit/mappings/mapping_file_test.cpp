#include "mappings/mapping_file.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace sfbridge::mappings;

namespace {
std::string fixture(const char* name) {
    std::ifstream in(std::string(SFBRIDGE_FIXTURES_DIR) + "/mappings/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
mapping_file read_ok(const std::string& text) {
    std::vector<std::string> errors;
    auto f = read_mapping_file(text, errors);
    INFO((errors.empty() ? "" : errors.front()));
    REQUIRE(f);
    return *f;
}
std::vector<std::string> read_fail(const std::string& text) {
    std::vector<std::string> errors;
    CHECK_FALSE(read_mapping_file(text, errors));
    CHECK_FALSE(errors.empty());
    return errors;
}
} // namespace

TEST_CASE("the real exports load, write canonically and read back the same", "[unit][mappings]") {
    for (const char* name :
         {"heroku-connect-export-2016.json", "heroku-connect-export-with-indexes.json"}) {
        INFO(name);
        const auto f = read_ok(fixture(name));
        REQUIRE_FALSE(f.mappings.empty());
        const std::string canonical = write_mapping_file(f);
        const auto again = read_ok(canonical);
        CHECK(again == f);
        CHECK(write_mapping_file(again) == canonical); // byte-identical
    }
    const auto old = read_ok(fixture("heroku-connect-export-2016.json"));
    CHECK(old.version == 1);
    REQUIRE(old.connection);
    CHECK(*old.connection->as_object()->at("organization_id").as_string() == "00DE0000000L6REMA0");
    std::vector<std::string> names;
    for (const auto& m : old.mappings) {
        names.push_back(m.object_name);
        CHECK(m.access == access_mode::read_only);
        CHECK(m.fields.count("Id"));
        CHECK(m.fields.count("SystemModstamp"));
        CHECK_FALSE(m.indexes); // the 2016 format had none
    }
    CHECK(names.size() == 3);
    const auto with_indexes = read_ok(fixture("heroku-connect-export-with-indexes.json"));
    REQUIRE(with_indexes.mappings[0].indexes);
    CHECK(with_indexes.mappings[0].indexes->at("Id") == true);
    CHECK(with_indexes.mappings[0].indexes->at("SystemModstamp") == false);
}

TEST_CASE("canonical output sorts mappings, fields and keys whatever the input order",
          "[unit][mappings]") {
    const std::string a = R"({"mappings":[
        {"object_name":"Lead","config":{"fields":{"Email":{},"Id":{}},"access":"read_only","sf_notify_enabled":false,"sf_polling_seconds":600,"sf_max_daily_api_calls":30000}},
        {"config":{"sf_polling_seconds":120,"access":"read_write","fields":{"SystemModstamp":{},"Id":{},"Name":{}},"upsert_field":"Ext__c","sf_notify_enabled":true,"sf_max_daily_api_calls":30000},"object_name":"Account"}],
        "version":1})";
    const std::string b = R"({"version":1,"mappings":[
        {"object_name":"Account","config":{"upsert_field":"Ext__c","fields":{"Name":{},"Id":{},"SystemModstamp":{}},"sf_max_daily_api_calls":30000,"sf_notify_enabled":true,"access":"read_write","sf_polling_seconds":120}},
        {"object_name":"Lead","config":{"access":"read_only","sf_polling_seconds":600,"sf_notify_enabled":false,"sf_max_daily_api_calls":30000,"fields":{"Id":{},"Email":{}}}}]})";
    const std::string ca = write_mapping_file(read_ok(a));
    CHECK(ca == write_mapping_file(read_ok(b)));
    CHECK(ca.find("\"Account\"") < ca.find("\"Lead\""));
    CHECK(ca.find("\"Id\"") < ca.find("\"Name\""));
    CHECK(ca.back() == '\n');
}

TEST_CASE("unknown keys are kept at every level", "[unit][mappings]") {
    const std::string text = R"({"version":1,"future_top":{"x":[1,2.5,"y",null,true]},
        "connection":{"app_name":"a","features":{"poll_db_no_merge":true},"api_version":"50.0"},
        "mappings":[{"object_name":"Contact","state":"DATA_SYNCED",
          "config":{"access":"read_write","sf_notify_enabled":true,"sf_polling_seconds":600,"sf_max_daily_api_calls":30000,
                    "fields":{"Id":{},"Email":{"future_option":1}},"revision":7,"applied_at":"2020-12-11T14:40:54Z"}}]})";
    const auto f = read_ok(text);
    CHECK(f.extra.count("future_top"));
    CHECK(f.mappings[0].extra.count("state"));
    CHECK(*f.mappings[0].extra_config.at("revision").as_int() == 7);
    const std::string out = write_mapping_file(f);
    for (const char* kept :
         {"future_top", "poll_db_no_merge", "DATA_SYNCED", "future_option", "applied_at", "2.5"})
        CHECK(out.find(kept) != std::string::npos);
    CHECK(read_ok(out) == f);
}

TEST_CASE("an unknown key's whole number written with a fraction keeps its type",
          "[unit][mappings]") {
    // Found by fuzzing: 300.0 was written "300" and read back as an integer.
    const auto f = read_ok(R"({"version":1,"mappings":[{"object_name":"Contact","config":{)"
                           R"("access":"read_only","sf_notify_enabled":false,)"
                           R"("sf_polling_seconds":600,"sf_max_dAily_api_calls":300.0,)"
                           R"("fields":{"Id":{}}}}]})");
    const std::string out = write_mapping_file(f);
    CHECK(out.find("300.0") != std::string::npos);
    CHECK(read_ok(out) == f);
}

TEST_CASE("bad mapping files are refused with errors that name the mapping and key",
          "[unit][mappings]") {
    CHECK(read_fail("{nope")[0].find("not valid JSON") != std::string::npos);
    CHECK(read_fail("[]")[0] == "the mapping file must be a JSON object");
    CHECK(read_fail(R"({"version":1})")[0] == "the mapping file: has no \"mappings\" array");
    CHECK(read_fail(R"({"version":2,"mappings":[]})")[0].find("only version 1 exists") !=
          std::string::npos);
    auto e = read_fail(
        R"({"mappings":[{"object_name":"Lead","config":{"access":"write","fields":{"Id":{}}}}]})");
    CHECK(
        e[0] ==
        "mappings[0] (Lead).config.access: must be \"read_only\" or \"read_write\", not \"write\"");
    e = read_fail(
        R"({"mappings":[{"object_name":"Lead","config":{"sf_polling_seconds":"often","fields":{"Id":{}}}}]})");
    CHECK(e[0] == "mappings[0] (Lead).config.sf_polling_seconds: must be a whole number");
    e = read_fail(R"({"mappings":[{"object_name":"Lead","config":{"fields":{}}}]})");
    CHECK(e[0].find("mappings[0] (Lead).config.fields: is missing or empty") == 0);
    e = read_fail(R"({"mappings":[{"config":{"fields":{"Id":{}}}}]})");
    CHECK(e[0] == "mappings[0]: has no object_name");
    e = read_fail(
        R"({"mappings":[{"object_name":"Lead","config":{"fields":{"Id":{}},"indexes":{"Id":{"unique":"yes"}}}}]})");
    CHECK(e[0] == "mappings[0] (Lead).config.indexes.Id: must be {\"unique\": true|false}");
    e = read_fail(
        R"({"mappings":[{"object_name":"Lead","config":{"fields":{"Id":{}}}},{"object_name":"lead","config":{"fields":{"Id":{}}}}]})");
    CHECK(e[0] == "mappings[1] (lead): maps the same object as mappings[0]");
}
