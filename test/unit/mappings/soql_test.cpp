// SOQL generation, checked against sfsim's parser: an implementation that shares no code with
// mappings/, so a quoting mistake cannot be tested against itself.
#include "mappings/soql.hpp"
#include "sim/soql.hpp"
#include "test/support/sim_schema.hpp"

#include <catch2/catch.hpp>

namespace gen = sfbridge::mappings::soql;
using namespace sfbridge;

namespace {
sim::soql::query parsed(const std::string& text) {
    sim::soql::query q;
    sim::soql::error err;
    INFO(text << "\n" << err.message);
    REQUIRE(sim::soql::parse(text, test::sim_objects(), q, err));
    return q;
}
sim::record contact(std::initializer_list<std::pair<const char*, sim::value>> fields) {
    const auto& o = *test::sim_objects().find("Contact");
    sim::record r;
    for (const auto& [name, v] : fields)
        r.set(o.index_of(name), v);
    return r;
}
} // namespace

TEST_CASE("string literals survive any content", "[unit][mappings][soql]") {
    for (const std::string nasty :
         {"O'Neil", "back\\slash", "quote\"d", "line\nbreak\ttab", "' OR Name != '", "\\'; DROP"}) {
        INFO(nasty);
        const std::string id = "003D000000IRFmaIAH";
        const auto q = parsed("SELECT Id FROM Contact WHERE LastName = " + gen::quote(nasty));
        CHECK(sim::soql::matches(q, contact({{"LastName", nasty}})));
        CHECK_FALSE(sim::soql::matches(q, contact({{"LastName", std::string("other")}})));
    }
}

TEST_CASE("a SystemModstamp window selects what changed in it, in order",
          "[unit][mappings][soql]") {
    std::string error;
    const auto text = gen::modstamp_window("Contact", {"LastName", "Email", "lastname"},
                                           1709251199000, 1709251200500, error);
    REQUIRE(text);
    CHECK(*text == "SELECT Id, LastName, Email FROM Contact WHERE SystemModstamp >= "
                   "2024-02-29T23:59:59.000Z AND SystemModstamp <= 2024-03-01T00:00:00.500Z "
                   "ORDER BY SystemModstamp ASC, Id ASC");
    const auto q = parsed(*text);
    CHECK(sim::soql::matches(
        q, contact({{"SystemModstamp", std::string("2024-03-01T00:00:00.000Z")}})));
    CHECK_FALSE(sim::soql::matches(
        q, contact({{"SystemModstamp", std::string("2024-03-01T00:00:00.501Z")}})));
    CHECK(gen::datetime(0) == "1970-01-01T00:00:00.000Z");
    CHECK(gen::datetime(951782400000) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("Id IN batches and PushTopic queries", "[unit][mappings][soql]") {
    std::string error;
    std::vector<std::string> ids;
    for (int i = 0; i < 450; ++i)
        ids.push_back("003D000000IRF" + std::to_string(100 + i));
    const auto batches = gen::by_ids("Contact", {"Email"}, ids, 200, error);
    REQUIRE(batches);
    REQUIRE(batches->size() == 3);
    for (const auto& b : *batches)
        (void)parsed(b);
    CHECK((*batches)[2].find("'003D000000IRF549'") != std::string::npos);
}

TEST_CASE("names that are not API names are refused", "[unit][mappings][soql]") {
    std::string error;
    CHECK_FALSE(gen::select_all("Contact WHERE 1=1", {"Id"}, error));
    CHECK_THAT(error, Catch::Contains("not an object API name"));
    CHECK_FALSE(gen::select_all("Contact", {"Email, (SELECT Id FROM Cases)"}, error));
    CHECK_THAT(error, Catch::Contains("not a field API name (on Contact)"));
    CHECK(gen::is_api_name("Geo__Latitude__s"));
    CHECK_FALSE(gen::is_api_name("_x"));
    CHECK_FALSE(gen::is_api_name(""));
}
